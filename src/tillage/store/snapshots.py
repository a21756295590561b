"""Score snapshots: written atomically, read back page by page.

A snapshot with all of its account scores, scored open deals and planned actions is inserted in
one transaction, so readers see either the previous snapshot or the complete new one, never a
mix.

Every reader of accounts takes ``visible``, the caller's filter from
:func:`tillage.store.access.account_filter` (or :func:`~tillage.store.access.everything` for the
operator), so totals and pages only ever count what the caller may see.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import pandas as pd
from sqlalchemy import ColumnElement, Engine, and_, func, insert, or_, select, update
from sqlalchemy.orm import InstrumentedAttribute, Session
from sqlalchemy.sql.elements import True_

from tillage.errors import NotFoundError
from tillage.store.access import AccountFilter
from tillage.store.bulk import insert_frame
from tillage.store.schema import Account, AccountScore, Rep, Snapshot, SnapshotDeal, Team

SCORE_COLUMNS = (
    "account_id",
    "revenue_12m",
    "tenure_months",
    "ltv",
    "ltv_low",
    "ltv_high",
    "churn_risk",
    "growth",
    "priority",
    "zone",
    "segment",
    "reasons",
    "expected_revenue",
    "p_alive",
    "rep_id",
    "days_to_renewal",
    "p_cell",
    "borderline",
    "key_person_risk",
    "single_threaded",
    "silent_churn",
    "signals",
)
DEAL_COLUMNS = (
    "opportunity_id",
    "account_id",
    "amount",
    "win_probability",
    "expected_value",
    "zone",
    "p_zone",
    "borderline",
)
ACTION_COLUMNS = (
    "account_id",
    "rep_id",
    "month",
    "action",
    "hours",
    "expected_uplift",
    "must_do",
    "products",
)


def _json_text(frame: pd.DataFrame, columns: tuple[str, ...]) -> pd.DataFrame:
    """JSON columns as JSON text (the bulk insert binds plain values); missing stays null."""
    frame = frame.copy()
    for name in columns:
        if name in frame.columns:
            frame[name] = [
                None if v is None or (isinstance(v, float) and v != v) else json.dumps(v)
                for v in frame[name]
            ]
    return frame


def write_snapshot(
    engine: Engine,
    *,
    as_of: dt.date,
    created_at: dt.datetime,
    scores: pd.DataFrame,
    models: dict | None = None,
    label: str | None = None,
    strategy_hash: str | None = None,
    deals: pd.DataFrame | None = None,
    actions: pd.DataFrame | None = None,
) -> int:
    """Insert a snapshot, its per-account ``scores``, its scored open ``deals`` and its planned
    ``actions`` in one transaction; return its id.

    ``scores`` has ``account_id`` and any of :data:`SCORE_COLUMNS`; ``deals`` and ``actions``
    columns of ``snapshot_deals`` and ``snapshot_actions`` (JSON columns as Python lists).
    The snapshot row is inserted as 'writing' and set 'complete' as the transaction's last
    statement; readers only ever look at complete snapshots, and a run that dies before the
    commit leaves nothing behind (the transaction is rolled back).
    """
    with engine.begin() as connection:
        snapshot_id = connection.execute(
            insert(Snapshot)
            .values(
                as_of=as_of,
                created_at=created_at,
                status="writing",
                label=label,
                strategy_hash=strategy_hash,
                models=models,
            )
            .returning(Snapshot.id)
        ).scalar_one()
        parts = [
            ("account_scores", scores, SCORE_COLUMNS, ("reasons", "signals")),
            ("snapshot_deals", deals, DEAL_COLUMNS, ()),
            ("snapshot_actions", actions, ACTION_COLUMNS, ("products",)),
        ]
        for table, frame, known, json_columns in parts:
            if frame is None or frame.empty:
                continue
            rows = _json_text(frame[[c for c in known if c in frame.columns]], json_columns)
            rows.insert(0, "snapshot_id", snapshot_id)
            insert_frame(connection, table, rows)
        connection.execute(
            update(Snapshot).where(Snapshot.id == snapshot_id).values(status="complete")
        )
    return int(snapshot_id)


def latest_snapshot(session: Session) -> Snapshot:
    """The newest complete snapshot (by as-of date, then id)."""
    snapshot = session.scalars(
        select(Snapshot)
        .where(Snapshot.status == "complete")
        .order_by(Snapshot.as_of.desc(), Snapshot.id.desc())
        .limit(1)
    ).first()
    if snapshot is None:
        raise NotFoundError(
            "no scoring snapshot exists yet: run `tillage score` (or `tillage demo`)"
        )
    return snapshot


@dataclass(frozen=True)
class SnapshotInfo:
    """A scoring run: the business date it describes (``as_of``), when it ran (``created_at``,
    business time zone), its label and the SHA-256 of the strategy it used."""

    id: int
    as_of: dt.date
    created_at: dt.datetime
    label: str | None
    strategy_hash: str | None
    status: str


def _info(snapshot: Snapshot) -> SnapshotInfo:
    return SnapshotInfo(
        id=snapshot.id,
        as_of=snapshot.as_of,
        created_at=snapshot.created_at,
        label=snapshot.label,
        strategy_hash=snapshot.strategy_hash,
        status=snapshot.status,
    )


def list_snapshots(session: Session, *, limit: int = 100, offset: int = 0) -> list[SnapshotInfo]:
    """Snapshots, newest first (by as-of date, then id)."""
    rows = session.scalars(
        select(Snapshot)
        .order_by(Snapshot.as_of.desc(), Snapshot.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return [_info(s) for s in rows]


def get_snapshot(session: Session, snapshot_id: int) -> Snapshot:
    """The snapshot ``snapshot_id``; :class:`NotFoundError` when there is none."""
    snapshot = session.get(Snapshot, snapshot_id)
    if snapshot is None:
        raise NotFoundError(f"snapshot {snapshot_id} does not exist: see /api/v1/snapshots")
    return snapshot


def snapshot_info(session: Session, snapshot_id: int) -> SnapshotInfo:
    """:func:`get_snapshot` as a :class:`SnapshotInfo`."""
    return _info(get_snapshot(session, snapshot_id))


@dataclass(frozen=True)
class ScoreRow:
    """One account's row in a snapshot listing. Amounts in company currency; ``churn_risk`` a
    probability; ``tenure_months`` months; ``owner`` and ``team`` the current owner's names."""

    account_id: int
    key: str
    name: str
    owner: str | None
    zone: str | None
    ltv: float
    revenue_12m: float
    tenure_months: float
    team: str | None = None
    segment: str | None = None
    churn_risk: float | None = None
    priority: float | None = None
    borderline: bool | None = None


