"""Queries behind the dashboard pages: portfolio cells, the filtered account list, one account's
history, signals, planned actions, contacts and activities.

Every function takes ``visible``, the caller's filter from
:func:`tillage.store.access.account_filter`, so a cell count, a page of accounts, its total and an
account's history count only what the caller may see. Amounts are in company currency;
probabilities are 0..1.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy import Select, case, func, or_, select
from sqlalchemy.orm import Session

from tillage.errors import NotFoundError
from tillage.store.access import AccountFilter
from tillage.store.listing import risk_bands, with_deal_in_zone
from tillage.store.schema import (
    Account,
    AccountScore,
    Activity,
    Contact,
    Rep,
    Snapshot,
    SnapshotAction,
    Team,
)

SEGMENTS: tuple[str, ...] = ("deepen", "maintain", "nurture", "reduce")
"""The value × growth cells: value high/growth high, high/low, low/high, low/low."""

RISKS: tuple[str, ...] = ("churn", "silent_churn", "key_person", "single_threaded", "borderline")
"""The risk filters of the account list (see :data:`RISK_THRESHOLD`)."""

RISK_THRESHOLD = 0.5
"""A silent-churn score or key-person risk at or above this counts as a risk; "high churn risk"
is the snapshot's high churn band (:func:`tillage.store.listing.risk_bands`, this bound for a
snapshot that records none)."""

ListSort = Literal["priority", "ltv", "revenue_12m", "churn_risk", "tenure_months", "name"]
LIST_SORTS: tuple[str, ...] = ListSort.__args__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Cell:
    """One portfolio cell: accounts in it, their total LTV, and how many are borderline."""

    key: str
    accounts: int
    total_ltv: float
    borderline: int


def segment_cells(session: Session, snapshot_id: int, *, visible: AccountFilter) -> list[Cell]:
    """The value × growth cells (:data:`SEGMENTS`, in that order) of a snapshot over the
    ``visible`` accounts; cells without accounts count 0. Accounts without a segment are left out
    (a snapshot scored before the portfolio existed has none)."""
    rows = session.execute(
        select(
            AccountScore.segment,
            func.count(),
            func.sum(AccountScore.ltv),
            func.sum(case((AccountScore.borderline.is_(True), 1), else_=0)),
        )
        .join(Account, Account.id == AccountScore.account_id)
        .where(AccountScore.snapshot_id == snapshot_id, AccountScore.segment.is_not(None), visible)
        .group_by(AccountScore.segment)
    ).all()
    found = {str(s): (int(n), float(t or 0.0), int(b or 0)) for s, n, t, b in rows}
    return [Cell(s, *found.get(s, (0, 0.0, 0))) for s in SEGMENTS]


@dataclass(frozen=True)
class ListFilters:
    """The account list's filters; ``None`` means no filter. ``rep`` and ``team`` are keys."""

    segment: str | None = None
    zone: str | None = None
    deal_zone: str | None = None
    rep: str | None = None
    team: str | None = None
    risk: str | None = None
    search: str | None = None

    def active(self) -> dict[str, str]:
        """The filters that are set, by name."""
        return {k: v for k, v in self.__dict__.items() if v}


@dataclass(frozen=True)
class ListRow:
    """An account's row in the dashboard's list. Amounts in company currency."""

    account_id: int
    key: str
    name: str
    owner: str | None
    team: str | None
    zone: str | None
    segment: str | None
    borderline: bool
    priority: float | None
    ltv: float
    revenue_12m: float
    churn_risk: float | None
    tenure_months: float
    reasons: list[dict[str, Any]] = field(default_factory=list)


def _risk_clause(risk: str, churn_high: float = RISK_THRESHOLD) -> Any:
    if risk == "churn":
        return AccountScore.churn_risk >= churn_high
    if risk == "silent_churn":
        return AccountScore.silent_churn >= RISK_THRESHOLD
    if risk == "key_person":
        return AccountScore.key_person_risk >= RISK_THRESHOLD
    if risk == "single_threaded":
        return AccountScore.single_threaded.is_(True)
    if risk == "borderline":
        return AccountScore.borderline.is_(True)
    raise ValueError(f"unknown risk filter {risk!r}; choose one of {', '.join(RISKS)}")


def _filtered(
    query: Select, filters: ListFilters, snapshot_id: int, churn_high: float = RISK_THRESHOLD
) -> Select:
    if filters.deal_zone:
        query = query.where(with_deal_in_zone(snapshot_id, filters.deal_zone))
    if filters.segment:
        query = query.where(AccountScore.segment == filters.segment)
    if filters.zone:
        query = query.where(AccountScore.zone == filters.zone)
    if filters.rep:
        query = query.where(Rep.key == filters.rep)
    if filters.team:
        query = query.where(Team.key == filters.team)
    if filters.risk:
        query = query.where(_risk_clause(filters.risk, churn_high))
    if filters.search:
        escaped = filters.search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{escaped}%"
        query = query.where(
            or_(
                Account.name.ilike(pattern, escape="\\"),
                Account.key.ilike(pattern, escape="\\"),
            )
        )
    return query


@dataclass(frozen=True)
class ListPage:
    """A page of the account list: how many accounts match, their total LTV, and the rows."""

    total: int
    total_ltv: float
    rows: list[ListRow]


