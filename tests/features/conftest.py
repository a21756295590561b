"""Fixtures of the feature tests: stores filled once per module (Spark: tests/conftest.py)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import create_engine, make_url, text

from tillage.store.database import make_engine, migrate
from tillage.store.load import replace_all

from ..postgres import drop_database

DEFAULT_PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def _pg_admin_url() -> str:
    import os

    return os.environ.get("TILLAGE_TEST_POSTGRES_URL", DEFAULT_PG_ADMIN_URL)


@contextmanager
def filled_store(kind: str, directory: Path, tables: Mapping[str, pd.DataFrame]) -> Iterator[str]:
    """A migrated store (``sqlite`` file or fresh ``postgres`` database) holding ``tables``."""
    if kind == "sqlite":
        url = f"sqlite:///{directory / f'store-{uuid.uuid4().hex[:8]}.db'}"
        admin = name = None
    else:
        admin_url = make_url(_pg_admin_url())
        name = f"tillage_test_{uuid.uuid4().hex[:12]}"
        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        url = admin_url.set(database=name).render_as_string(hide_password=False)
    engine = make_engine(url)
    try:
        migrate(engine)
        replace_all(engine, tables)
        engine.dispose()
        yield url
    finally:
        engine.dispose()
        if admin is not None:
            with admin.connect() as connection:
                drop_database(connection, name)
            admin.dispose()


@pytest.fixture(scope="module")
def store_factory(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Callable[[str, Mapping[str, pd.DataFrame]], str]]:
    """``make(kind, tables) -> url``: stores that live until the end of the module."""
    from contextlib import ExitStack

    directory = tmp_path_factory.mktemp("stores")
    with ExitStack() as stack:
        yield lambda kind, tables: stack.enter_context(filled_store(kind, directory, tables))