SortKey = Literal["ltv", "revenue_12m", "tenure_months", "churn_risk", "priority", "name", "key"]
SORT_COLUMNS: dict[str, InstrumentedAttribute] = {
    "ltv": AccountScore.ltv,
    "revenue_12m": AccountScore.revenue_12m,
    "tenure_months": AccountScore.tenure_months,
    "churn_risk": AccountScore.churn_risk,
    "priority": AccountScore.priority,
    "name": Account.name,
    "key": Account.key,
}
"""The columns a listing may be sorted by (a whitelist: nothing else reaches ORDER BY)."""
DESCENDING_BY_DEFAULT = frozenset({"ltv", "revenue_12m", "tenure_months", "churn_risk", "priority"})
NULLABLE_SORTS = frozenset({"churn_risk", "priority"})

RiskBand = Literal["low", "medium", "high"]
RISK_BANDS: dict[str, tuple[float, float | None]] = {
    "low": (0.0, 0.2),
    "medium": (0.2, 0.5),
    "high": (0.5, None),
}
"""Churn-risk bands, as ``[lower, upper)`` bounds on the probability ``churn_risk``."""


@dataclass(frozen=True)
class ScoreFilter:
    """What a listing keeps, every field optional (``None``: no condition).

    ``rep`` and ``team`` are the natural keys of the account's current owner and their team;
    ``risk`` a :data:`RISK_BANDS` band of ``churn_risk``; ``search`` a case-insensitive substring
    of the account's name or key; ``deal_zone`` keeps accounts with an open deal in that zone.
    """

    zone: str | None = None
    segment: str | None = None
    rep: str | None = None
    team: str | None = None
    risk: RiskBand | None = None
    borderline: bool | None = None
    search: str | None = None
    deal_zone: str | None = None


