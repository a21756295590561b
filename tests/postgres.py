"""Test databases on the PostgreSQL server of ``TILLAGE_TEST_POSTGRES_URL``."""

from __future__ import annotations

from sqlalchemy import Connection, text


def drop_database(connection: Connection, name: str) -> None:
    """Drop the database ``name`` (if it exists) on ``connection``, an AUTOCOMMIT connection to
    another database of the server, ending the sessions still open on it first (a test's engine
    pool, a served app's)."""
    connection.execute(
        text(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = :name AND pid <> pg_backend_pid()"
        ),
        {"name": name},
    )
    connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
