"""Engines, sessions and migrations for the canonical store.

The embedded default is one SQLite file (``<data_dir>/tillage.db``), opened in WAL mode with
foreign keys enforced; PostgreSQL is selected by setting a ``postgresql+psycopg://`` URL. The
schema is created and upgraded only through Alembic migrations (:func:`migrate`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from tillage.config import Settings
from tillage.errors import SchemaOutOfDate, StoreError

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
#: The newest migration (``migrations/versions``), which every command checks the store
#: against without loading Alembic and the migration scripts (0.2-0.3 s of each start);
#: ``tests/store/test_migrations.py`` checks it is Alembic's head.
HEAD_REVISION = "0015"


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def make_engine(url: str, *, pool_size: int = 5) -> Engine:
    """Create an engine for ``url``; for SQLite, create the parent directory and set pragmas.

    A server database keeps ``pool_size`` connections open and opens up to as many more for a
    burst (closed again when handed back).
    """
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=pool_size, max_overflow=pool_size)


def engine_from_settings(settings: Settings) -> Engine:
    """The engine for the configured store (embedded SQLite unless a database URL is set), with a
    connection kept for each of the server's threads (:attr:`Settings.server_threads`) and two
    more (a streamed export, a background job)."""
    return make_engine(settings.resolved_database_url, pool_size=settings.server_threads + 2)


def alembic_config(engine: Engine) -> Config:
    """An Alembic configuration bound to ``engine`` (no alembic.ini needed)."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = engine
    return config


def migrate(engine: Engine, revision: str = "head") -> None:
    """Upgrade the store's schema to ``revision`` (default: the newest). A store already at the
    newest revision is left as it is without loading Alembic and the migration scripts (what
    Alembic would find too, in a tenth of the time: one read of ``alembic_version``)."""
    try:
        if revision in ("head", HEAD_REVISION) and current_revision(engine) == HEAD_REVISION:
            return
        from alembic import command

        command.upgrade(alembic_config(engine), revision)
    except OperationalError as exc:
        raise StoreError(
            f"cannot reach the database at {engine.url.render_as_string(hide_password=True)}: "
            f"{exc.orig}. Check TILLAGE_DATABASE_URL or that the server is running."
        ) from exc


def current_revision(engine: Engine) -> str | None:
    """The Alembic revision the store is at, or ``None`` for an empty database: the row of
    Alembic's ``alembic_version`` table, read as Alembic reads it (the migrations are one line
    of revisions, so the table holds one row; were there several, they are named together and
    match no head)."""
    with engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return None
        found = connection.execute(text("SELECT version_num FROM alembic_version")).scalars()
        revisions = sorted(found)
    return " ".join(revisions) if revisions else None


def head_revision() -> str:
    """The newest Alembic revision shipped with this version of tillage, from the migration
    scripts (:data:`HEAD_REVISION` is what the commands check)."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config(make_engine("sqlite://")))
    head = script.get_current_head()
    assert head is not None
    return head


def ensure_current(engine: Engine) -> None:
    """Raise :class:`StoreError` unless the store's schema is at the newest revision."""
    revision = current_revision(engine)
    if revision != HEAD_REVISION:
        raise SchemaOutOfDate(revision, HEAD_REVISION)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """A session factory bound to ``engine``."""
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A transactional session: commits on success, rolls back on any exception."""
    with session_factory(engine)() as session, session.begin():
        yield session
