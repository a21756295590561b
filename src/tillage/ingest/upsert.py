"""Upsert canonical rows on their natural keys, set-based, inside the caller's transaction.

For each table: references are resolved from natural keys to ids; rows whose key is new are
inserted with :func:`~tillage.store.bulk.insert_frame`; rows whose key exists are bulk-loaded
into a temporary staging table and applied with one ``UPDATE … FROM`` that touches only rows
whose values differ (``IS NOT`` on SQLite, ``IS DISTINCT FROM`` on PostgreSQL), so the row count
it reports is the number of rows really changed. References to the same table (a rep's manager,
a product's successor, a renewed contract) are applied after the table's rows exist.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from sqlalchemy import Connection, text

from tillage.ingest.transform import column_kind, referenced_table
from tillage.store.bulk import insert_frame

CHUNK_ROWS = 200_000


@dataclass
class UpsertCounts:
    """What an upsert did to one table."""

    inserted: int = 0
    updated: int = 0
    unchanged: int = 0


class KeyIds:
    """Natural key → id of each table, read from the store when first needed."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self._maps: dict[str, pd.Series] = {}

    def of(self, table: str) -> pd.Series:
        if table not in self._maps:
            rows = self.connection.execute(text(f"SELECT key, id FROM {table}")).all()
            keys = [r[0] for r in rows]
            self._maps[table] = pd.Series([r[1] for r in rows], index=keys, dtype="int64")
        return self._maps[table]

    def forget(self, table: str) -> None:
        self._maps.pop(table, None)


def _distinct(dialect: str, left: str, right: str) -> str:
    op = "IS NOT" if dialect == "sqlite" else "IS DISTINCT FROM"
    return f"{left} {op} {right}"


def update_from_frame(connection: Connection, table: str, frame: pd.DataFrame) -> int:
    """Set columns of existing rows (``frame`` has ``id`` and the columns); returns rows changed."""
    columns = [c for c in frame.columns if c != "id"]
    if frame.empty or not columns:
        return 0
    stage = f"_tillage_stage_{table}"
    dialect = connection.dialect.name
    if dialect == "sqlite":
        connection.execute(text(f"CREATE TEMP TABLE {stage} AS SELECT * FROM {table} WHERE 0"))
    else:
        connection.execute(
            text(f"CREATE TEMP TABLE {stage} ON COMMIT DROP AS SELECT * FROM {table} WITH NO DATA")
        )
    insert_frame(connection, table, frame, into=stage)
    assignments = ", ".join(f"{c} = s.{c}" for c in columns)
    changed = " OR ".join(_distinct(dialect, f"{table}.{c}", f"s.{c}") for c in columns)
    result = connection.execute(
        text(
            f"UPDATE {table} SET {assignments} FROM {stage} AS s "
            f"WHERE {table}.id = s.id AND ({changed})"
        )
    )
    connection.execute(text(f"DROP TABLE {stage}"))
    return int(result.rowcount or 0)


def upsert_table(
    connection: Connection, table: str, frame: pd.DataFrame, ids: KeyIds
) -> UpsertCounts:
    """Insert new keys and update changed rows of ``table``; foreign keys hold natural keys."""
    counts = UpsertCounts()
    if frame.empty:
        return counts
    frame = frame.copy()
    self_refs = []
    for column in frame.columns:
        if column != "key" and column_kind(table, column) == "ref":
            target = referenced_table(table, column)
            if target == table:
                self_refs.append(column)
                continue
            frame[column] = frame[column].map(ids.of(target)).astype("Int64")
    existing = ids.of(table)
    known = frame["key"].isin(existing.index).to_numpy()
    new = frame[~known]
    plain = new.drop(columns=self_refs)
    for start in range(0, len(plain), CHUNK_ROWS):  # chunks bound the memory of huge files
        counts.inserted += insert_frame(connection, table, plain.iloc[start : start + CHUNK_ROWS])
    ids.forget(table)
    if self_refs:
        mapping = ids.of(table)
        for column in self_refs:
            frame[column] = frame[column].map(mapping).astype("Int64")
    old = frame[known]
    if len(old):
        old = old.assign(id=old["key"].map(existing).to_numpy()).drop(columns=["key"])
        counts.updated = update_from_frame(connection, table, old)
        counts.unchanged = len(old) - counts.updated
    if self_refs:
        new = frame[~known]
        refs = new[self_refs].assign(id=new["key"].map(ids.of(table)).to_numpy())
        update_from_frame(connection, table, refs.dropna(subset=self_refs, how="all"))
    return counts
