"""/api/v1/diffs: how the caller's accounts moved between two snapshots
(:mod:`tillage.services.diffs`; an answer is kept in the page cache per pair, cut, limit and
caller's filter)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Query

from tillage.services.diffs import DEFAULT_LIMIT, DiffOut, snapshot_diff
from tillage.serving.auth import VisibleAccounts, protected_router
from tillage.serving.deps import SessionDep
from tillage.serving.errors import ErrorResponse

router = protected_router(prefix="/api/v1", tags=["snapshots"])
SnapshotId = Annotated[int, Query(ge=1, le=2**31 - 1)]


@router.get("/diffs", responses={404: {"model": ErrorResponse, "description": "No snapshot"}})
def get_diff(
    session: SessionDep,
    visible: VisibleAccounts,
    from_id: Annotated[int, Query(alias="from", ge=1, le=2**31 - 1, description="Snapshot A")],
    to_id: Annotated[int, Query(alias="to", ge=1, le=2**31 - 1, description="Snapshot B")],
    by: Annotated[Literal["segment", "zone"], Query(description="Compare cells or zones")] = (
        "segment"
    ),
    limit: Annotated[
        int, Query(ge=0, le=5000, description="Moved accounts to list")
    ] = DEFAULT_LIMIT,
) -> DiffOut:
    """The migration matrix and the moved accounts between snapshots ``from`` and ``to``,
    over the caller's accounts."""
    return snapshot_diff(session, visible, from_id, to_id, by, limit)
