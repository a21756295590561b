"""A small demo company, loaded and scored once per test session, for the surface tests.

The store holds the demo users (``tillage.demo.users``): ``admin``, ``manager`` (team 1),
``rep`` (team 1), ``rep2`` (another team), ``success`` (a CSM on account teams outside team 1),
``marketing`` and ``finance``. Logging in costs an argon2 hash, so each user logs
in once per session (:func:`session_cookies`); ``client_as(role)`` gives a client already logged in.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pandas as pd
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import URL, create_engine, make_url, text
from sqlalchemy.orm import Session

from tillage.config import Settings
from tillage.demo import DemoConfig, generate
from tillage.demo.users import DEMO_PASSWORDS, create_demo_users
from tillage.server import create_app
from tillage.services.scoring import run_scoring
from tillage.serving.auth import SESSION_COOKIE
from tillage.store.database import make_engine, migrate
from tillage.store.load import replace_all
from tillage.store.snapshots import latest_snapshot, write_snapshot

from ..once import built_once

N_ACCOUNTS = 300  # tests/api/test_accounts.py relies on this size
TEST_SECRET = "test-only-7Qx2Vb9Lm4Kp1Zs8Wd3Rf6Tg0Hy5Nj"
LOGINS = tuple(DEMO_PASSWORDS)  # admin, manager, rep, rep2, success, marketing, finance
DEFAULT_PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def login(client: TestClient, user: str, password: str | None = None) -> TestClient:
    """Log ``client`` in through the login form, as a browser would."""
    client.get("/login")
    response = client.post(
        "/login",
        data={
            "login": user,
            "password": password or DEMO_PASSWORDS[user],
            "csrf_token": client.cookies.get("tillage_login_csrf") or "",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return client


BOTH_DATABASES = {
    "test_admission",
    "test_permissions",
    "test_accounts",
    "test_imports",
    "test_listing",
    "test_plans_reviews",
    "test_page_cache",
}
"""Modules whose tests run on SQLite and on PostgreSQL (the rest on SQLite only)."""


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "demo_settings" not in metafunc.fixturenames:
        return
    if metafunc.module.__name__.rsplit(".", 1)[-1] in BOTH_DATABASES:
        metafunc.parametrize(
            "demo_settings",
            ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
            indirect=True,
        )


def _fill(settings: Settings, scored: Settings | None = None) -> Settings:
    """Load the demo company and users, and score it (or copy the scores of ``scored``, a
    store of the same company: the PostgreSQL store takes the SQLite store's snapshot)."""
    engine = make_engine(settings.resolved_database_url)
    migrate(engine)
    config = DemoConfig(n_accounts=N_ACCOUNTS, seed=7)
    replace_all(engine, generate(config).tables)
    created_at = dt.datetime(2026, 10, 1, 9, 0)
    if scored is None:
        run_scoring(engine, config.as_of, created_at=created_at, label="test")
    else:
        source = make_engine(scored.resolved_database_url)
        scores, deals, actions = (
            pd.read_sql_table(table, source).drop(columns=["id", "snapshot_id"], errors="ignore")
            for table in ("account_scores", "snapshot_deals", "snapshot_actions")
        )
        with Session(source) as session:
            models = latest_snapshot(session).models
        source.dispose()
        write_snapshot(
            engine,
            as_of=config.as_of,
            created_at=created_at,
            scores=scores,
            models=models,
            label="test",
            deals=deals,
            actions=actions,
        )
    create_demo_users(engine, now=dt.datetime(2026, 10, 1, 0, 0))
    engine.dispose()
    return settings


def _settings(data_dir: Path, url: str | None = None) -> Settings:
    return Settings(
        data_dir=data_dir, database_url=url, language="ja", secret_key=TEST_SECRET, _env_file=None
    )


#: In the folder of the PostgreSQL demo store built once per run: the name of its database, which
#: every test session copies (``CREATE DATABASE … TEMPLATE``) and the run's end drops
#: (``pytest_sessionfinish`` in tests/conftest.py).
PG_TEMPLATE_FILE = "postgres-database"


@pytest.fixture(scope="session")
def demo_stores(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Settings]]:
    """The demo store per database, built on first use: ``stores.get("sqlite" | "postgres")``.

    The PostgreSQL one is a fresh database on ``TILLAGE_TEST_POSTGRES_URL``, dropped at the end:
    a copy of a database filled once per run (``stores.pg_copy(prefix)`` makes another).
    """
    admin_url = make_url(os.environ.get("TILLAGE_TEST_POSTGRES_URL", DEFAULT_PG_ADMIN_URL))
    made: dict[str, Settings] = {}
    pg_names: list[str] = []
    template: list[Path] = []

    def fill_template(folder: Path) -> None:
        name = f"tillage_test_api_tpl_{uuid.uuid4().hex[:12]}"
        _admin_sql(admin_url, f'CREATE DATABASE "{name}"')
        (folder / PG_TEMPLATE_FILE).write_text(name)  # dropped at the end even if the fill fails
        url = admin_url.set(database=name).render_as_string(hide_password=False)
        _fill(_settings(folder, url), stores.get("sqlite"))

    class Stores(dict):  # type: ignore[type-arg]
        def get(self, backend: str) -> Settings:  # type: ignore[override]
            if backend == "sqlite" and backend not in made:
                # scored once per run; each xdist worker works on its own copy
                made[backend] = _settings(
                    built_once(tmp_path_factory, "demo-sqlite", lambda d: _fill(_settings(d)))
                )
            elif backend not in made:
                url = self.pg_copy("tillage_test_api")
                made[backend] = _settings(tmp_path_factory.mktemp(f"demo-{backend}"), url)
            return made[backend]

        def pg_copy(self, prefix: str) -> str:
            """The URL of a new PostgreSQL database holding the demo store, dropped at the end."""
            if not template:
                template.append(built_once(tmp_path_factory, "demo-postgres", fill_template))
            source = (template[0] / PG_TEMPLATE_FILE).read_text()
            name = f"{prefix}_{uuid.uuid4().hex[:12]}"
            _admin_sql(admin_url, f'CREATE DATABASE "{name}" TEMPLATE "{source}"')
            pg_names.append(name)
            return admin_url.set(database=name).render_as_string(hide_password=False)

    stores = Stores()
    yield stores
    for name in pg_names:
        _drop_database(admin_url, name)
    if template and os.environ.get("PYTEST_XDIST_WORKER") is None:  # built for this session
        _drop_database(admin_url, (template[0] / PG_TEMPLATE_FILE).read_text())


