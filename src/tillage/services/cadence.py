"""The contact cadence due in a month's plan (:mod:`tillage.strategy.cadence`), read from the
store for the accounts a caller may see: the snapshot's cells and each account's last contacts
up to the snapshot's date. Shown beside the planned actions (``/api/v1/plans``' ``cadence``,
``tillage plan``).

**Computed once per snapshot.** Every account's next due day (:func:`schedule_of`) reads each
account's last contact of each type from the whole activity history (seconds at 100,000
accounts), so it is kept in the page cache (:mod:`tillage.services.page_cache`) for the
snapshot and the strategy's cadences, computed by the scoring run's warm step
(:func:`tillage.services.warm.warm_pages`) or the first request, and read by every request:
a month's list is then a filter of it (due by the month's end), with the caller's reach and
account filter applied after. Its key leaves out what does not change it: a plan mark, a
strategy saved with the same cadences; an activity logged after the cache was filled changes it
only when it happened on or before the snapshot's date (checked on read: the newest activity
the payload saw is kept with it, and a backdated one computes it again).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json

import pandas as pd
from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tillage.services.accounts import visible_ids
from tillage.services.page_cache import PageCache, bytes_frame, frame_bytes
from tillage.store.access import AccountFilter, lets_everything
from tillage.store.schema import Account, AccountScore, Activity, Rep, Snapshot
from tillage.strategy.cadence import (
    SCHEDULE_COLUMNS,
    cadence_line,
    cadence_schedule,
    due_in_month,
)
from tillage.strategy.config import Strategy

KIND = "cadence"
"""The page cache's kind of the schedules (:func:`schedule_of`)."""
SEEN_BYTES = 8
"""The payload's head: the newest activity id the schedule saw (big-endian)."""


class CadenceDue(BaseModel):
    """An account due for its cell's contact in the planned month: the cadence (``activity``
    every ``every_days`` days), the last such contact, the day it is due by, ``overdue`` when
    that day is before the month, and the plan's line (``text``) in the caller's language."""

    account_id: int
    account: str
    rep_id: int | None
    rep: str | None
    cell: str
    activity: str
    every_days: int
    last_contact: dt.date | None
    due_by: dt.date
    overdue: bool
    text: str


def _end(snapshot: Snapshot) -> dt.datetime:
    """The first moment after the snapshot's as-of day: contacts before it count."""
    return dt.datetime.combine(snapshot.as_of + dt.timedelta(days=1), dt.time())


def compute_schedule(session: Session, snapshot: Snapshot, strategy: Strategy) -> pd.DataFrame:
    """Every account scored in ``snapshot`` whose cell has a cadence in ``strategy``: the
    columns of :func:`tillage.strategy.cadence.cadence_schedule` and ``account`` (the name)
    and ``rep_id`` (the owner as scored), in account order."""
    cells = pd.DataFrame(
        session.execute(
            select(AccountScore.account_id, AccountScore.segment, AccountScore.rep_id, Account.name)
            .join(Account, Account.id == AccountScore.account_id)
            .where(AccountScore.snapshot_id == snapshot.id)
            .order_by(AccountScore.account_id)
        ).all(),
        columns=["account_id", "segment", "rep_id", "name"],
    )
    contacts = pd.DataFrame(
        session.execute(
            select(Activity.account_id, Activity.type, func.max(Activity.occurred_at))
            .where(Activity.occurred_at < _end(snapshot))
            .group_by(Activity.account_id, Activity.type)
        ).all(),
        columns=["account_id", "type", "last"],
    )
    schedule = cadence_schedule(cells, contacts, strategy, as_of=snapshot.as_of)
    names = dict(zip(cells["account_id"], cells["name"], strict=True))
    owners = dict(zip(cells["account_id"], cells["rep_id"], strict=True))
    schedule["account"] = [str(names[a]) for a in schedule["account_id"]]
    schedule["rep_id"] = pd.array(
        [None if pd.isna(owners[a]) else int(owners[a]) for a in schedule["account_id"]],
        dtype="Int64",
    )
    return schedule


def _cadences(strategy: Strategy) -> str:
    """The SHA-256 of the strategy's cadences (all a schedule reads of the strategy)."""
    text = json.dumps(
        {str(cell): c.model_dump(mode="json") for cell, c in strategy.cadence.items()},
        sort_keys=True,
    )
    return hashlib.sha256(text.encode()).hexdigest()


