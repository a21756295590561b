"""Segment migration: where each account's portfolio segment went between two snapshots.

Each account of either snapshot is one move ``from → to``; an account missing from a snapshot
has the segment ``-`` there (``-`` → X: entered, X → ``-``: left). When neither snapshot records
a segment, the zones are compared instead (``field`` says which).
"""

from __future__ import annotations

import pandas as pd
from pydantic import BaseModel

NONE = "-"


class MigrationCell(BaseModel):
    """The accounts that moved from one segment to another, with their LTV (company currency)
    in the first and the second snapshot."""

    from_segment: str
    to_segment: str
    accounts: int
    ltv_from: float
    ltv_to: float


class SegmentMigration(BaseModel):
    """The migration matrix as a list of non-empty cells, and its totals."""

    field: str
    cells: list[MigrationCell]
    stayed: int
    moved: int
    entered: int
    left: int


def segment_migration(start: pd.DataFrame, end: pd.DataFrame) -> SegmentMigration:
    """The migration between two snapshots' scores (``account_id``, ``segment``, ``zone``,
    ``ltv``)."""
    field = "segment" if start["segment"].notna().any() or end["segment"].notna().any() else "zone"
    a = start[["account_id", field, "ltv"]].rename(
        columns={field: "from_segment", "ltv": "ltv_from"}
    )
    b = end[["account_id", field, "ltv"]].rename(columns={field: "to_segment", "ltv": "ltv_to"})
    moves = a.merge(b, on="account_id", how="outer")
    for col in ("from_segment", "to_segment"):
        moves[col] = moves[col].astype("object").where(moves[col].notna(), NONE).astype(str)
    for col in ("ltv_from", "ltv_to"):
        moves[col] = pd.to_numeric(moves[col], errors="coerce").fillna(0.0)
    grouped = (
        moves.groupby(["from_segment", "to_segment"], sort=True)
        .agg(
            accounts=("account_id", "size"), ltv_from=("ltv_from", "sum"), ltv_to=("ltv_to", "sum")
        )
        .reset_index()
    )
    entered = moves["from_segment"] == NONE
    left = moves["to_segment"] == NONE
    same = (moves["from_segment"] == moves["to_segment"]) & ~entered
    return SegmentMigration(
        field=field,
        cells=[MigrationCell(**row) for row in grouped.to_dict("records")],
        stayed=int(same.sum()),
        moved=int((~same & ~entered & ~left).sum()),
        entered=int(entered.sum()),
        left=int(left.sum()),
    )
