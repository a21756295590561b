"""Shared fixtures: stores on SQLite and on a real PostgreSQL server.

PostgreSQL is reached at ``TILLAGE_TEST_POSTGRES_URL`` (default: the local server on
127.0.0.1:5432 as user postgres). Each test that asks for a store gets a fresh, empty database,
dropped afterwards. `scripts/test` starts the server when it is installed but not running.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings
from sqlalchemy import Engine, create_engine, make_url, text

from tillage.features.sql_cache import CACHE_ENV
from tillage.store.database import make_engine, migrate

from .postgres import drop_database

DEFAULT_PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def pg_admin_url() -> str:
    return os.environ.get("TILLAGE_TEST_POSTGRES_URL", DEFAULT_PG_ADMIN_URL)


def _fresh_pg_database(template: str | None = None) -> Iterator[str]:
    """A new PostgreSQL database's URL (a copy of ``template`` when given); dropped after."""
    admin_url = make_url(pg_admin_url())
    name = f"tillage_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    copy = f' TEMPLATE "{template}"' if template else ""
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"{copy}'))
    except Exception as exc:  # pragma: no cover - environment problem, reported loudly
        admin.dispose()
        pytest.fail(
            f"PostgreSQL is not reachable at {admin_url.render_as_string(hide_password=True)}: "
            f"{exc}. Start it (scripts/test does) or set TILLAGE_TEST_POSTGRES_URL."
        )
    try:
        yield admin_url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            drop_database(connection, name)
        admin.dispose()


@pytest.fixture
def pg_database_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database's URL; dropped after the test."""
    yield from _fresh_pg_database()


