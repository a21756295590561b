"""The account listing of a snapshot: filters, sorts, offset and keyset pages, totals.

One reader serves the JSON list, the CSV export, the dashboard's list and the demo
(:func:`list_scores`, through :mod:`tillage.services.accounts`), with one set of filters
(:class:`ScoreFilter`). Every query takes ``visible``, the
caller's filter from :func:`tillage.store.access.account_filter`, so totals and pages only ever
count what the caller may see.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal, NamedTuple

import numpy as np
from sqlalchemy import ColumnElement, Float, Row, Select, and_, cast, func, or_, select
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.orm import InstrumentedAttribute, Session

from tillage.store.access import AccountFilter, on_score_rows, reads_accounts
from tillage.store.schema import Account, AccountScore, Rep, Snapshot, SnapshotDeal, Team


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
    reasons: list[dict[str, Any]] | None = None


class ScorePage(NamedTuple):
    """A page of a listing: how many rows match (``total``), their total LTV (company
    currency; 0 when not counted) and the page's rows."""

    total: int
    total_ltv: float
    rows: list[ScoreRow]


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

RISK_BANDS: dict[str, tuple[float, float | None]] = {
    "low": (0.0, 0.2),
    "medium": (0.2, 0.5),
    "high": (0.5, None),
}
"""Churn-risk bands, as ``[lower, upper)`` bounds on the probability ``churn_risk``: the fixed
bands of a snapshot whose record has none (see :func:`risk_bands`)."""

Bands = dict[str, tuple[float, float | None]]


def risk_bands(session: Session, snapshot_id: int) -> Bands:
    """The churn-risk bands of a snapshot: the bounds its scoring run set from the company's own
    risks (its record's ``churn_bands``: ``medium`` and ``high`` lower bounds, see
    :func:`tillage.strategy.portfolio.churn_bands`), else :data:`RISK_BANDS`."""
    models = session.scalar(select(Snapshot.models).where(Snapshot.id == snapshot_id))
    bands = models.get("churn_bands") if isinstance(models, dict) else None
    if not isinstance(bands, dict) or "medium" not in bands or "high" not in bands:
        return RISK_BANDS
    medium, high = float(bands["medium"]), float(bands["high"])
    return {"low": (0.0, medium), "medium": (medium, high), "high": (high, None)}


RISK_THRESHOLD = 0.5
"""A silent-churn score or key-person risk at or above this counts as a risk flag; the churn flag
is the snapshot's high churn band (:func:`risk_bands`)."""

RISK_FLAGS: tuple[str, ...] = (
    "churn",
    "silent_churn",
    "key_person",
    "single_threaded",
    "borderline",
)
"""The risk flags: ``churn_risk`` in the snapshot's high band, ``silent_churn`` or
``key_person_risk`` ≥ :data:`RISK_THRESHOLD`, single-threaded, or a borderline portfolio cell."""

Risk = Literal[
    "low", "medium", "high", "churn", "silent_churn", "key_person", "single_threaded", "borderline"
]
"""A ``risk`` filter: a churn band of :data:`RISK_BANDS` or one of :data:`RISK_FLAGS` — the
same meaning on the page, in the API, the CSV export and the CLI."""


@dataclass(frozen=True)
class ScoreFilter:
    """What a listing keeps, every field optional (``None``: no condition).

    ``rep`` and ``team`` are the natural keys of the account's current owner and their team;
    ``risk`` a :data:`RISK_BANDS` band of ``churn_risk`` or one of :data:`RISK_FLAGS`;
    ``search`` a case-insensitive substring of the account's name or key; ``deal_zone`` keeps
    accounts with an open deal in that zone.
    """

    zone: str | None = None
    segment: str | None = None
    rep: str | None = None
    team: str | None = None
    risk: Risk | None = None
    borderline: bool | None = None
    search: str | None = None
    deal_zone: str | None = None

    def active(self) -> dict[str, object]:
        """The filters that are set, by name."""
        return {k: v for k, v in self.__dict__.items() if v is not None and v != ""}


def with_deal_in_zone(snapshot_id: int, zone: str) -> ColumnElement[bool]:
    """The accounts with an open deal scored in ``zone`` (A / B / C) in the snapshot: the
    listing filter behind a click on the portfolio's deal matrix, in the page and the API."""
    deals = select(SnapshotDeal.account_id).where(
        SnapshotDeal.snapshot_id == snapshot_id, SnapshotDeal.zone == zone
    )
    return AccountScore.account_id.in_(deals)


