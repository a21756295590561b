"""The frames of the period review and the 1on1 agenda (:mod:`tillage.services.reviews`):
snapshot scores, plans and deals, and what happened after them, as pandas frames.

Dates are business-local (see :mod:`tillage.store.schema`); a *period* is given by its first and
last day, both included. Amounts are in company currency, ``recurring_amount`` per month. The
readers of a rep's accounts take ``visible`` (:func:`tillage.store.access.account_filter`) so a
rep never reads another rep's accounts.

Inside :func:`reading_once` (a scoring run's warm step, :func:`tillage.services.warm.warm_pages`)
the scores of every account of a snapshot, its scored deals, the actions planned for a period,
the activities of a period and the reps are read from the store once and kept for the later
readers of the same rows; a reader of one rep's rows, or of the accounts a caller may see, gets
the kept rows that are theirs (the accounts ``visible`` lets through read by one query of their
ids), as the query filtered in the store would give them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sqlalchemy import ColumnElement, Select, exists, func, select, union_all
from sqlalchemy.orm import Session, aliased

from tillage.labels import label_column, unique_labels
from tillage.store.access import AccountFilter, everything, on_rows, reads_accounts
from tillage.store.schema import (
    Account,
    AccountScore,
    ActionMark,
    Activity,
    Contract,
    Opportunity,
    Order,
    Rep,
    SnapshotAction,
    SnapshotDeal,
    Team,
)
from tillage.store.work import mark_of_action


def _frame(session: Session, query: Select) -> pd.DataFrame:
    """The rows of ``query`` as a frame. Read on the session's connection: the ORM's loading of
    plain column rows (a :class:`~sqlalchemy.engine.Row` made per row, then looked into by
    pandas) took most of the time of the large reads, for the same values."""
    return _read(session, query).frame


@dataclass(frozen=True)
class _Read:
    """Rows as a query returned them, and their frame."""

    rows: list[tuple[object, ...]]
    frame: pd.DataFrame

    def part(self, rows: pd.Series, columns: Sequence[str] | None = None) -> pd.DataFrame:
        """The rows where ``rows`` holds (in their order), typed as a read of those rows alone
        types them: pandas infers a column's type from its values (a column of nothing but
        nulls is of objects, where among other rows it was of floats)."""
        picked = [self.rows[i] for i in np.flatnonzero(rows.to_numpy(dtype=bool))]
        part = pd.DataFrame(picked, columns=self.frame.columns)
        return part if columns is None else part[list(columns)]


def _read(session: Session, query: Select) -> _Read:
    if session.autoflush:
        session.flush()  # as session.execute would, so that pending rows are read
    result = session.connection().execute(query)
    columns = list(result.keys())
    rows = [tuple(row) for row in result.all()]
    return _Read(rows, pd.DataFrame(rows, columns=columns))


_KEPT: ContextVar[dict[tuple[object, ...], _Read] | None] = ContextVar(
    "review_frames_kept", default=None
)
_VISIBLE: ContextVar[dict[int, tuple[AccountFilter, frozenset[int]]] | None] = ContextVar(
    "review_frames_visible", default=None
)


@contextmanager
def reading_once() -> Iterator[None]:
    """Within: :func:`snapshot_scores`, :func:`scored_deals`, :func:`planned_actions`,
    :func:`activities_between` (without ``visible``) and :func:`reps_with_teams` keep what they
    read, and a later call asking for the same rows, or for a rep's or a caller's part of them
    (the same or fewer score fields), gets them without reading the store again. For a span in
    which the store does not change: a scoring run's warm step (the agendas of every rep as
    each user opens them). The rows are held twice for the span: as read (to take a part
    typed as a read of it alone would be) and as a frame."""
    token, ids = _KEPT.set({}), _VISIBLE.set({})
    try:
        yield
    finally:
        _VISIBLE.reset(ids)
        _KEPT.reset(token)


def _of_visible(account_id: ColumnElement[int], visible: AccountFilter | None) -> AccountFilter:
    """The rows of ``account_id``'s accounts that ``visible`` lets through (every row for
    ``None``): :func:`~tillage.store.access.on_rows`, or the ids of the accounts it lets through
    when it reads another column of theirs."""
    if visible is None:
        return everything()
    moved = on_rows(visible, account_id)
    if not reads_accounts(moved):
        return moved
    return account_id.in_(select(Account.id).where(visible))


SCORE_FIELDS = (
    "ltv",
    "churn_risk",
    "priority",
    "zone",
    "segment",
    "reasons",
    "expected_revenue",
    "p_alive",
    "rep_id",
    "days_to_renewal",
    "silent_churn",
    "single_threaded",
    "key_person_risk",
    "signals",
)

REVIEW_FIELDS = tuple(name for name in SCORE_FIELDS if name not in ("reasons", "signals"))
"""The score fields the review reads (:mod:`tillage.kpi.review`): all but the reasons and
signals, JSON lists that the agenda alone shows and whose decoding was most of the time of
reading every account's scores."""


