"""The account views the dashboard pages read besides the services' answers: portfolio cells,
one account's signals, planned actions, contacts and activities (the account list is the one
listing, :mod:`tillage.services.listing`; the account history :func:`tillage.store.snapshots.
account_history`).

Every function takes ``visible``, the caller's filter from
:func:`tillage.store.access.account_filter`, so a cell count or an account's activities count
only what the caller may see. Amounts are in company currency;
probabilities are 0..1.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from tillage.errors import NotFoundError
from tillage.services.page_cache import cached_bytes, filter_key
from tillage.store.access import AccountFilter, on_score_rows, reads_accounts
from tillage.store.diffs import NONE
from tillage.store.schema import (
    Account,
    AccountScore,
    ActionMark,
    Activity,
    Contact,
    Rep,
    SnapshotAction,
    Team,
)
from tillage.store.work import mark_of_action
from tillage.timestamps import LocalTimestamp

SEGMENTS: tuple[str, ...] = ("deepen", "maintain", "nurture", "reduce")
"""The value × growth cells: value high/growth high, high/low, low/high, low/low."""


@dataclass(frozen=True)
class Cell:
    """One portfolio cell: accounts in it, their total LTV, and how many are borderline."""

    key: str
    accounts: int
    total_ltv: float
    borderline: int


def _on_scores(visible: AccountFilter) -> AccountFilter:
    """``visible`` on the scores' account ids (no join to ``accounts``), or, for a filter that
    reads other account columns, the score's account among the visible ones."""
    on_scores = on_score_rows(visible)
    if not reads_accounts(on_scores):
        return on_scores
    return AccountScore.account_id.in_(select(Account.id).where(visible))


def segment_cells(session: Session, snapshot_id: int, *, visible: AccountFilter) -> list[Cell]:
    """The value × growth cells (:data:`SEGMENTS`, in that order) of a snapshot over the
    ``visible`` scored accounts; cells without accounts count 0. The scored accounts without a
    known segment (a snapshot scored before the portfolio existed has none) are one more cell,
    :data:`~tillage.store.diffs.NONE`, last and only when there are any, so the cells always sum
    to the scored accounts and their LTV. ``total_ltv`` in company currency (accounts without
    an LTV add 0)."""
    rows = session.execute(
        select(
            AccountScore.segment,
            func.count(),
            func.sum(AccountScore.ltv),
            func.sum(case((AccountScore.borderline.is_(True), 1), else_=0)),
        )
        .where(AccountScore.snapshot_id == snapshot_id, _on_scores(visible))
        .group_by(AccountScore.segment)
    ).all()
    found: dict[str, tuple[int, float, int]] = {}
    for segment, n, total, borderline in rows:
        key = str(segment) if segment in SEGMENTS else NONE
        was = found.get(key, (0, 0.0, 0))
        found[key] = (was[0] + int(n), was[1] + float(total or 0.0), was[2] + int(borderline or 0))
    keys = [*SEGMENTS, NONE] if NONE in found else list(SEGMENTS)
    return [Cell(s, *found.get(s, (0, 0.0, 0))) for s in keys]


def filter_choices(
    session: Session, *, visible: AccountFilter
) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(reps, teams) owning the ``visible`` accounts, each as (key, name) sorted by name;
    computed once per state of the store and caller's filter (the page cache)."""
    payload = cached_bytes(
        session,
        "filter-choices",
        {"visible": filter_key(visible)},
        lambda: json.dumps(_filter_choices(session, visible)).encode(),
    )
    reps, teams = json.loads(payload)
    return [(k, n) for k, n in reps], [(k, n) for k, n in teams]


def _filter_choices(
    session: Session, visible: AccountFilter
) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    # the owners in one pass over the accounts (read from the owner index), then their names
    owners = list(
        session.scalars(
            select(Account.owner_id).where(visible, Account.owner_id.is_not(None)).distinct()
        )
    )
    if not owners:
        return [], []
    reps = session.execute(
        select(Rep.key, Rep.name).where(Rep.id.in_(owners)).order_by(Rep.name, Rep.key)
    ).all()
    teams = session.execute(
        select(Team.key, Team.name)
        .where(Team.id.in_(select(Rep.team_id).where(Rep.id.in_(owners))))
        .order_by(Team.name, Team.key)
    ).all()
    return [(k, n) for k, n in reps], [(k, n) for k, n in teams]


def _number(value: float | None) -> float | None:
    return None if value is None else float(value)


def _require_visible(session: Session, account_id: int, visible: AccountFilter) -> None:
    if session.scalar(select(Account.id).where(Account.id == account_id, visible)) is None:
        raise NotFoundError(f"account {account_id} does not exist or is not visible to you")


@dataclass(frozen=True)
class Signals:
    """An account's reasons and risk signals in a snapshot (``None``: not computed)."""

    reasons: list[dict[str, Any]]
    p_cell: float | None
    borderline: bool | None
    p_alive: float | None
    days_to_renewal: int | None
    key_person_risk: float | None
    single_threaded: bool | None
    silent_churn: float | None
    signals: list[Any]