def with_deal_in_zone(snapshot_id: int, zone: str) -> ColumnElement[bool]:
    """The accounts with an open deal scored in ``zone`` (A / B / C) in the snapshot: the
    listing filter behind a click on the portfolio's deal matrix, in the page and the API."""
    deals = select(SnapshotDeal.account_id).where(
        SnapshotDeal.snapshot_id == snapshot_id, SnapshotDeal.zone == zone
    )
    return AccountScore.account_id.in_(deals)


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped.lower()}%"


def _conditions(where: ScoreFilter, snapshot_id: int) -> list[ColumnElement[bool]]:
    found: list[ColumnElement[bool]] = []
    if where.deal_zone is not None:
        found.append(with_deal_in_zone(snapshot_id, where.deal_zone))
    if where.zone is not None:
        found.append(AccountScore.zone == where.zone)
    if where.segment is not None:
        found.append(AccountScore.segment == where.segment)
    if where.rep is not None:
        found.append(Rep.key == where.rep)
    if where.team is not None:
        found.append(Team.key == where.team)
    if where.risk is not None:
        low, high = RISK_BANDS[where.risk]
        found.append(AccountScore.churn_risk >= low)
        if high is not None:
            found.append(AccountScore.churn_risk < high)
    if where.borderline is not None:
        flag = AccountScore.borderline.is_(True)
        found.append(flag if where.borderline else or_(AccountScore.borderline.is_(None), ~flag))
    if where.search:
        pattern = _like(where.search)
        found.append(
            or_(
                func.lower(Account.name).like(pattern, escape="\\"),
                func.lower(Account.key).like(pattern, escape="\\"),
            )
        )
    return found


Cursor = tuple[float | str | None, int]
"""Where a page ended: the last row's sort value and account id (keyset pagination)."""


def _after(column: ColumnElement, descending: bool, nullable: bool, cursor: Cursor):  # type: ignore[no-untyped-def]
    value, last_id = cursor
    beyond = AccountScore.account_id < last_id if descending else AccountScore.account_id > last_id
    if value is None:  # NULLs come last: only NULL rows with a later id remain
        return and_(column.is_(None), beyond)
    further = column < value if descending else column > value
    condition = or_(further, and_(column == value, beyond))
    return or_(condition, column.is_(None)) if nullable else condition


def list_scores(
    session: Session,
    snapshot_id: int,
    *,
    visible: AccountFilter,
    limit: int = 50,
    offset: int = 0,
    sort: SortKey = "ltv",
    descending: bool | None = None,
    zone: str | None = None,
    where: ScoreFilter | None = None,
    after: Cursor | None = None,
    count: bool = True,
) -> tuple[int, list[ScoreRow]]:
    """A page of a snapshot's scores of the ``visible`` accounts; returns (total, rows).

    ``sort`` is one of :data:`SORT_COLUMNS` (numbers highest first, names A→Z unless
    ``descending`` says otherwise; missing values last; ties by account id in the same
    direction). ``where`` filters; ``total`` counts every row that passes (0 when ``count`` is
    false). ``after`` continues after a row (keyset pagination, fast however deep the page);
    ``offset`` skips rows instead.
    """
    where = replace(where or ScoreFilter(), zone=zone) if zone is not None else where
    column = SORT_COLUMNS[sort]
    desc = sort in DESCENDING_BY_DEFAULT if descending is None else descending
    base = (
        select(
            Account.id,
            Account.key,
            Account.name,
            Rep.name.label("owner"),
            Team.name.label("team"),
            AccountScore.zone,
            AccountScore.ltv,
            AccountScore.revenue_12m,
            AccountScore.tenure_months,
            AccountScore.segment,
            AccountScore.churn_risk,
            AccountScore.priority,
            AccountScore.borderline,
        )
        .join(AccountScore, AccountScore.account_id == Account.id)
        .outerjoin(Rep, Rep.id == Account.owner_id)
        .outerjoin(Team, Team.id == Rep.team_id)
        .where(
            AccountScore.snapshot_id == snapshot_id,
            visible,
            *_conditions(where or ScoreFilter(), snapshot_id),
        )
    )
    # A caller who sees part of the accounts pays for the visibility filter in every query:
    # an offset page counts its rows in the same pass (a window count) rather than a second
    # query. An admin's count is an index-only scan, and a keyset page does not see them all.
    windowed = count and after is None and not isinstance(visible, True_)
    page = base.add_columns(func.count().over().label("total")) if windowed else base
    if after is not None:
        page = page.where(_after(column, desc, sort in NULLABLE_SORTS, after))
    order = (
        [column.desc().nulls_last(), AccountScore.account_id.desc()]
        if desc
        else [column.asc().nulls_last(), AccountScore.account_id.asc()]
    )
    if sort not in NULLABLE_SORTS:  # plain ORDER BY lets an index serve it
        order = (
            [column.desc(), AccountScore.account_id.desc()]
            if desc
            else [column, AccountScore.account_id]
        )
    rows = session.execute(page.order_by(*order).limit(limit).offset(offset)).all()
    if windowed and rows:
        total = rows[0].total
    elif count and (rows or offset or after is not None):
        total = _count(session, snapshot_id, visible, where or ScoreFilter())
    else:
        total = 0  # not asked, or the first page is empty
    return int(total or 0), [
        ScoreRow(
            account_id=r.id,
            key=r.key,
            name=r.name,
            owner=r.owner,
            team=r.team,
            zone=r.zone,
            ltv=float(r.ltv or 0.0),
            revenue_12m=float(r.revenue_12m or 0.0),
            tenure_months=float(r.tenure_months or 0.0),
            segment=r.segment,
            churn_risk=None if r.churn_risk is None else float(r.churn_risk),
            priority=None if r.priority is None else float(r.priority),
            borderline=r.borderline,
        )
        for r in rows
    ]


