"""A snapshot's portfolio, scored deals and account plans as the surfaces show them (frames
for the CLI tables and the workbook, cells for the heatmaps).

Every reader takes a snapshot id and only accepts a *complete* snapshot
(:func:`tillage.store.snapshots.complete_snapshot`), and every reader of accounts takes
``visible``, the caller's filter (:func:`tillage.store.access.account_filter`, or
:func:`~tillage.store.access.everything` for the operator). Amounts are in company
currency, hours in hours.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy import Integer, Select, and_, case, func, or_, select
from sqlalchemy.orm import Session

from tillage.store.access import AccountFilter, on_rows, reads_accounts
from tillage.store.schema import (
    Account,
    AccountScore,
    Opportunity,
    Rep,
    SnapshotAction,
    SnapshotDeal,
)
from tillage.store.snapshots import DEAL_COLUMNS, complete_snapshot


def portfolio_frame(session: Session, snapshot_id: int, *, visible: AccountFilter) -> pd.DataFrame:
    """One row per ``visible`` account of a complete snapshot: ``account_id``, ``key``, ``name``,
    ``owner``, ``segment``, ``zone``, ``ltv``, ``ltv_low``, ``ltv_high``, ``growth``,
    ``churn_risk``, ``priority``, ``p_cell``, ``borderline``, ``days_to_renewal``,
    ``revenue_12m``, ``reasons``; by priority, highest first."""
    complete_snapshot(session, snapshot_id)
    rows = session.execute(
        select(
            Account.id.label("account_id"),
            Account.key,
            Account.name,
            Rep.name.label("owner"),
            AccountScore.segment,
            AccountScore.zone,
            AccountScore.ltv,
            AccountScore.ltv_low,
            AccountScore.ltv_high,
            AccountScore.growth,
            AccountScore.churn_risk,
            AccountScore.priority,
            AccountScore.p_cell,
            AccountScore.borderline,
            AccountScore.days_to_renewal,
            AccountScore.revenue_12m,
            AccountScore.reasons,
        )
        .join(AccountScore, AccountScore.account_id == Account.id)
        .outerjoin(Rep, Rep.id == AccountScore.rep_id)
        .where(AccountScore.snapshot_id == snapshot_id, visible)
        .order_by(AccountScore.priority.desc(), Account.id)
    ).all()
    return pd.DataFrame(rows, columns=list(rows[0]._fields) if rows else _PORTFOLIO_COLUMNS)


_PORTFOLIO_COLUMNS = [
    "account_id",
    "key",
    "name",
    "owner",
    "segment",
    "zone",
    "ltv",
    "ltv_low",
    "ltv_high",
    "growth",
    "churn_risk",
    "priority",
    "p_cell",
    "borderline",
    "days_to_renewal",
    "revenue_12m",
    "reasons",
]


_SCORED_DEAL = DEAL_COLUMNS[2:]  # after opportunity_id and account_id: what the run scored
DEAL_LIST_COLUMNS = ("opportunity_id", "deal", "account_id", "account", *_SCORED_DEAL)
"""The columns of a scored open deal as the deal list shows it: a snapshot's deal columns
(:data:`tillage.store.snapshots.DEAL_COLUMNS`) with the deal's and the account's names."""


def deals_query(
    snapshot_id: int, *, visible: AccountFilter, zone: str | None = None
) -> Select[Any]:
    """The scored open deals of the ``visible`` accounts (in ``zone`` when given) with
    :data:`DEAL_LIST_COLUMNS`, largest expected value first."""
    query = (
        select(
            SnapshotDeal.opportunity_id,
            Opportunity.name,
            SnapshotDeal.account_id,
            Account.name,
            *(SnapshotDeal.__table__.c[name] for name in _SCORED_DEAL),
        )
        .join(Account, Account.id == SnapshotDeal.account_id)
        .join(Opportunity, Opportunity.id == SnapshotDeal.opportunity_id)
        .where(SnapshotDeal.snapshot_id == snapshot_id, visible)
        .order_by(SnapshotDeal.expected_value.desc(), SnapshotDeal.opportunity_id)
    )
    return query if zone is None else query.where(SnapshotDeal.zone == zone)


def count_deals(
    session: Session, snapshot_id: int, *, visible: AccountFilter, zone: str | None = None
) -> int:
    """How many rows :func:`deals_query` has (the deals' account ids filtered, no join)."""
    query = select(func.count()).where(SnapshotDeal.snapshot_id == snapshot_id, _on_deals(visible))
    if zone is not None:
        query = query.where(SnapshotDeal.zone == zone)
    return int(session.scalar(query) or 0)


def deals_frame(session: Session, snapshot_id: int, *, visible: AccountFilter) -> pd.DataFrame:
    """The scored open deals of the ``visible`` accounts: :data:`DEAL_LIST_COLUMNS`; largest
    expected value first."""
    complete_snapshot(session, snapshot_id)
    rows = session.execute(deals_query(snapshot_id, visible=visible)).all()
    return pd.DataFrame([tuple(r) for r in rows], columns=list(DEAL_LIST_COLUMNS))


def _on_deals(visible: AccountFilter) -> AccountFilter:
    """``visible`` on the deals' account ids (no join to ``accounts``), or, for a filter that
    reads other account columns, the deal's account among the visible ones."""
    on_deals = on_rows(visible, SnapshotDeal.__table__.c.account_id)
    if not reads_accounts(on_deals):
        return on_deals
    return SnapshotDeal.account_id.in_(select(Account.id).where(visible))


def deal_zone_totals(
    session: Session, snapshot_id: int, *, visible: AccountFilter
) -> list[tuple[str | None, int, float, float, int]]:
    """Per deal zone of a complete snapshot, over the open deals of the ``visible`` accounts:
    (zone, deals, total amount, total expected value = Σ amount × win probability, borderline
    deals); zones in order, ``None`` (unzoned) last. Amounts in company currency."""
    complete_snapshot(session, snapshot_id)
    borderline = func.sum(case((SnapshotDeal.borderline, 1), else_=0).cast(Integer))
    rows = session.execute(
        select(
            SnapshotDeal.zone,
            func.count(),
            func.sum(SnapshotDeal.amount),
            func.sum(SnapshotDeal.expected_value),
            borderline,
        )
        .where(SnapshotDeal.snapshot_id == snapshot_id, _on_deals(visible))
        .group_by(SnapshotDeal.zone)
    ).all()
    out = [
        (zone, int(n), float(amount or 0.0), float(value or 0.0), int(edge or 0))
        for zone, n, amount, value, edge in rows
    ]
    return sorted(out, key=lambda row: (row[0] is None, row[0] or ""))


@dataclass(frozen=True)
class DealCell:
    """One cell of the deal size × win probability matrix: its zone (A large and likely, B one
    of the two, C neither), the open deals in it, their accounts, total amount and expected
    value (Σ amount × win probability; company currency), and how many are borderline."""

    large: bool
    likely: bool
    zone: str
    deals: int
    accounts: int
    amount: float
    expected_value: float
    borderline: int


def deal_cells(
    session: Session, snapshot_id: int, *, visible: AccountFilter, likely_at: float
) -> list[DealCell]:
    """The four cells of the deal matrix over the open deals of the ``visible`` accounts.

    A deal's zone is the scoring run's; zone B (large or likely, not both) is split into its two
    cells by the win probability against ``likely_at`` (the strategy's
    ``win_probability_threshold``), so the cells of a zone add up to the zone of the API.
    Deals without a zone are left out (the zone table lists them)."""
    likely = and_(
        SnapshotDeal.win_probability.is_not(None), SnapshotDeal.win_probability >= likely_at
    )
    # the four cells summed in the database (one row each), not the open deals read one by one
    place = case(
        (SnapshotDeal.zone == "A", "A"),
        (SnapshotDeal.zone == "C", "C"),
        (likely, "B-likely"),
        else_="B-large",
    ).label("place")
    found = {
        row.place: row
        for row in session.execute(
            select(
                place,
                func.count(),
                func.count(func.distinct(SnapshotDeal.account_id)).label("accounts"),
                func.sum(SnapshotDeal.amount).label("amount"),
                func.sum(SnapshotDeal.expected_value).label("expected_value"),
                func.sum(case((SnapshotDeal.borderline.is_(True), 1), else_=0)).label("borderline"),
            )
            .where(
                SnapshotDeal.snapshot_id == snapshot_id,
                SnapshotDeal.zone.is_not(None),
                _on_deals(visible),
            )
            .group_by(place)
        )
    }
    cells = {
        (False, False): "C",
        (False, True): "B-likely",
        (True, False): "B-large",
        (True, True): "A",
    }
    return [
        DealCell(
            large=large,
            likely=is_likely,
            zone=key[0],
            deals=int(row[1]) if (row := found.get(key)) is not None else 0,
            accounts=int(row.accounts) if row is not None else 0,
            amount=float(row.amount or 0.0) if row is not None else 0.0,
            expected_value=float(row.expected_value or 0.0) if row is not None else 0.0,
            borderline=int(row.borderline or 0) if row is not None else 0,
        )
        for (large, is_likely), key in cells.items()
    ]


def plan_frame(
    session: Session,
    snapshot_id: int,
    *,
    visible: AccountFilter,
    month: dt.date | None = None,
    rep_id: int | None = None,
    rep_ids: Collection[int | None] | None = None,
) -> pd.DataFrame:
    """The planned actions of the ``visible`` accounts (of one ``month`` and ``rep_id`` when
    given, of the reps ``rep_ids`` — ``None`` among them: no rep — when given): ``rep_id``,
    ``rep``, ``month``, ``account_id``, ``account``, ``action``, ``hours``,
    ``expected_uplift``, ``must_do``, ``products``; by rep, then uplift, highest first."""
    complete_snapshot(session, snapshot_id)
    columns = [
        "rep_id",
        "rep",
        "month",
        "account_id",
        "account",
        "action",
        "hours",
        "expected_uplift",
        "must_do",
        "products",
    ]
    query = (
        select(
            SnapshotAction.rep_id,
            Rep.name,
            SnapshotAction.month,
            Account.id,
            Account.name,
            SnapshotAction.action,
            SnapshotAction.hours,
            SnapshotAction.expected_uplift,
            SnapshotAction.must_do,
            SnapshotAction.products,
        )
        .join(Account, Account.id == SnapshotAction.account_id)
        .outerjoin(Rep, Rep.id == SnapshotAction.rep_id)
        .where(SnapshotAction.snapshot_id == snapshot_id, visible)
    )
    if month is not None:
        query = query.where(SnapshotAction.month == month)
    if rep_id is not None:
        query = query.where(SnapshotAction.rep_id == rep_id)
    if rep_ids is not None:
        some = [r for r in rep_ids if r is not None]
        anyone = SnapshotAction.rep_id.in_(some)
        query = query.where(
            or_(anyone, SnapshotAction.rep_id.is_(None)) if None in rep_ids else anyone
        )
    rows = session.execute(
        query.order_by(
            SnapshotAction.rep_id, SnapshotAction.expected_uplift.desc(), SnapshotAction.id
        )
    ).all()
    return pd.DataFrame([tuple(r) for r in rows], columns=columns)