class MigratedStores:
    """Per test process, an empty store migrated to the newest schema, made on first use: a
    SQLite file and a PostgreSQL database that the stores of :func:`engine` copy (migrating
    from nothing costs 0.15 s on SQLite and about a second on PostgreSQL, a copy a few ms and
    0.1 s; migrating the copy again finds nothing to do)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._sqlite: Path | None = None
        self._postgres: Iterator[str] | None = None
        self.postgres_name: str | None = None

    def sqlite(self) -> Path:
        if self._sqlite is None:
            path = self.folder / "migrated.db"
            eng = make_engine(f"sqlite:///{path}")
            migrate(eng)
            eng.dispose()
            self._sqlite = path
        return self._sqlite

    def postgres(self) -> str:
        if self.postgres_name is None:
            self._postgres = _fresh_pg_database()
            url = next(self._postgres)
            eng = make_engine(url)
            migrate(eng)
            eng.dispose()  # a template takes no open connection
            self.postgres_name = make_url(url).database
        assert self.postgres_name is not None
        return self.postgres_name

    def close(self) -> None:
        if self._postgres is not None:
            self._postgres.close()  # drops the template


@pytest.fixture(scope="session")
def migrated_stores(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MigratedStores]:
    stores = MigratedStores(tmp_path_factory.mktemp("migrated"))
    yield stores
    stores.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """An empty store's URL, once on SQLite and once on PostgreSQL; for a test that also asks
    for :func:`engine` (which migrates it), a copy of a store already migrated."""
    migrated = "engine" in request.fixturenames
    if request.param == "sqlite":
        path = tmp_path / "tillage.db"
        if migrated:
            shutil.copy(request.getfixturevalue("migrated_stores").sqlite(), path)
        yield f"sqlite:///{path}"
    elif migrated:
        yield from _fresh_pg_database(request.getfixturevalue("migrated_stores").postgres())
    else:
        yield from _fresh_pg_database()


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """An engine on an empty store migrated to the newest schema (SQLite and PostgreSQL)."""
    eng = make_engine(database_url)
    migrate(eng)
    yield eng
    eng.dispose()


#: Fixtures that start something heavy once per process: the tests that use one share an xdist
#: group (``--dist loadgroup``, as ``scripts/test`` runs them), so it starts in few workers.
#: The browser tests run in two groups, each worker running its own server on its own copy of
#: the demo store (built once per run, tests/web/conftest.py), so both workers share the browser
#: work. The Spark tests (minutes of query planning) lead the group of the lighter browser
#: modules, :data:`WITH_SPARK`; the others form the group "browser". xdist hands out the largest
#: groups first: the worker that runs the Spark tests reaches its browser tests when the other has
#: built the demo store, instead of waiting for that build.
SPARK_GROUP = "spark+browser"
WITH_SPARK = {
    f"tests/web/test_{name}.py"
    for name in ("data", "kpis", "one_on_one", "plans", "review", "settings", "staging")
}


@pytest.hookimpl(tryfirst=True)  # before xdist's worker reads the groups off the items
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        fixtures = getattr(item, "fixturenames", ())
        module = item.nodeid.split("::", 1)[0]
        if "spark" in fixtures or ("server" in fixtures and module in WITH_SPARK):
            group = SPARK_GROUP
        elif "server" in fixtures:
            group = "browser"
        else:
            # a module's tests stay in one worker, so a module-scoped fixture (often a demo
            # store, scored) is built once per run, not once in each worker that runs a test
            group = module.removeprefix("tests/").removesuffix(".py")
        item.add_marker(pytest.mark.xdist_group(group))


_SQL_CACHE = pytest.StashKey[str]()


def pytest_configure(config: pytest.Config) -> None:
    """One folder of compiled SQL for the run (``features.sql_cache``), made by the run's first
    process and inherited by its workers and by every command, server and job they start: a
    query compiled in one process is read by the others, and nothing kept from another run (or
    from the user's own cache folder) is read. Removed at the end of the run."""
    if os.environ.get("PYTEST_XDIST_WORKER") is None:
        folder = tempfile.mkdtemp(prefix="tillage-sql-")
        os.environ[CACHE_ENV] = folder
        config.stash[_SQL_CACHE] = folder


def pytest_unconfigure(config: pytest.Config) -> None:
    folder = config.stash.get(_SQL_CACHE, None)
    if folder is not None:
        shutil.rmtree(folder, ignore_errors=True)


def pytest_sessionfinish(session: pytest.Session) -> None:
    """At the end of an xdist run (in its controller), drop the PostgreSQL databases that the
    workers copied their stores from (built once per run: tests/api/conftest.py)."""
    if os.environ.get("PYTEST_XDIST_WORKER") is not None:
        return
    factory = getattr(session.config, "_tmp_path_factory", None)  # as pytest-xdist reads it
    if factory is None or factory._basetemp is None:  # no temporary folder: nothing was built
        return
    names = [p.read_text() for p in factory.getbasetemp().glob("once-*/postgres-database")]
    if not names:
        return
    admin = create_engine(make_url(pg_admin_url()), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            for name in names:
                drop_database(connection, name)
    finally:
        admin.dispose()


@pytest.fixture(autouse=True, scope="session")
def _cheap_password_hashes() -> Iterator[None]:
    """argon2id at its lowest cost in the tests' own processes, as Django advises for its test
    settings: a hash or a login costs a millisecond instead of 0.15 s, and the tests log in and
    create users some 400 times. What is tested is who may log in, not the work factor; the
    commands and servers the tests start as processes of their own hash at the real cost, which
    ``tests/store/test_users.py`` checks in a process of its own."""
    from pwdlib import PasswordHash
    from pwdlib.hashers.argon2 import Argon2Hasher

    from tillage.store import users

    real = users._hasher
    users._hasher = PasswordHash((Argon2Hasher(time_cost=1, memory_cost=1024, parallelism=1),))
    users.unknown_login_hash.cache_clear()
    yield
    users._hasher = real
    users.unknown_login_hash.cache_clear()


# Property tests are part of the deterministic suite: the same examples on every run and machine.
settings.register_profile("tillage", derandomize=True, deadline=None, print_blob=True)
settings.load_profile("tillage")


@pytest.fixture(scope="session")
def scored_demo(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """A 600-account demo company in SQLite, scored once per run (see tests/scored_demo.py);
    each xdist worker reads its own copy."""
    from tests.once import built_once
    from tests.scored_demo import build_scored_demo, open_scored_demo

    return open_scored_demo(built_once(tmp_path_factory, "demo", build_scored_demo))


@pytest.fixture(scope="session")
def small_scored_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The folder of a 100-account demo company scored twice (tests/small_store.py), built once
    per run; the tests copy it (:func:`tests.small_store.small_store_copy`)."""
    from tests.once import built_once
    from tests.small_store import build_small_store

    return built_once(tmp_path_factory, "small", build_small_store)


@pytest.fixture(scope="session")
def spark() -> Iterator[object]:
    """One local Spark session for the whole test run (two shuffle partitions). Its JVM compiles
    with the quick compiler only and collects garbage on one thread: the session lives a few
    minutes, spent planning queries, and the optimising compiler's threads took the CPU the
    other test worker needs (the Spark feature tests 41-48 -> 35-37 s, the Spark scoring run
    82 -> 71 s, alone on 2 cores)."""
    pytest.importorskip("pyspark")
    from tillage.features.engine import spark_session

    session = spark_session(
        {
            "spark.sql.shuffle.partitions": "2",
            "spark.driver.memory": "1g",
            "spark.driver.extraJavaOptions": "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC",
        }
    )
    yield session
    session.stop()
