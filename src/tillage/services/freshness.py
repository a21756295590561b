"""Whether the scores are stale: the banner every page shows (and ``GET /api/v1/freshness``).

The scores are **stale** when the newest complete snapshot was written (``created_at``) more
than the strategy's ``schedule.rescore_every_days`` days ago, or before the latest import (the
pages then show scores that leave out imported data), or when there is no snapshot at all. Times
are the business time zone's wall clock, as the snapshots and the import log keep them.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from tillage.services.strategy import strategy_in_force
from tillage.store.schema import Import, Snapshot
from tillage.timestamps import LocalTimestamp

__all__ = ["Freshness", "freshness"]


class Freshness(BaseModel):
    """How fresh the scores are: ``stale`` and why (``age``: older than ``every_days``;
    ``import``: written before the latest import; ``none``: no snapshot yet), the newest
    snapshot's ``scored_at`` and ``days`` since, and the latest import's ``imported_at``."""

    stale: bool
    reason: Literal["age", "import", "none"] | None
    scored_at: LocalTimestamp | None
    days: int | None
    every_days: int
    imported_at: LocalTimestamp | None


def freshness(store: Session | Engine, now: dt.datetime) -> Freshness:
    """How fresh the newest complete snapshot is at ``now`` (business time zone)."""
    engine = store.get_bind() if isinstance(store, Session) else store
    every = strategy_in_force(engine).schedule.rescore_every_days  # type: ignore[arg-type]
    with engine.connect() as connection:  # type: ignore[union-attr]
        scored_at = connection.scalar(
            select(func.max(Snapshot.created_at)).where(Snapshot.status == "complete")
        )
        imported_at = connection.scalar(select(func.max(Import.imported_at)))
    reason: Literal["age", "import", "none"] | None = None
    days = None
    if scored_at is None:
        reason = "none"
    else:
        days = (now - scored_at).days
        if now - scored_at > dt.timedelta(days=every):
            reason = "age"
        elif imported_at is not None and imported_at > scored_at:
            reason = "import"
    return Freshness(
        stale=reason is not None,
        reason=reason,
        scored_at=scored_at,
        days=days,
        every_days=every,
        imported_at=imported_at,
    )