def account_signals(
    session: Session, account_id: int, snapshot_id: int, *, visible: AccountFilter
) -> Signals | None:
    """The account's reasons and risk signals in the snapshot; ``None`` if it was not scored.
    :class:`NotFoundError` when not visible."""
    _require_visible(session, account_id, visible)
    score = session.scalars(
        select(AccountScore).where(
            AccountScore.snapshot_id == snapshot_id, AccountScore.account_id == account_id
        )
    ).first()
    if score is None:
        return None
    return Signals(
        reasons=list(score.reasons or []),
        p_cell=score.p_cell,
        borderline=score.borderline,
        p_alive=score.p_alive,
        days_to_renewal=score.days_to_renewal,
        key_person_risk=score.key_person_risk,
        single_threaded=score.single_threaded,
        silent_churn=score.silent_churn,
        signals=list(score.signals or []),
    )


@dataclass(frozen=True)
class PlannedAction:
    """A planned action: ``hours`` of a rep's ``month``, expected LTV uplift in company currency;
    ``mark`` (``done`` / ``skipped``) and its ``note`` as marked (:mod:`tillage.services.marks`)."""

    month: dt.date
    action: str
    rep: str | None
    hours: float
    expected_uplift: float
    must_do: bool
    products: list[Any]
    mark: str | None = None
    note: str | None = None


def account_actions(
    session: Session, account_id: int, snapshot_id: int, *, visible: AccountFilter
) -> list[PlannedAction]:
    """The account's planned actions in the snapshot, by month then expected uplift."""
    _require_visible(session, account_id, visible)
    rows = session.execute(
        select(SnapshotAction, Rep.name, ActionMark.status, ActionMark.note)
        .outerjoin(Rep, Rep.id == SnapshotAction.rep_id)
        .outerjoin(ActionMark, mark_of_action())
        .where(SnapshotAction.snapshot_id == snapshot_id, SnapshotAction.account_id == account_id)
        .order_by(SnapshotAction.month, SnapshotAction.expected_uplift.desc())
    ).all()
    return [
        PlannedAction(
            month=a.month,
            action=a.action,
            rep=rep,
            hours=float(a.hours),
            expected_uplift=float(a.expected_uplift),
            must_do=bool(a.must_do),
            products=list(a.products or []),
            mark=mark,
            note=note,
        )
        for a, rep, mark, note in rows
    ]


@dataclass(frozen=True)
class ContactRow:
    """A person at the account, with the number and date of their last recorded activity."""

    name: str
    title: str | None
    department: str | None
    email: str | None
    decision_maker: bool
    activities: int
    last_activity: LocalTimestamp | None


def account_contacts(
    session: Session, account_id: int, *, visible: AccountFilter
) -> list[ContactRow]:
    """The account's contacts, decision makers first, then by most recent activity."""
    _require_visible(session, account_id, visible)
    touches = (
        select(
            Activity.contact_id,
            func.count().label("n"),
            func.max(Activity.occurred_at).label("last"),
        )
        .where(Activity.account_id == account_id, Activity.contact_id.is_not(None))
        .group_by(Activity.contact_id)
        .subquery()
    )
    rows = session.execute(
        select(Contact, touches.c.n, touches.c.last)
        .outerjoin(touches, touches.c.contact_id == Contact.id)
        .where(Contact.account_id == account_id)
        .order_by(
            Contact.is_decision_maker.desc(), touches.c.last.desc().nulls_last(), Contact.name
        )
    ).all()
    return [
        ContactRow(
            name=c.name,
            title=c.title,
            department=c.department,
            email=c.email,
            decision_maker=bool(c.is_decision_maker),
            activities=int(n or 0),
            last_activity=last,
        )
        for c, n, last in rows
    ]


@dataclass(frozen=True)
class TimelineEntry:
    """One activity: when, what kind, who (rep and contact), subject, minutes."""

    occurred_at: LocalTimestamp
    type: str
    rep: str | None
    contact: str | None
    subject: str | None
    duration_minutes: float | None


def account_timeline(
    session: Session, account_id: int, *, visible: AccountFilter, limit: int = 30
) -> list[TimelineEntry]:
    """The account's ``limit`` most recent activities, newest first."""
    _require_visible(session, account_id, visible)
    rows = session.execute(
        select(Activity, Rep.name, Contact.name)
        .outerjoin(Rep, Rep.id == Activity.rep_id)
        .outerjoin(Contact, Contact.id == Activity.contact_id)
        .where(Activity.account_id == account_id)
        .order_by(Activity.occurred_at.desc(), Activity.id.desc())
        .limit(limit)
    ).all()
    return [
        TimelineEntry(
            occurred_at=a.occurred_at,
            type=a.type,
            rep=rep,
            contact=contact,
            subject=a.subject,
            duration_minutes=a.duration_minutes,
        )
        for a, rep, contact in rows
    ]