def snapshot_scores(
    session: Session,
    snapshot_id: int,
    *,
    visible: AccountFilter | None = None,
    rep_id: int | None = None,
    fields: Sequence[str] = SCORE_FIELDS,
) -> pd.DataFrame:
    """One row per scored account: ``account_id``, ``key``, ``name``, ``owner_id`` (today's
    owner) and ``fields`` (of :data:`SCORE_FIELDS`, in their order there). ``rep_id`` keeps the
    accounts the rep owned when scored (``account_scores.rep_id``, else today's owner when the
    snapshot did not record it)."""
    wanted = [name for name in SCORE_FIELDS if name in fields]
    kept = _KEPT.get()
    if kept is None:
        return _scores(session, snapshot_id, wanted, visible, rep_id).frame
    held = _kept_scores(session, kept, snapshot_id, [*wanted, "rep_id"] if rep_id else wanted)
    mine = None if rep_id is None else _owned_by(held.frame, rep_id)
    return _part(session, held, visible, mine, [*held.frame.columns[:4], *wanted])


def _kept_scores(
    session: Session, kept: dict[tuple[object, ...], _Read], snapshot_id: int, wanted: list[str]
) -> _Read:
    """Every account's scores of the snapshot with (at least) the fields ``wanted``, kept."""
    held = kept.get(("scores", snapshot_id))
    if held is None or not set(wanted) <= set(held.frame.columns):
        fields = [name for name in SCORE_FIELDS if name in wanted]
        held = kept[("scores", snapshot_id)] = _scores(session, snapshot_id, fields, None, None)
    return held


def _owned_by(scores: pd.DataFrame, rep_id: int) -> pd.Series:
    """The rows of the accounts ``rep_id`` owned when scored: the score's rep, else today's
    owner (:func:`owned_when_scored` on rows already read)."""
    return scores["rep_id"].fillna(scores["owner_id"]) == rep_id


def _part(
    session: Session,
    held: _Read,
    visible: AccountFilter | None,
    mine: pd.Series | None = None,
    columns: Sequence[str] | None = None,
) -> pd.DataFrame:
    """The kept rows of the accounts ``visible`` lets through (every one for ``None``) and,
    where given, that ``mine`` marks (a rep's), with ``columns`` (all for ``None``). The ids
    ``visible`` lets through are read by one query, kept with the filter itself (a caller's
    filter is one object: :func:`~tillage.store.access.account_filter`)."""
    if visible is None and mine is None:
        return (held.frame if columns is None else held.frame[list(columns)]).copy()
    rows = pd.Series(True, index=held.frame.index) if mine is None else mine
    if visible is not None:
        kept = _VISIBLE.get()
        ids = None if kept is None else kept.get(id(visible))
        if ids is None or ids[0] is not visible:
            ids = (visible, frozenset(session.scalars(select(Account.id).where(visible))))
            if kept is not None:
                kept[id(visible)] = ids  # the filter kept alive with it: its id stays its own
        rows = rows & held.frame["account_id"].isin(ids[1])
    return held.part(rows, columns)


def _scores(
    session: Session,
    snapshot_id: int,
    fields: Sequence[str],
    visible: AccountFilter | None,
    rep_id: int | None,
) -> _Read:
    query = (
        select(
            AccountScore.account_id,
            Account.key,
            Account.name,
            Account.owner_id,
            *(getattr(AccountScore, name) for name in fields),
        )
        .join(Account, Account.id == AccountScore.account_id)
        .where(
            AccountScore.snapshot_id == snapshot_id, everything() if visible is None else visible
        )
    )
    if rep_id is not None:
        query = query.where(owned_when_scored(snapshot_id, rep_id, AccountScore.account_id))
    return _read(session, query.order_by(AccountScore.account_id))


def owned_when_scored(
    snapshot_id: int, rep_id: int, account_id: ColumnElement[int]
) -> ColumnElement[bool]:
    """``account_id`` is one of the accounts ``rep_id`` owned when the snapshot scored them (the
    score's rep, else today's owner where the snapshot did not record one): one IN over two
    index reads. The coalesce of the two columns could use neither index, and read every score
    of the snapshot (a rep's 1on1 at 100,000 accounts)."""
    recorded, unrecorded, owner = aliased(AccountScore), aliased(AccountScore), aliased(Account)
    return account_id.in_(
        union_all(
            select(recorded.account_id).where(
                recorded.snapshot_id == snapshot_id, recorded.rep_id == rep_id
            ),
            select(unrecorded.account_id)
            .join(owner, owner.id == unrecorded.account_id)
            .where(
                unrecorded.snapshot_id == snapshot_id,
                unrecorded.rep_id.is_(None),
                owner.owner_id == rep_id,
            ),
        )
    )


