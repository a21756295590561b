"""How accounts moved between two snapshots: the migration matrix and the moved accounts, over
the accounts a caller may see (the service behind ``/api/v1/diffs``).

Only the accounts the caller may see are counted (:func:`tillage.store.diffs.snapshot_pair`
takes the caller's filter), so the matrix's cells sum to the visible accounts scored in either
snapshot, and the moved accounts are visible ones.

An answer is kept in the page cache (:mod:`tillage.services.page_cache`) per pair of snapshots,
cut, limit and caller's filter, until the store changes (a new snapshot, an import, …): the
diff of two snapshots reads and joins every account's scores of both. The warm step computes
the company's diff of the newest two snapshots (the default cut and limit).
"""

from __future__ import annotations

from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from tillage.kpi.review import optional_float
from tillage.services.page_cache import cached_model, filter_key
from tillage.services.snapshots import SnapshotOut, snapshot_out
from tillage.store.access import AccountFilter
from tillage.store.diffs import (
    listed_details,
    migration_matrix,
    move_drivers,
    reason_changes,
    snapshot_pair,
)
from tillage.store.schema import Snapshot
from tillage.store.snapshots import complete_snapshot

DEFAULT_LIMIT = 500
"""Moved accounts listed when the caller does not say."""


class DiffCell(BaseModel):
    """Accounts in ``from_value`` (snapshot A) and ``to_value`` (snapshot B) and their LTV (in
    B; in A for accounts no longer scored), company currency; ``-`` means not scored."""

    from_value: str
    to_value: str
    accounts: int
    ltv: float


class MoveDriver(BaseModel):
    """An axis that crossed its threshold: ``value`` (LTV) or ``growth`` (expected expansion
    value), from and to (company currency), against the threshold each snapshot used."""

    code: str
    from_value: float = Field(alias="from")
    to_value: float = Field(alias="to")
    threshold_a: float
    threshold_b: float

    model_config = {"populate_by_name": True}


class MovedAccount(BaseModel):
    """An account whose cell (or zone) changed, with what drove the move."""

    account_id: int
    key: str | None
    name: str | None
    from_value: str
    to_value: str
    ltv_a: float | None
    ltv_b: float | None
    drivers: list[MoveDriver]
    reasons_added: list[str]
    reasons_dropped: list[str]


class DiffOut(BaseModel):
    """The migration between two snapshots by ``by`` (segment or zone): the matrix, the number
    of visible accounts scored in either, and the moved accounts (the first ``limit``, largest
    LTV first; ``moved`` counts them all)."""

    from_snapshot: SnapshotOut
    to_snapshot: SnapshotOut
    by: str
    accounts: int
    moved: int
    cells: list[DiffCell]
    moved_accounts: list[MovedAccount]


def snapshot_diff(
    session: Session,
    visible: AccountFilter,
    from_id: int,
    to_id: int,
    by: str = "segment",
    limit: int = DEFAULT_LIMIT,
) -> DiffOut:
    """The migration matrix and the moved accounts between snapshots ``from_id`` and ``to_id``
    by ``by`` (segment or zone), over the ``visible`` accounts; kept in the page cache."""
    snaps = complete_snapshot(session, from_id), complete_snapshot(session, to_id)
    params = {
        "from": from_id,
        "to": to_id,
        "by": by,
        "limit": limit,
        "visible": filter_key(visible),
    }
    return cached_model(
        session, "diff", params, DiffOut, lambda: _diff(session, visible, snaps, by, limit)
    )


def _diff(
    session: Session,
    visible: AccountFilter,
    snaps: tuple[Snapshot, Snapshot],
    by: str,
    limit: int,
) -> DiffOut:
    """The diff of ``snaps`` over the ``visible`` accounts, computed."""
    from_id, to_id = snaps[0].id, snaps[1].id
    pair, thresholds = snapshot_pair(session, from_id, to_id, visible=visible)
    cells = migration_matrix(pair, by)
    moved = move_drivers(pair, thresholds, by)
    size = moved["ltv_b"].astype(float).fillna(moved["ltv_a"].astype(float)).fillna(0.0)
    moved = moved.assign(_size=size).sort_values("_size", ascending=False, kind="stable")
    listed = moved.head(limit)
    details = listed_details(session, from_id, to_id, [int(i) for i in listed.index])
    listed = reason_changes(listed.join(details))
    return DiffOut(
        from_snapshot=snapshot_out(snaps[0]),
        to_snapshot=snapshot_out(snaps[1]),
        by=by,
        accounts=len(pair),
        moved=len(moved),
        cells=[
            DiffCell(
                from_value=str(c["from"]),
                to_value=str(c["to"]),
                accounts=c["accounts"],
                ltv=float(c["ltv"]),
            )
            for c in cells.to_dict(orient="records")
        ],
        moved_accounts=[
            MovedAccount(
                account_id=int(account_id),
                key=row["key"],
                name=row["name"],
                from_value=str(row[f"{by}_a"]),
                to_value=str(row[f"{by}_b"]),
                ltv_a=optional_float(row["ltv_a"]),
                ltv_b=optional_float(row["ltv_b"]),
                drivers=[MoveDriver(**d) for d in row["drivers"]],
                reasons_added=row["reasons_added"],
                reasons_dropped=row["reasons_dropped"],
            )
            for account_id, row in zip(listed.index, listed.to_dict(orient="records"), strict=True)
        ],
    )
