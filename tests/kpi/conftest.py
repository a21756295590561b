"""Fixtures of the KPI tests: the hand-made store, filled once per module and engine."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, make_url, text

from tillage.store.database import make_engine, migrate
from tillage.store.load import replace_all

from ..postgres import drop_database
from . import handmade

DEFAULT_PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def handmade_store(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, str]]:
    """``(database_url, engine)``: the hand-made store on SQLite (read by DuckDB) or PostgreSQL."""
    admin = name = None
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('kpi') / 'store.db'}"
        kind = "duckdb"
    else:
        admin_url = make_url(os.environ.get("TILLAGE_TEST_POSTGRES_URL", DEFAULT_PG_ADMIN_URL))
        name = f"tillage_test_{uuid.uuid4().hex[:12]}"
        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        url = admin_url.set(database=name).render_as_string(hide_password=False)
        kind = "postgres"
    engine = make_engine(url)
    try:
        migrate(engine)
        replace_all(engine, handmade.tables())
        engine.dispose()
        yield url, kind
    finally:
        engine.dispose()
        if admin is not None:
            with admin.connect() as connection:
                drop_database(connection, name)
            admin.dispose()