def _count(session: Session, snapshot_id: int, visible: AccountFilter, where: ScoreFilter) -> int:
    """Rows of a listing, joining only the tables its filters need (an admin's unfiltered
    count reads the snapshot's index alone)."""
    query = select(func.count()).select_from(AccountScore)
    by_owner = where.rep is not None or where.team is not None
    if by_owner or where.search or not isinstance(visible, True_):
        query = query.join(Account, Account.id == AccountScore.account_id).where(visible)
    if by_owner:
        query = query.join(Rep, Rep.id == Account.owner_id).outerjoin(Team, Team.id == Rep.team_id)
    query = query.where(AccountScore.snapshot_id == snapshot_id, *_conditions(where, snapshot_id))
    return int(session.scalar(query) or 0)


def cursor_of(row: ScoreRow, sort: SortKey) -> Cursor:
    """The keyset cursor after ``row`` in a listing sorted by ``sort``."""
    return getattr(row, sort), row.account_id


def zone_totals(
    session: Session, snapshot_id: int, *, visible: AccountFilter
) -> list[tuple[str, int, float]]:
    """(zone, number of accounts, total LTV) per zone of a snapshot over the ``visible`` accounts,
    zones in order."""
    query = select(AccountScore.zone, func.count(), func.sum(AccountScore.ltv))
    if not isinstance(visible, True_):  # everything: the snapshot's rows alone
        query = query.join(Account, Account.id == AccountScore.account_id).where(visible)
    rows = session.execute(
        query.where(AccountScore.snapshot_id == snapshot_id)
        .group_by(AccountScore.zone)
        .order_by(AccountScore.zone)
    ).all()
    return [(str(z), int(n), float(total or 0.0)) for z, n, total in rows]


@dataclass(frozen=True)
class ScorePoint:
    """An account's scores in one snapshot (its history is a list of these, newest first).

    Amounts in company currency; ``churn_risk`` a probability.
    """

    snapshot_id: int
    as_of: dt.date
    ltv: float | None
    ltv_low: float | None
    ltv_high: float | None
    churn_risk: float | None
    zone: str | None
    segment: str | None


