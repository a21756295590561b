"""/api/v1/snapshots: the scoring runs, newest first (metadata only: every role may read it)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query

from tillage.serving.auth import protected_router
from tillage.serving.deps import SessionDep
from tillage.serving.errors import ErrorResponse
from tillage.store.snapshots import SnapshotInfo, list_snapshots, snapshot_info

router = protected_router(prefix="/api/v1/snapshots", tags=["snapshots"])


@router.get("")
def get_snapshots(
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> list[SnapshotInfo]:
    """Snapshots, newest first (by as-of date, then id); ``created_at`` in the business time
    zone, ``strategy_hash`` the SHA-256 of the strategy text the run used."""
    return list_snapshots(session, limit=limit, offset=offset)


@router.get("/{snapshot_id}", responses={404: {"model": ErrorResponse}})
def get_snapshot(
    session: SessionDep, snapshot_id: Annotated[int, Path(ge=1, le=2**31 - 1)]
) -> SnapshotInfo:
    """One snapshot."""
    return snapshot_info(session, snapshot_id)
