"""The page cache's table (``page_cache``): what a page computed from one snapshot, by key.

The services decide what a key covers (:mod:`tillage.services.page_cache`); this module only
reads, writes and prunes rows, and says which state of the store a key must name
(:func:`store_version`): the newest complete snapshot (id and when it was written), the newest
strategy version, the newest import, the newest activity and the newest plan mark. A new
snapshot, a saved strategy, an import, a logged activity or a marked action therefore changes
every key, and the rows of older snapshots are
deleted on the next write (:func:`put_entry`) or with their snapshot.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tillage.store.records import Import, PageCacheEntry, Snapshot, StrategyVersion
from tillage.store.schema import Activity
from tillage.store.work import ActionMark


@dataclass(frozen=True)
class StoreVersion:
    """The state of the store a cached page was computed from: the newest complete snapshot
    (``snapshot_id``, ``as_of``, ``written``), the newest strategy version (0: none saved), the
    newest import (0: none) and the newest activity id (0: none)."""

    snapshot_id: int
    as_of: dt.date
    written: dt.datetime
    strategy: int
    data: tuple[int, int]
    marks: tuple[int, str] = (0, "")

    def parts(self) -> list[object]:
        """The fields as JSON-ready values (for hashing into a key)."""
        return [
            self.snapshot_id,
            self.as_of.isoformat(),
            self.written.isoformat(),
            self.strategy,
            list(self.data),
            list(self.marks),
        ]


def store_version(session: Session) -> StoreVersion | None:
    """The store's :class:`StoreVersion`; ``None`` without a complete snapshot. Four reads of
    one row each (primary keys and the snapshots' as-of index)."""
    snapshot = session.execute(
        select(Snapshot.id, Snapshot.as_of, Snapshot.created_at)
        .where(Snapshot.status == "complete")
        .order_by(Snapshot.as_of.desc(), Snapshot.id.desc())
        .limit(1)
    ).first()
    if snapshot is None:
        return None
    strategy = session.scalar(select(func.max(StrategyVersion.id))) or 0
    return StoreVersion(
        snapshot_id=snapshot.id,
        as_of=snapshot.as_of,
        written=snapshot.created_at,
        strategy=int(strategy),
        data=data_marker(session),
        marks=marks_marker(session),
    )


def marks_marker(session: Session) -> tuple[int, str]:
    """How many planned actions are marked done or skipped, and the newest mark's time: a mark
    changes the review's plan execution, so it changes every key."""
    count, newest = session.execute(
        select(func.count(ActionMark.id), func.max(ActionMark.marked_at))
    ).one()
    return int(count or 0), "" if newest is None else str(newest)


def data_marker(session: Session) -> tuple[int, int]:
    """The newest import id and activity id (0 for none): a change of either means the data
    behind the pages (and the history the learned effects read) may have changed."""
    imported = session.scalar(select(func.max(Import.id))) or 0
    logged = session.scalar(select(func.max(Activity.id))) or 0
    return int(imported), int(logged)


def get_entry(session: Session, key: str) -> bytes | None:
    """The payload stored under ``key``, or ``None``."""
    return session.scalar(select(PageCacheEntry.payload).where(PageCacheEntry.key == key))


def put_entry(
    session: Session,
    snapshot_id: int,
    kind: str,
    key: str,
    payload: bytes,
    *,
    now: dt.datetime,
    replacing: bool = False,
) -> None:
    """Store ``payload`` under ``key`` for ``snapshot_id`` and delete the rows of every other
    snapshot (committed). Two requests computing the same page at once: the second write is
    dropped. ``replacing``: the row ``key`` held is deleted first (a payload found stale)."""
    session.execute(delete(PageCacheEntry).where(PageCacheEntry.snapshot_id != snapshot_id))
    if replacing:
        session.execute(delete(PageCacheEntry).where(PageCacheEntry.key == key))
    session.add(
        PageCacheEntry(snapshot_id=snapshot_id, kind=kind, key=key, created_at=now, payload=payload)
    )
    try:
        session.commit()
    except IntegrityError:
        session.rollback()


def clear_entries(session: Session) -> int:
    """Delete every cached page (committed); the number of rows deleted."""
    deleted = session.execute(delete(PageCacheEntry)).rowcount  # type: ignore[attr-defined]
    session.commit()
    return int(deleted or 0)
