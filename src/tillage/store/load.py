"""Replace the whole canonical data set in one transaction (used by the demo company)."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import pandas as pd
from sqlalchemy import Engine, text

from tillage.errors import StoreError
from tillage.store.bulk import insert_frame
from tillage.store.schema import CANONICAL_TABLES
from tillage.store.statistics import refresh_statistics


def replace_all(
    engine: Engine,
    tables: Mapping[str, pd.DataFrame],
    *,
    on_table: Callable[[str, int], None] | None = None,
) -> dict[str, int]:
    """Delete every canonical row and every snapshot, then insert ``tables``; all or nothing.

    ``tables`` maps canonical table names to frames; ``on_table(name, rows)`` is called after
    each table is inserted (for progress display). Returns rows inserted per table.
    """
    unknown = sorted(set(tables) - set(CANONICAL_TABLES))
    if unknown:
        raise StoreError(f"not canonical tables: {unknown}")
    counts: dict[str, int] = {}
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM account_scores"))
        connection.execute(text("DELETE FROM snapshots"))
        if connection.dialect.name == "postgresql":
            names = ", ".join(CANONICAL_TABLES)
            connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for name in reversed(CANONICAL_TABLES):
                connection.execute(text(f"DELETE FROM {name}"))
        for name in CANONICAL_TABLES:
            frame = tables.get(name)
            if frame is None:
                continue
            counts[name] = insert_frame(connection, name, frame)
            if on_table is not None:
                on_table(name, counts[name])
    refresh_statistics(engine, counts)  # the queries that follow plan with the rows counted
    return counts
