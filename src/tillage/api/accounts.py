"""/api/v1/accounts and /api/v1/portfolio: latest scores, as far as the caller may see."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import Path, Query
from pydantic import BaseModel

from tillage.api.auth import VisibleAccounts, protected_router
from tillage.api.deps import SessionDep
from tillage.api.errors import ErrorResponse
from tillage.store.snapshots import (
    SortKey,
    account_detail,
    latest_snapshot,
    list_scores,
    zone_totals,
)

router = protected_router(prefix="/api/v1", tags=["accounts"])


class SnapshotOut(BaseModel):
    """The snapshot a listing comes from."""

    id: int
    as_of: dt.date
    label: str | None


class AccountOut(BaseModel):
    """An account's row: amounts in company currency, tenure in months."""

    account_id: int
    key: str
    name: str
    owner: str | None
    zone: str | None
    ltv: float
    revenue_12m: float
    tenure_months: float


class AccountPage(BaseModel):
    """A page of accounts from the latest snapshot."""

    snapshot: SnapshotOut
    total: int
    limit: int
    offset: int
    items: list[AccountOut]


class AccountDetailOut(BaseModel):
    """One account: basic fields and its scores in the latest snapshot (``null`` if unscored).

    Amounts in company currency; ``churn_risk`` a probability; ``tenure_months`` months.
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


class ZoneOut(BaseModel):
    """One portfolio zone: number of accounts and their total LTV (company currency)."""

    zone: str
    accounts: int
    total_ltv: float


class PortfolioOut(BaseModel):
    """The portfolio of the latest snapshot."""

    snapshot: SnapshotOut
    zones: list[ZoneOut]


def _snapshot_out(session: SessionDep) -> tuple[int, SnapshotOut]:
    snap = latest_snapshot(session)
    return snap.id, SnapshotOut(id=snap.id, as_of=snap.as_of, label=snap.label)


@router.get("/accounts", responses={404: {"model": ErrorResponse}})
def get_accounts(
    session: SessionDep,
    visible: VisibleAccounts,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
    sort: SortKey = "ltv",
    zone: Annotated[str | None, Query(pattern="^[ABC]$")] = None,
) -> AccountPage:
    """The caller's accounts in the latest snapshot, sorted (default: LTV, highest first) and
    paginated; ``total`` counts only what the caller may see."""
    snapshot_id, snapshot = _snapshot_out(session)
    total, rows = list_scores(
        session, snapshot_id, visible=visible, limit=limit, offset=offset, sort=sort, zone=zone
    )
    return AccountPage(
        snapshot=snapshot,
        total=total,
        limit=limit,
        offset=offset,
        items=[AccountOut(**row.__dict__) for row in rows],
    )


@router.get("/portfolio", responses={404: {"model": ErrorResponse}})
def get_portfolio(session: SessionDep, visible: VisibleAccounts) -> PortfolioOut:
    """Accounts and total LTV per zone in the latest snapshot, over the caller's accounts."""
    snapshot_id, snapshot = _snapshot_out(session)
    zones = [
        ZoneOut(zone=z, accounts=n, total_ltv=t)
        for z, n, t in zone_totals(session, snapshot_id, visible=visible)
    ]
    return PortfolioOut(snapshot=snapshot, zones=zones)


@router.get("/accounts/{account_id}", responses={404: {"model": ErrorResponse}})
def get_account(
    session: SessionDep,
    visible: VisibleAccounts,
    account_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
) -> AccountDetailOut:
    """One account with its latest scores; 404 when it does not exist *or* the caller may not
    see it (the answer never tells the two apart)."""
    return AccountDetailOut(**account_detail(session, account_id, visible=visible).__dict__)
