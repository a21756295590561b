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
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, event, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import ORMExecuteState, Session

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
    label: str | None = field(default=None, compare=False)
    """The snapshot's label (read with it for the answers that name the snapshot; not part of
    the version)."""

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


def _newest(column: Any) -> Any:
    return select(func.max(column)).scalar_subquery()


REQUEST = "tillage.request"
"""Key of ``session.info`` that marks the session of a web request (set by the request's
dependency): such a session reads the store version once (:func:`store_version`)."""
_MEMO = "tillage.store_version"


def store_version(session: Session) -> StoreVersion | None:
    """The store's :class:`StoreVersion`; ``None`` without a complete snapshot. One statement:
    the newest snapshot's row by the as-of index, and the newest strategy version, import,
    activity and plan mark each read from a primary key.

    A request's session (``session.info[REQUEST]``) reads it once per transaction and until it
    writes (a flush forgets it, :func:`_forget`): the request answers from the store as its
    first read found it, and its snapshot, list totals and cached pages name the same version.
    """
    remembered = session.info.get(_MEMO)
    transaction = session.get_transaction()
    if remembered is not None and transaction is not None and remembered[0] is transaction:
        return remembered[1]
    version = _read_version(session)
    if session.info.get(REQUEST):
        session.info[_MEMO] = (session.get_transaction(), version)
    return version


@event.listens_for(Session, "after_flush")
def _forget(session: Session, _context: object) -> None:
    """A write in the session: the version it remembers may be past."""
    session.info.pop(_MEMO, None)


@event.listens_for(Session, "do_orm_execute")
def _forget_on_write(state: ORMExecuteState) -> None:
    """An ``INSERT``, ``UPDATE`` or ``DELETE`` run through the session: as :func:`_forget`."""
    if state.is_insert or state.is_update or state.is_delete:
        state.session.info.pop(_MEMO, None)


def _read_version(session: Session) -> StoreVersion | None:
    row = session.execute(
        select(
            Snapshot.id,
            Snapshot.as_of,
            Snapshot.created_at,
            Snapshot.label,
            _newest(StrategyVersion.id),
            _newest(Import.id),
            _newest(Activity.id),
            select(func.count(ActionMark.id)).scalar_subquery(),
            _newest(ActionMark.marked_at),
        )
        .where(Snapshot.status == "complete")
        .order_by(Snapshot.as_of.desc(), Snapshot.id.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    snapshot_id, as_of, written, label, strategy, imported, logged, marks, marked = row
    return StoreVersion(
        label=label,
        snapshot_id=snapshot_id,
        as_of=as_of,
        written=written,
        strategy=int(strategy or 0),
        data=(int(imported or 0), int(logged or 0)),
        marks=(int(marks or 0), "" if marked is None else str(marked)),
    )


def data_marker(session: Session) -> tuple[int, int]:
    """The newest import id and activity id (0 for none): a change of either means the data
    behind the pages (and the history the learned effects read) may have changed."""
    imported = session.scalar(select(func.max(Import.id))) or 0
    logged = session.scalar(select(func.max(Activity.id))) or 0
    return int(imported), int(logged)


def get_entry(session: Session, key: str) -> bytes | None:
    """The payload stored under ``key``, or ``None``."""
    return session.scalar(select(PageCacheEntry.payload).where(PageCacheEntry.key == key))


def get_slice(session: Session, key: str, start: int, length: int) -> bytes | None:
    """Bytes ``start … start + length`` of the payload stored under ``key`` (fewer past its
    end), or ``None`` when there is none: only those bytes leave the database."""
    part = session.scalar(
        select(func.substr(PageCacheEntry.payload, start + 1, length)).where(
            PageCacheEntry.key == key
        )
    )
    return None if part is None else bytes(part)


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