def _risk_clause(risk: str, bands: Bands = RISK_BANDS) -> ColumnElement[bool]:
    if risk in bands:
        low, high = bands[risk]
        band = AccountScore.churn_risk >= low
        return band if high is None else and_(band, AccountScore.churn_risk < high)
    clauses: dict[str, ColumnElement[bool]] = {
        "churn": AccountScore.churn_risk >= bands["high"][0],
        "silent_churn": AccountScore.silent_churn >= RISK_THRESHOLD,
        "key_person": AccountScore.key_person_risk >= RISK_THRESHOLD,
        "single_threaded": AccountScore.single_threaded.is_(True),
        "borderline": AccountScore.borderline.is_(True),
    }
    if risk not in clauses:
        choices = ", ".join([*RISK_BANDS, *RISK_FLAGS])
        raise ValueError(f"unknown risk filter {risk!r}; choose one of {choices}")
    return clauses[risk]


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped.lower()}%"


def _conditions(
    where: ScoreFilter, snapshot_id: int, bands: Bands = RISK_BANDS
) -> list[ColumnElement[bool]]:
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
        found.append(_risk_clause(where.risk, bands))
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
) -> ScorePage:
    """A page of a snapshot's scores of the ``visible`` accounts, with the number and total LTV
    of the rows that match.

    ``sort`` is one of :data:`SORT_COLUMNS` (numbers highest first, names A→Z unless
    ``descending`` says otherwise; missing values last; ties by account id in the same
    direction). ``where`` filters; ``total`` counts every row that passes and ``total_ltv``
    sums their LTV (both 0 when ``count`` is false). ``after`` continues after a row (keyset
    pagination, fast however deep the page); ``offset`` skips rows instead.
    """
    where = replace(where or ScoreFilter(), zone=zone) if zone is not None else where
    where = where or ScoreFilter()
    column = SORT_COLUMNS[sort]
    desc = sort in DESCENDING_BY_DEFAULT if descending is None else descending
    # the caller's filter on the scores' account id: it then sits on the index scan in sort
    # order, which stops at the page (rather than on the accounts joined to it)
    on_scores = on_score_rows(visible)
    conditions = _conditions(where, snapshot_id, _bands(session, snapshot_id, where))
    order = _order(sort, desc)
    base = _base(snapshot_id)
    beyond = [] if after is None else [_after(column, desc, sort in NULLABLE_SORTS, after)]
    if _scores_only(where, sort, on_scores):
        # the page's ids first, from the snapshot's rows alone (an index-only walk in sort
        # order), then the 50 accounts joined: the rows an offset skips are never joined
        ids = (
            select(AccountScore.account_id)
            .where(AccountScore.snapshot_id == snapshot_id, on_scores, *conditions, *beyond)
            .order_by(*order)
            .limit(limit)
            .offset(offset)
        )
        query = base.where(AccountScore.account_id.in_(ids.scalar_subquery())).order_by(*order)
    else:
        # sorted by name or key the walk is over ``accounts`` (their name index): the filter
        # stays there
        by_account = sort in ("name", "key")
        query = (
            base.where(visible if by_account else on_scores, *conditions, *beyond)
            .order_by(*order)
            .limit(limit)
            .offset(offset)
        )
    rows = session.execute(query).all()
    if count and (rows or offset or after is not None):
        total, total_ltv = _count(session, snapshot_id, visible, where)
    else:
        total, total_ltv = 0, 0.0  # not asked, or the first page is empty
    return ScorePage(int(total or 0), float(total_ltv or 0.0), [_score_row(r) for r in rows])


def _order(sort: SortKey, desc: bool) -> list[ColumnElement[Any]]:
    """ORDER BY of a listing: the sort column (missing values last), ties by account id in the
    same direction."""
    column = SORT_COLUMNS[sort]
    if sort not in NULLABLE_SORTS:  # plain ORDER BY lets an index serve it
        return (
            [column.desc(), AccountScore.account_id.desc()]
            if desc
            else [column, AccountScore.account_id]
        )
    if desc:
        return [column.desc().nulls_last(), AccountScore.account_id.desc()]
    return [column.asc().nulls_last(), AccountScore.account_id.asc()]


def _base(snapshot_id: int) -> Select[Any]:
    """The listing's row: the account, its owner and team, and its scores in the snapshot."""
    return (
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
            AccountScore.reasons,
        )
        .join(AccountScore, AccountScore.account_id == Account.id)
        .outerjoin(Rep, Rep.id == Account.owner_id)
        .outerjoin(Team, Team.id == Rep.team_id)
        .where(AccountScore.snapshot_id == snapshot_id)
    )


def _score_row(r: Row[Any]) -> ScoreRow:
    return ScoreRow(
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
        reasons=list(r.reasons or []),
    )