def planned_actions(
    session: Session,
    snapshot_id: int,
    first: dt.date,
    last: dt.date,
    *,
    rep_id: int | None = None,
    visible: AccountFilter | None = None,
) -> pd.DataFrame:
    """A snapshot's planned actions for the months from ``first`` to ``last``: ``account_id``,
    ``rep_id``, ``month``, ``action``, ``hours``, ``expected_uplift``, ``must_do``, and ``mark``
    (``done`` / ``skipped`` as marked from the pages, :mod:`tillage.services.marks`; else
    empty); ``rep_id``: that rep's actions only; ``visible``: those of the accounts it lets
    through."""
    kept = _KEPT.get()
    if kept is None:
        return _planned(session, snapshot_id, first, last, rep_id, visible).frame
    key = ("planned", snapshot_id, first, last)
    held = kept.get(key)
    if held is None:
        held = kept[key] = _planned(session, snapshot_id, first, last, None, None)
    return _part(session, held, visible, None if rep_id is None else held.frame["rep_id"] == rep_id)


def _planned(
    session: Session,
    snapshot_id: int,
    first: dt.date,
    last: dt.date,
    rep_id: int | None,
    visible: AccountFilter | None,
) -> _Read:
    mine = everything() if rep_id is None else SnapshotAction.rep_id == rep_id
    return _read(
        session,
        select(
            SnapshotAction.account_id,
            SnapshotAction.rep_id,
            SnapshotAction.month,
            SnapshotAction.action,
            SnapshotAction.hours,
            SnapshotAction.expected_uplift,
            SnapshotAction.must_do,
            ActionMark.status.label("mark"),
        )
        .outerjoin(ActionMark, mark_of_action())
        .where(
            SnapshotAction.snapshot_id == snapshot_id,
            SnapshotAction.month >= first,
            SnapshotAction.month <= last,
            mine,
            _of_visible(SnapshotAction.account_id, visible),
        )
        .order_by(SnapshotAction.rep_id, SnapshotAction.month, SnapshotAction.account_id),
    )


def scored_deals(
    session: Session,
    snapshot_id: int,
    *,
    visible: AccountFilter | None = None,
    rep_id: int | None = None,
) -> pd.DataFrame:
    """A snapshot's scored deals with what became of them: ``opportunity_id``, ``account_id``,
    ``win_probability``, ``amount``, ``expected_value``, ``zone``, and from the opportunity
    ``name``, ``type``, ``stage``, ``close_date``, ``is_closed``, ``is_won``, ``owner_id``.
    ``rep_id`` keeps the deals of the accounts the rep owned when scored (as
    :func:`snapshot_scores`)."""
    kept = _KEPT.get()
    if kept is None:
        return _deals(session, snapshot_id, visible, rep_id).frame
    held = kept.get(("deals", snapshot_id))
    if held is None:
        held = kept[("deals", snapshot_id)] = _deals(session, snapshot_id, None, None)
    mine = None
    if rep_id is not None:
        scores = _kept_scores(session, kept, snapshot_id, ["rep_id"]).frame
        mine = held.frame["account_id"].isin(scores["account_id"][_owned_by(scores, rep_id)])
    return _part(session, held, visible, mine)


def _deals(
    session: Session, snapshot_id: int, visible: AccountFilter | None, rep_id: int | None
) -> _Read:
    query = (
        select(
            SnapshotDeal.opportunity_id,
            SnapshotDeal.account_id,
            SnapshotDeal.win_probability,
            SnapshotDeal.amount,
            SnapshotDeal.expected_value,
            SnapshotDeal.zone,
            Opportunity.name,
            Opportunity.type,
            Opportunity.stage,
            Opportunity.close_date,
            Opportunity.is_closed,
            Opportunity.is_won,
            Opportunity.owner_id,
        )
        .join(Opportunity, Opportunity.id == SnapshotDeal.opportunity_id)
        .join(Account, Account.id == SnapshotDeal.account_id)
        .where(
            SnapshotDeal.snapshot_id == snapshot_id, everything() if visible is None else visible
        )
        .order_by(SnapshotDeal.opportunity_id)
    )
    if rep_id is not None:
        query = query.where(owned_when_scored(snapshot_id, rep_id, SnapshotDeal.account_id))
    return _read(session, query)