def list_accounts(
    session: Session,
    snapshot_id: int,
    *,
    visible: AccountFilter,
    filters: ListFilters | None = None,
    sort: ListSort = "priority",
    descending: bool = True,
    limit: int = 50,
    offset: int = 0,
) -> ListPage:
    """A page of a snapshot's ``visible`` accounts matching ``filters``, with the number and
    total LTV of all that match.

    ``search`` matches the account's name or key (case-insensitive substring). Sorting puts
    missing values last either way, then orders by LTV (highest first) and account id, so pages
    are stable.
    """
    filters = filters or ListFilters()
    column = {
        "priority": AccountScore.priority,
        "ltv": AccountScore.ltv,
        "revenue_12m": AccountScore.revenue_12m,
        "churn_risk": AccountScore.churn_risk,
        "tenure_months": AccountScore.tenure_months,
        "name": Account.name,
    }[sort]
    order = (column.desc() if descending else column.asc()).nulls_last()
    base = _filtered(
        select(
            Account.id,
            Account.key,
            Account.name,
            Rep.name.label("owner"),
            Team.name.label("team"),
            AccountScore.zone,
            AccountScore.segment,
            AccountScore.borderline,
            AccountScore.priority,
            AccountScore.ltv,
            AccountScore.revenue_12m,
            AccountScore.churn_risk,
            AccountScore.tenure_months,
            AccountScore.reasons,
        )
        .join(AccountScore, AccountScore.account_id == Account.id)
        .outerjoin(Rep, Rep.id == Account.owner_id)
        .outerjoin(Team, Team.id == Rep.team_id)
        .where(AccountScore.snapshot_id == snapshot_id, visible),
        filters,
        snapshot_id,
        # "high churn risk" is the snapshot's high band, set from the company's own risks
        risk_bands(session, snapshot_id)["high"][0] if filters.risk == "churn" else RISK_THRESHOLD,
    )
    matching = base.subquery()
    total, total_ltv = session.execute(
        select(func.count(), func.sum(matching.c.ltv)).select_from(matching)
    ).one()
    rows = session.execute(
        base.order_by(order, AccountScore.ltv.desc(), Account.id).limit(limit).offset(offset)
    ).all()
    page = [
        ListRow(
            account_id=r.id,
            key=r.key,
            name=r.name,
            owner=r.owner,
            team=r.team,
            zone=r.zone,
            segment=r.segment,
            borderline=bool(r.borderline),
            priority=None if r.priority is None else float(r.priority),
            ltv=float(r.ltv or 0.0),
            revenue_12m=float(r.revenue_12m or 0.0),
            churn_risk=None if r.churn_risk is None else float(r.churn_risk),
            tenure_months=float(r.tenure_months or 0.0),
            reasons=list(r.reasons or []),
        )
        for r in rows
    ]
    return ListPage(int(total or 0), float(total_ltv or 0.0), page)


def filter_choices(
    session: Session, *, visible: AccountFilter
) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(reps, teams) owning the ``visible`` accounts, each as (key, name) sorted by name."""
    owners = select(Account.owner_id).where(visible, Account.owner_id.is_not(None))
    reps = session.execute(
        select(Rep.key, Rep.name).where(Rep.id.in_(owners)).order_by(Rep.name, Rep.key)
    ).all()
    teams = session.execute(
        select(Team.key, Team.name)
        .where(Team.id.in_(select(Rep.team_id).where(Rep.id.in_(owners))))
        .order_by(Team.name, Team.key)
    ).all()
    return [(k, n) for k, n in reps], [(k, n) for k, n in teams]


@dataclass(frozen=True)
class HistoryPoint:
    """An account's scores in one snapshot. Amounts in company currency."""

    as_of: dt.date
    ltv: float
    ltv_low: float | None
    ltv_high: float | None
    p_alive: float | None
    churn_risk: float | None
    zone: str | None
    segment: str | None


def _number(value: float | None) -> float | None:
    return None if value is None else float(value)


def _require_visible(session: Session, account_id: int, visible: AccountFilter) -> None:
    if session.scalar(select(Account.id).where(Account.id == account_id, visible)) is None:
        raise NotFoundError(f"account {account_id} does not exist or is not visible to you")


def account_history(
    session: Session, account_id: int, *, visible: AccountFilter
) -> list[HistoryPoint]:
    """The account's scores in every complete snapshot, oldest first (one point per as-of date:
    the newest snapshot of that date). :class:`NotFoundError` when not visible."""
    _require_visible(session, account_id, visible)
    rows = session.execute(
        select(Snapshot.as_of, AccountScore)
        .join(AccountScore, AccountScore.snapshot_id == Snapshot.id)
        .where(AccountScore.account_id == account_id, Snapshot.status == "complete")
        .order_by(Snapshot.as_of, Snapshot.id)
    ).all()
    by_date: dict[dt.date, HistoryPoint] = {}
    for as_of, score in rows:
        by_date[as_of] = HistoryPoint(
            as_of=as_of,
            ltv=float(score.ltv or 0.0),
            ltv_low=_number(score.ltv_low),
            ltv_high=_number(score.ltv_high),
            p_alive=_number(score.p_alive),
            churn_risk=_number(score.churn_risk),
            zone=score.zone,
            segment=score.segment,
        )
    return list(by_date.values())


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
    """A planned action: ``hours`` of a rep's ``month``, expected LTV uplift in company currency."""

    month: dt.date
    action: str
    rep: str | None
    hours: float
    expected_uplift: float
    must_do: bool
    products: list[Any]


def account_actions(
    session: Session, account_id: int, snapshot_id: int, *, visible: AccountFilter
) -> list[PlannedAction]:
    """The account's planned actions in the snapshot, by month then expected uplift."""
    _require_visible(session, account_id, visible)
    rows = session.execute(
        select(SnapshotAction, Rep.name)
        .outerjoin(Rep, Rep.id == SnapshotAction.rep_id)
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
        )
        for a, rep in rows
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
    last_activity: dt.datetime | None


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

    occurred_at: dt.datetime
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
