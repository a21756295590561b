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
from dataclasses import dataclass
from typing import Literal

import pandas as pd
from sqlalchemy import Engine, func, insert, select, update
from sqlalchemy.orm import Session

from tillage.errors import NotFoundError
from tillage.store.access import AccountFilter
from tillage.store.bulk import insert_frame
from tillage.store.schema import Account, AccountScore, Rep, Snapshot, Team

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
class ScoreRow:
    """One account's row in a snapshot listing. Amounts in company currency."""

    account_id: int
    key: str
    name: str
    owner: str | None
    zone: str | None
    ltv: float
    revenue_12m: float
    tenure_months: float


SortKey = Literal["ltv", "revenue_12m", "name", "tenure_months"]


def list_scores(
    session: Session,
    snapshot_id: int,
    *,
    visible: AccountFilter,
    limit: int = 50,
    offset: int = 0,
    sort: SortKey = "ltv",
    zone: str | None = None,
) -> tuple[int, list[ScoreRow]]:
    """A page of a snapshot's scores of the ``visible`` accounts; returns (total, rows)."""
    order = {
        "ltv": AccountScore.ltv.desc(),
        "revenue_12m": AccountScore.revenue_12m.desc(),
        "tenure_months": AccountScore.tenure_months.desc(),
        "name": Account.name.asc(),
    }[sort]
    base = (
        select(
            Account.id,
            Account.key,
            Account.name,
            Rep.name.label("owner"),
            AccountScore.zone,
            AccountScore.ltv,
            AccountScore.revenue_12m,
            AccountScore.tenure_months,
        )
        .join(AccountScore, AccountScore.account_id == Account.id)
        .outerjoin(Rep, Rep.id == Account.owner_id)
        .where(AccountScore.snapshot_id == snapshot_id, visible)
    )
    if zone is not None:
        base = base.where(AccountScore.zone == zone)
    total = session.scalar(select(func.count()).select_from(base.subquery())) or 0
    rows = session.execute(base.order_by(order, Account.id).limit(limit).offset(offset)).all()
    return int(total), [
        ScoreRow(
            account_id=r.id,
            key=r.key,
            name=r.name,
            owner=r.owner,
            zone=r.zone,
            ltv=float(r.ltv or 0.0),
            revenue_12m=float(r.revenue_12m or 0.0),
            tenure_months=float(r.tenure_months or 0.0),
        )
        for r in rows
    ]


def zone_totals(
    session: Session, snapshot_id: int, *, visible: AccountFilter
) -> list[tuple[str, int, float]]:
    """(zone, number of accounts, total LTV) per zone of a snapshot over the ``visible`` accounts,
    zones in order."""
    rows = session.execute(
        select(AccountScore.zone, func.count(), func.sum(AccountScore.ltv))
        .join(Account, Account.id == AccountScore.account_id)
        .where(AccountScore.snapshot_id == snapshot_id, visible)
        .group_by(AccountScore.zone)
        .order_by(AccountScore.zone)
    ).all()
    return [(str(z), int(n), float(total or 0.0)) for z, n, total in rows]


@dataclass(frozen=True)
class AccountDetail:
    """One account's basic fields and its scores in the latest snapshot (``None`` if unscored).

    Amounts in company currency, ``churn_risk`` a probability, ``tenure_months`` months.
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


def account_detail(session: Session, account_id: int, *, visible: AccountFilter) -> AccountDetail:
    """An account with its latest scores; :class:`NotFoundError` if it does not exist *or* is not
    visible to the caller (the two are indistinguishable on purpose)."""
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

    def value(name: str) -> float | None:
        got = getattr(score, name) if score is not None else None
        return None if got is None else float(got)

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
        snapshot_id=snapshot.id if score is not None and snapshot is not None else None,
        zone=score.zone if score is not None else None,
        segment=score.segment if score is not None else None,
        ltv=value("ltv"),
        ltv_low=value("ltv_low"),
        ltv_high=value("ltv_high"),
        revenue_12m=value("revenue_12m"),
        churn_risk=value("churn_risk"),
        growth=value("growth"),
        priority=value("priority"),
        tenure_months=value("tenure_months"),
    )