@dataclass(frozen=True)
class AccountDetail:
    """One account's basic fields and its scores in the latest snapshot (``None`` if unscored),
    with its history across snapshots.

    Amounts in company currency (``ltv`` with its interval ``ltv_low`` … ``ltv_high``,
    ``expected_revenue`` the revenue expected over the 12 months after the snapshot's date);
    ``churn_risk``, ``p_alive`` and ``p_cell`` probabilities; ``key_person_risk`` and
    ``silent_churn`` scores from 0 to 1; ``tenure_months`` months; ``days_to_renewal`` days.
    ``reasons`` and ``signals`` are the scoring run's codes with their values.
    """

    account_id: int
    key: str
    name: str
    industry: str | None
    employees: int | None
    region: str | None
    country: str | None
    owner: str | None
    team: str | None
    customer_since: dt.date | None
    snapshot_id: int | None
    zone: str | None
    segment: str | None
    ltv: float | None
    ltv_low: float | None
    ltv_high: float | None
    revenue_12m: float | None
    churn_risk: float | None
    growth: float | None
    priority: float | None
    tenure_months: float | None
    expected_revenue: float | None = None
    p_alive: float | None = None
    days_to_renewal: int | None = None
    p_cell: float | None = None
    borderline: bool | None = None
    key_person_risk: float | None = None
    single_threaded: bool | None = None
    silent_churn: float | None = None
    reasons: list[Any] | None = None
    signals: list[Any] | None = None
    history: list[ScorePoint] = field(default_factory=list)


_FLOATS = (
    "ltv",
    "ltv_low",
    "ltv_high",
    "revenue_12m",
    "churn_risk",
    "growth",
    "priority",
    "tenure_months",
    "expected_revenue",
    "p_alive",
    "p_cell",
    "key_person_risk",
    "silent_churn",
)
_AS_IS = (
    "zone",
    "segment",
    "days_to_renewal",
    "borderline",
    "single_threaded",
    "reasons",
    "signals",
)


def _number(value: object) -> float | None:
    return None if value is None else float(value)  # type: ignore[arg-type]


def account_history(
    session: Session, account_id: int, *, limit: int | None = None
) -> list[ScorePoint]:
    """The account's scores in every complete snapshot, newest first (call after checking that
    the caller may see the account)."""
    query = (
        select(Snapshot.id, Snapshot.as_of, AccountScore)
        .join(AccountScore, AccountScore.snapshot_id == Snapshot.id)
        .where(AccountScore.account_id == account_id, Snapshot.status == "complete")
        .order_by(Snapshot.as_of.desc(), Snapshot.id.desc())
    )
    if limit is not None:
        query = query.limit(limit)
    return [
        ScorePoint(
            snapshot_id=snapshot_id,
            as_of=as_of,
            ltv=_number(score.ltv),
            ltv_low=_number(score.ltv_low),
            ltv_high=_number(score.ltv_high),
            churn_risk=_number(score.churn_risk),
            zone=score.zone,
            segment=score.segment,
        )
        for snapshot_id, as_of, score in session.execute(query)
    ]


def account_detail(
    session: Session, account_id: int, *, visible: AccountFilter, history: bool = True
) -> AccountDetail:
    """An account with its latest scores and (``history``) its scores in every snapshot;
    :class:`NotFoundError` if it does not exist *or* is not visible to the caller (the two are
    indistinguishable on purpose)."""
    row = session.execute(
        select(Account, Rep.name.label("owner"), Team.name.label("team"))
        .outerjoin(Rep, Rep.id == Account.owner_id)
        .outerjoin(Team, Team.id == Rep.team_id)
        .where(Account.id == account_id, visible)
    ).first()
    if row is None:
        raise NotFoundError(f"account {account_id} does not exist or is not visible to you")
    account: Account = row.Account
    score = None
    snapshot = session.scalars(
        select(Snapshot)
        .where(Snapshot.status == "complete")
        .order_by(Snapshot.as_of.desc(), Snapshot.id.desc())
        .limit(1)
    ).first()
    if snapshot is not None:
        score = session.scalars(
            select(AccountScore).where(
                AccountScore.snapshot_id == snapshot.id, AccountScore.account_id == account_id
            )
        ).first()
    scores: dict[str, Any] = {}
    if score is not None:
        scores = {name: _number(getattr(score, name)) for name in _FLOATS}
        scores.update({name: getattr(score, name) for name in _AS_IS})
        scores["snapshot_id"] = snapshot.id if snapshot is not None else None
    else:
        scores = dict.fromkeys(("snapshot_id", *_FLOATS, "zone", "segment"))
    return AccountDetail(
        account_id=account.id,
        key=account.key,
        name=account.name,
        industry=account.industry,
        employees=account.employees,
        region=account.region,
        country=account.country,
        owner=row.owner,
        team=row.team,
        customer_since=account.customer_since,
        history=account_history(session, account_id) if history else [],
        **scores,
    )