class Order(NamedTuple):
    """Every row of a listing, in its order: the account ids (``ids``, int32) and the number
    and total LTV (company currency) of the rows."""

    ids: np.ndarray
    total_ltv: float

    @property
    def total(self) -> int:
        """How many rows match."""
        return len(self.ids)


def listing_order(
    session: Session,
    snapshot_id: int,
    *,
    visible: AccountFilter,
    sort: SortKey = "ltv",
    descending: bool | None = None,
    where: ScoreFilter | None = None,
) -> Order:
    """The ids of every row of a listing in its order (as :func:`list_scores` sorts them) and
    their total LTV: one query that reads the sort column and LTV of the matching rows. A page
    is then a slice of the ids (:func:`rows_by_id`), however deep, with no recount."""
    where = where or ScoreFilter()
    desc = sort in DESCENDING_BY_DEFAULT if descending is None else descending
    on_scores = on_score_rows(visible)
    conditions = _conditions(where, snapshot_id, _bands(session, snapshot_id, where))
    # LTV as a float (not a Decimal per row) and the rows through Core, not the ORM: 100,000
    # rows in a third of the time
    query = select(AccountScore.account_id, cast(AccountScore.ltv, Float)).where(
        AccountScore.snapshot_id == snapshot_id, on_scores, *conditions
    )
    if not _scores_only(where, sort, on_scores):
        query = query.join(Account, Account.id == AccountScore.account_id)
        if where.rep is not None or where.team is not None:
            query = query.outerjoin(Rep, Rep.id == Account.owner_id).outerjoin(
                Team, Team.id == Rep.team_id
            )
    connection = session.connection()
    order = _order(sort, desc)
    if connection.dialect.name == "postgresql":
        # the ids as one array, summed and sorted in the database: 100,000 rows 320 → 120 ms
        ids_of, ltv = query.selected_columns
        one = query.with_only_columns(
            func.array_agg(aggregate_order_by(ids_of, *order)), func.sum(ltv)
        )
        found, total = connection.execute(one).one()
        return Order(np.asarray(found or [], dtype=np.int32), float(total or 0.0))
    rows = connection.execute(query.order_by(*order)).all()
    ids = np.fromiter((r[0] for r in rows), dtype=np.int32, count=len(rows))
    total_ltv = math.fsum(r[1] for r in rows if r[1] is not None)
    return Order(ids, total_ltv)


def rows_by_id(session: Session, snapshot_id: int, ids: Sequence[int]) -> list[ScoreRow]:
    """The listing rows of the accounts ``ids`` in the snapshot, in the order of ``ids`` (ids
    from :func:`listing_order`, which applied the caller's filter)."""
    if not len(ids):
        return []
    wanted = [int(i) for i in ids]
    found = {
        r.id: _score_row(r)
        for r in session.execute(_base(snapshot_id).where(AccountScore.account_id.in_(wanted)))
    }
    return [found[i] for i in wanted if i in found]


def _count(
    session: Session, snapshot_id: int, visible: AccountFilter, where: ScoreFilter
) -> tuple[int, float]:
    """Rows of a listing and their total LTV, joining only the tables its filters need (an
    admin's unfiltered count reads the snapshot's index alone)."""
    query = select(func.count(), func.sum(AccountScore.ltv)).select_from(AccountScore)
    by_owner = where.rep is not None or where.team is not None
    on_scores = on_score_rows(visible)
    if by_owner or where.search or reads_accounts(on_scores):
        query = query.join(Account, Account.id == AccountScore.account_id)
    if by_owner:
        query = query.join(Rep, Rep.id == Account.owner_id).outerjoin(Team, Team.id == Rep.team_id)
    bands = _bands(session, snapshot_id, where)
    query = query.where(
        AccountScore.snapshot_id == snapshot_id,
        on_scores,
        *_conditions(where, snapshot_id, bands),
    )
    rows, ltv = session.execute(query).one()
    return int(rows or 0), float(ltv or 0.0)


def _scores_only(where: ScoreFilter, sort: str, on_scores: ColumnElement[bool]) -> bool:
    """Whether a page's filters and sort read ``account_scores`` alone (no name, key, owner or
    team): its ids can then be found before anything is joined."""
    return (
        not reads_accounts(on_scores)
        and sort not in ("name", "key")
        and not where.search
        and where.rep is None
        and where.team is None
    )


def _bands(session: Session, snapshot_id: int, where: ScoreFilter | None) -> Bands:
    """The snapshot's risk bands, read only when the listing filters by one."""
    return risk_bands(session, snapshot_id) if where is not None and where.risk else RISK_BANDS


def cursor_of(row: ScoreRow, sort: SortKey) -> Cursor:
    """The keyset cursor after ``row`` in a listing sorted by ``sort``."""
    return getattr(row, sort), row.account_id
