"""Connect the analytical engine (ibis) to the canonical store.

Feature expressions are written once in ibis and executed where the data lives: inside SQLite for
the embedded default, inside PostgreSQL for a shared server. (DuckDB and Spark execution arrive
with the features stage proper.)
"""

from __future__ import annotations

import ibis
from ibis.backends import BaseBackend
from sqlalchemy import make_url

from tillage.errors import ConfigurationError


def connect(database_url: str) -> BaseBackend:
    """An ibis backend reading the store at ``database_url`` (SQLite file or PostgreSQL)."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        if not url.database:
            raise ConfigurationError("the SQLite store needs a file path, not an in-memory URL")
        return ibis.sqlite.connect(url.database)
    if url.get_backend_name() == "postgresql":
        return ibis.postgres.connect(
            host=url.host or "localhost",
            port=url.port or 5432,
            user=url.username,
            password=url.password,
            database=url.database,
        )
    raise ConfigurationError(
        f"unsupported database {url.get_backend_name()!r}: use a SQLite file or PostgreSQL"
    )