def _drop_database(admin_url: URL, name: str) -> None:
    _admin_sql(
        admin_url,
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        f"WHERE datname = '{name}' AND pid <> pg_backend_pid()",
    )
    _admin_sql(admin_url, f'DROP DATABASE IF EXISTS "{name}"')


def _admin_sql(url: URL, statement: str) -> None:
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(statement))
    finally:
        admin.dispose()


@pytest.fixture
def demo_settings(request: pytest.FixtureRequest, demo_stores: dict[str, Settings]) -> Settings:
    """Settings of a store holding a scored 300-account demo company and the demo users (on
    SQLite; in :data:`BOTH_DATABASES` modules once on SQLite and once on PostgreSQL)."""
    return demo_stores.get(getattr(request, "param", "sqlite"))


_APPS: dict[str, FastAPI] = {}


def app_for(settings: Settings) -> FastAPI:
    """The app on ``settings``, built once per test process: FastAPI builds a route's
    dependencies on the first request that matches it (and those of the routes matched before
    it), ~0.1 s per app, which an app per test paid again in every test. Each
    :class:`TestClient` entered on it runs its start-up and shut-down anew (the shut-down only
    closes the pooled connections)."""
    key = settings.model_dump_json()
    if key not in _APPS:
        _APPS[key] = create_app(settings)
    return _APPS[key]


@pytest.fixture(scope="session")
def cookie_jars() -> dict[str, dict[str, str]]:
    """Session cookies per store URL, filled by :func:`session_cookies`."""
    return {}


@pytest.fixture
def session_cookies(
    demo_settings: Settings, cookie_jars: dict[str, dict[str, str]]
) -> dict[str, str]:
    """Each demo user's session cookie on this store, from one login per test session."""
    url = demo_settings.resolved_database_url
    if url not in cookie_jars:
        cookies = cookie_jars[url] = {}
        with TestClient(app_for(demo_settings)) as client:
            for user in LOGINS:
                client.cookies.clear()
                login(client, user)
                cookies[user] = client.cookies[SESSION_COOKIE]
    return cookie_jars[url]


@pytest.fixture
def client_as(
    demo_settings: Settings, session_cookies: dict[str, str]
) -> Iterator[Callable[[str | None], TestClient]]:
    """``client_as("rep")``: an in-process client logged in as that demo user (None: anonymous)."""
    opened: list[TestClient] = []

    def make(user: str | None) -> TestClient:
        client = TestClient(app_for(demo_settings))
        client.__enter__()
        opened.append(client)
        if user is not None:
            client.cookies.set(SESSION_COOKIE, session_cookies[user])
        return client

    yield make
    for client in opened:
        client.__exit__(None, None, None)


@pytest.fixture
def client(client_as: Callable[[str | None], TestClient]) -> TestClient:
    """An in-process HTTP client on the demo store, logged in as the admin."""
    return client_as("admin")


def sqlite_copy(source: Settings, path: Path) -> Settings:
    """A copy at ``path`` of the SQLite store of ``source``, and its settings."""
    make_engine(source.resolved_database_url).dispose()
    shutil.copy(source.resolved_database_url.removeprefix("sqlite:///"), path)
    return source.model_copy(update={"database_url": f"sqlite:///{path}"})


@pytest.fixture
def own_store(
    demo_stores: dict[str, Settings], tmp_path: Path
) -> Iterator[tuple[Settings, Callable[[], TestClient]]]:
    """A copy of the SQLite demo store that a test may change, and a client on it (admin)."""
    settings = sqlite_copy(demo_stores.get("sqlite"), tmp_path / "own.db")
    opened: list[TestClient] = []

    def admin() -> TestClient:
        client = TestClient(create_app(settings))
        client.__enter__()
        opened.append(client)
        return login(client, "admin")

    yield settings, admin
    for client in opened:
        client.__exit__(None, None, None)