def activities_between(
    session: Session,
    first: dt.date,
    last: dt.date,
    *,
    rep_id: int | None = None,
    visible: AccountFilter | None = None,
) -> pd.DataFrame:
    """Activities that occurred on the days ``first`` … ``last``: ``account_id``, ``rep_id``,
    ``type``, ``occurred_at``, ``duration_minutes``; ``rep_id``: those the rep logged;
    ``visible``: those of the accounts it lets through; in the order of their ids."""
    if visible is not None:
        query = _activities_query(first, last, rep_id).where(
            _of_visible(Activity.account_id, visible)
        )
        return _frame(session, query)
    kept = _KEPT.get()
    if kept is None:
        return _activities(session, first, last, rep_id)
    key = ("activities", first, last, rep_id)
    if key not in kept:
        kept[key] = _read(session, _activities_query(first, last, rep_id))
    return kept[key].frame.copy()


def _activities(
    session: Session, first: dt.date, last: dt.date, rep_id: int | None
) -> pd.DataFrame:
    return _frame(session, _activities_query(first, last, rep_id))


def _activities_query(first: dt.date, last: dt.date, rep_id: int | None) -> Select:
    """In the order of their ids, said: with an index holding every column read (rep and time,
    migration 0015) SQLite may read them in that index's order instead of the table's."""
    mine = everything() if rep_id is None else Activity.rep_id == rep_id
    return (
        select(
            Activity.account_id,
            Activity.rep_id,
            Activity.type,
            Activity.occurred_at,
            Activity.duration_minutes,
        )
        .where(
            Activity.occurred_at >= dt.datetime.combine(first, dt.time()),
            Activity.occurred_at < dt.datetime.combine(last + dt.timedelta(days=1), dt.time()),
            mine,
        )
        .order_by(Activity.id)
    )


def contracts_running(
    session: Session, first: dt.date, close: dt.date, *, visible: AccountFilter | None = None
) -> pd.DataFrame:
    """Contracts running on some day of ``[first, close)``: ``id``, ``account_id``,
    ``start_date``, ``end_date`` (the first day it no longer runs), ``recurring_amount``, and
    ``renewed`` (another contract names it in ``renewed_from_id``); ``visible``: those of the
    accounts it lets through."""
    # renewed: a successor exists, probed per contract on its index. ``id IN (every
    # successor's predecessor)`` was planned, once the tables had statistics, as a subplan
    # re-read for every contract when the set did not fit in memory (a manager's review at
    # 100,000 accounts ran for minutes)
    successor = aliased(Contract)
    renewed = exists().where(successor.renewed_from_id == Contract.id)
    return _frame(
        session,
        select(
            Contract.id,
            Contract.account_id,
            Contract.start_date,
            Contract.end_date,
            Contract.recurring_amount,
            renewed.label("renewed"),
        )
        .where(
            Contract.start_date < close,
            Contract.end_date > first,
            _of_visible(Contract.account_id, visible),
        )
        .order_by(Contract.id),
    )


def order_revenue(
    session: Session, first: dt.date, last: dt.date, *, visible: AccountFilter | None = None
) -> pd.DataFrame:
    """Order revenue per account dated ``first`` … ``last``: ``account_id``, ``revenue``;
    ``visible``: of the accounts it lets through."""
    return _frame(
        session,
        select(Order.account_id, func.sum(Order.amount).label("revenue"))
        .where(
            Order.order_date >= first,
            Order.order_date <= last,
            _of_visible(Order.account_id, visible),
        )
        .group_by(Order.account_id),
    )


def reps_with_teams(session: Session) -> pd.DataFrame:
    """Every rep: ``rep_id``, ``key``, ``rep`` and ``team`` (their labels, the names made
    unique as in the KPI cuts: :mod:`tillage.labels`), ``team_id``."""
    kept = _KEPT.get()
    if kept is None:
        return _reps(session)
    reps = kept.get(("reps",))
    if reps is None:
        frame = _reps(session)
        reps = kept[("reps",)] = _Read(list(frame.itertuples(index=False, name=None)), frame)
    return reps.frame.copy()


def _reps(session: Session) -> pd.DataFrame:
    frame = _frame(
        session,
        select(
            Rep.id.label("rep_id"),
            Rep.key,
            Rep.name.label("rep"),
            Rep.team_id,
        ).order_by(Rep.id),
    )
    teams = unique_labels(session.execute(select(Team.id, Team.key, Team.name)).all())
    rep_labels = label_column(frame, "rep_id", "key", "rep")
    return frame.assign(
        rep=rep_labels.astype("object"),
        team=frame["team_id"].map(lambda t: teams.get(int(t)) if pd.notna(t) else None),
    )
