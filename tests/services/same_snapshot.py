"""Compare the snapshots two scoring runs wrote, in two stores (of any engine)."""

from __future__ import annotations

import numpy as np
from sqlalchemy import Engine, select

from tillage.store.records import AccountScore, Snapshot, SnapshotAction, SnapshotDeal

#: The snapshot's row tables and the columns that order their rows.
TABLES = {
    AccountScore: ("account_id",),
    SnapshotDeal: ("opportunity_id",),
    SnapshotAction: ("account_id", "action", "rep_id"),
}


def snapshot_rows(engine: Engine, model: type, order: tuple[str, ...]) -> list[dict]:
    """Every row of ``model``'s table as typed Python values (amounts as floats, dates as
    dates, JSON parsed), without the ids, in ``order``."""
    table = model.__table__  # type: ignore[attr-defined]
    with engine.connect() as connection:
        rows = connection.execute(select(table).order_by(*(table.c[c] for c in order)))
        return [
            {k: v for k, v in row.items() if k not in ("id", "snapshot_id")}
            for row in rows.mappings()
        ]


def same(left: object, right: object, rtol: float = 1e-9) -> bool:
    """Equal, floats to ``rtol`` relative (also inside the JSON of reasons and records)."""
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(same(left[k], right[k], rtol) for k in left)
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(
            same(a, b, rtol) for a, b in zip(left, right, strict=True)
        )
    if isinstance(left, float) or isinstance(right, float):
        if left is None or right is None:
            return left is right
        return bool(np.isclose(left, right, rtol=rtol, atol=rtol, equal_nan=True))
    return left == right


def assert_same_snapshots(left: Engine, right: Engine) -> None:
    """The newest snapshot of each store holds the same rows and the same models record."""
    for model, order in TABLES.items():
        a, b = snapshot_rows(left, model, order), snapshot_rows(right, model, order)
        name = model.__tablename__  # type: ignore[attr-defined]
        assert len(a) == len(b) > 0, name
        assert a[0].keys() == b[0].keys(), name
        for column in a[0]:
            x, y = [r[column] for r in a], [r[column] for r in b]
            assert same(x, y), f"{name}.{column}"
    records = []
    for engine in (left, right):
        with engine.connect() as connection:
            records.append(connection.scalar(select(Snapshot.models)))
    assert same(*records)
