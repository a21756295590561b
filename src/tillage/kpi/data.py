"""Open the canonical tables the KPIs read on an analytical engine.

The feature layer's loaders are reused (:func:`tillage.features.engine.store_tables`,
:func:`~tillage.features.engine.duckdb_backend`); the KPIs read a few columns more than the
features (owners, teams, acquisition cost, NPS, success stories), listed in :data:`KPI_COLUMNS`.
On PostgreSQL the expressions run inside the store.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from ibis.backends import BaseBackend

from tillage.errors import ConfigurationError
from tillage.features.engine import (
    ENGINES,
    duckdb_backend,
    feature_backend,
    spark_backend,
    store_tables,
)

#: The columns of each canonical table the KPIs read.
KPI_COLUMNS: dict[str, tuple[str, ...]] = {
    "teams": ("id", "key", "name"),
    "reps": ("id", "key", "name", "team_id"),
    "accounts": ("id", "name", "owner_id", "acquisition_cost"),
    "contracts": (
        "id",
        "account_id",
        "start_date",
        "end_date",
        "term_months",
        "recurring_amount",
        "renewed_from_id",
    ),
    "orders": ("account_id", "order_number", "order_date", "amount"),
    "opportunities": ("account_id", "type", "created_date", "close_date", "is_closed", "is_won"),
    "activities": ("account_id", "type", "occurred_at"),
    "nps_responses": ("account_id", "responded_on", "score"),
    "success_stories": ("account_id", "published_on"),
}


@contextmanager
def kpi_backend(
    database_url: str, engine: str = "duckdb", *, spark: Any | None = None
) -> Iterator[BaseBackend]:
    """An ibis backend holding :data:`KPI_COLUMNS` of the store (``duckdb``, ``postgres``,
    ``spark``)."""
    if engine not in ENGINES:
        raise ConfigurationError(f"unknown engine {engine!r}: choose one of {', '.join(ENGINES)}")
    if engine == "postgres":
        with feature_backend(database_url, "postgres") as con:
            yield con
        return
    with store_tables(database_url, KPI_COLUMNS) as tables:
        con = duckdb_backend(tables) if engine == "duckdb" else spark_backend(tables, spark)
    try:
        yield con
    finally:
        if engine != "spark":
            con.disconnect()