def schedule_of(session: Session, snapshot: Snapshot, strategy: Strategy) -> pd.DataFrame:
    """:func:`compute_schedule` of ``snapshot`` with ``strategy``'s cadences, read from the page
    cache when it holds it and no activity on or before the snapshot's date came in since."""
    full = PageCache(session)
    if full.version is None:
        return compute_schedule(session, snapshot, strategy)
    # a mark, a strategy version or a logged activity alone leave the schedule as it is
    cache = full.narrowed(strategy=0, data=(full.version.data[0], 0), marks=(0, ""))
    params: dict[str, object] = {
        "snapshot": snapshot.id,
        "cadences": _cadences(strategy),
        "columns": list(SCHEDULE_COLUMNS),
    }
    found = cache.get(KIND, params)
    newest = full.version.data[1]
    if found is not None:
        seen = int.from_bytes(found[:SEEN_BYTES], "big")
        # in id order: a walk of the primary key from ``seen`` (the planner, which cannot know
        # how few ids lie past it, otherwise scanned every activity: 0.5 s at 5 million)
        late = session.scalar(
            select(Activity.id)
            .where(Activity.id > seen, Activity.occurred_at < _end(snapshot))
            .order_by(Activity.id)
            .limit(1)
        )
        if late is None:
            return bytes_frame(found[SEEN_BYTES:])
    schedule = compute_schedule(session, snapshot, strategy)
    payload = newest.to_bytes(SEEN_BYTES, "big") + frame_bytes(schedule)
    cache.put(KIND, params, payload, replacing=found is not None)
    return schedule


def plan_cadence(
    session: Session,
    snapshot: Snapshot,
    month: dt.date,
    strategy: Strategy,
    *,
    visible: AccountFilter,
    rep_ids: set[int] | None = None,
    lang: str = "en",
) -> list[CadenceDue]:
    """The accounts of ``snapshot`` (owned when scored by one of ``rep_ids``, all when None)
    that ``visible`` lets through and that are due for their cell's contact in ``month``."""
    return cadence_page(
        session, snapshot, month, strategy, visible=visible, rep_ids=rep_ids, lang=lang
    )[0]


def cadence_page(
    session: Session,
    snapshot: Snapshot,
    month: dt.date,
    strategy: Strategy,
    *,
    visible: AccountFilter,
    rep_ids: set[int] | None = None,
    page_reps: set[int] | None = None,
    listed: set[int] | None = None,
    lang: str = "en",
    limit: int | None = None,
    offset: int = 0,
) -> tuple[list[CadenceDue], int]:
    """:func:`plan_cadence`'s rows ``offset`` … ``offset + limit`` (all without ``limit``) and
    how many there are in all.

    One page of a plan (``page_reps``, the reps on it): only the accounts those reps own and,
    when ``listed`` (the reps of every page) is given, the accounts owned by none of them (by
    no rep, or by a rep without a plan) — the pages together hold the whole list."""
    due = due_in_month(schedule_of(session, snapshot, strategy), month)
    owner = due["rep_id"]
    keep = pd.Series(True, index=due.index)
    if rep_ids is not None:
        keep &= owner.isin(rep_ids).fillna(False).astype(bool)
    if page_reps is not None:
        on_page = owner.isin(page_reps).fillna(False).astype(bool)
        if listed is not None:
            on_page |= ~owner.isin(listed).fillna(False).astype(bool)
        keep &= on_page
    due = due.loc[keep]
    if due.empty:
        return [], 0
    if not lets_everything(visible):  # the reach, as the account list keeps it
        due = due.loc[due["account_id"].isin(visible_ids(session, visible, snapshot.id))]
    total = len(due)
    due = due.iloc[offset : None if limit is None else offset + limit]
    rep_names = dict(session.execute(select(Rep.id, Rep.name)).all())
    out = []
    for row in due.itertuples(index=False):
        owner_id = None if pd.isna(row.rep_id) else int(row.rep_id)
        last = None if row.last_contact is None or pd.isna(row.last_contact) else row.last_contact
        out.append(
            CadenceDue(
                account_id=int(row.account_id),
                account=str(row.account),
                rep_id=owner_id,
                rep=rep_names.get(owner_id) if owner_id is not None else None,
                cell=row.cell,
                activity=row.activity,
                every_days=int(row.every_days),
                last_contact=last,
                due_by=row.due_by,
                overdue=bool(row.overdue),
                text=cadence_line(row.activity, int(row.every_days), last, row.due_by, lang),
            )
        )
    return out, total
