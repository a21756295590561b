"""Score snapshots: written atomically, read back page by page.

A snapshot and all of its account scores are inserted in one transaction, so readers see either
the previous snapshot or the complete new one, never a mix.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

import pandas as pd
from sqlalchemy import Engine, func, insert, select
from sqlalchemy.orm import Session

from tillage.errors import NotFoundError
from tillage.store.bulk import insert_frame
from tillage.store.schema import Account, AccountScore, Rep, Snapshot

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
)


def write_snapshot(
    engine: Engine,
    *,
    as_of: dt.date,
    created_at: dt.datetime,
    scores: pd.DataFrame,
    models: dict | None = None,
    label: str | None = None,
    strategy_hash: str | None = None,
) -> int:
    """Insert a snapshot and its per-account ``scores`` in one transaction; return its id.

    ``scores`` has ``account_id`` and any of :data:`SCORE_COLUMNS`.
    """
    columns = [c for c in SCORE_COLUMNS if c in scores.columns]
    with engine.begin() as connection:
        snapshot_id = connection.execute(
            insert(Snapshot)
            .values(
                as_of=as_of,
                created_at=created_at,
                status="complete",
                label=label,
                strategy_hash=strategy_hash,
                models=models,
            )
            .returning(Snapshot.id)
        ).scalar_one()
        frame = scores[columns].copy()
        if "reasons" in frame.columns:
            frame = frame.drop(columns="reasons")
        frame.insert(0, "snapshot_id", snapshot_id)
        insert_frame(connection, "account_scores", frame)
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
    limit: int = 50,
    offset: int = 0,
    sort: SortKey = "ltv",
    zone: str | None = None,
) -> tuple[int, list[ScoreRow]]:
    """A page of a snapshot's scores joined to account names; returns (total, rows)."""
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
        .where(AccountScore.snapshot_id == snapshot_id)
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


def zone_totals(session: Session, snapshot_id: int) -> list[tuple[str, int, float]]:
    """(zone, number of accounts, total LTV) per zone of a snapshot, zones in order."""
    rows = session.execute(
        select(AccountScore.zone, func.count(), func.sum(AccountScore.ltv))
        .where(AccountScore.snapshot_id == snapshot_id)
        .group_by(AccountScore.zone)
        .order_by(AccountScore.zone)
    ).all()
    return [(str(z), int(n), float(total or 0.0)) for z, n, total in rows]
