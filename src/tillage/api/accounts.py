"""/api/v1/accounts and /api/v1/portfolio: the latest snapshot's scores."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from tillage.api.deps import SessionDep
from tillage.api.errors import ErrorResponse
from tillage.store.snapshots import SortKey, latest_snapshot, list_scores, zone_totals

router = APIRouter(prefix="/api/v1", tags=["accounts"])


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
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
    sort: SortKey = "ltv",
    zone: Annotated[str | None, Query(pattern="^[ABC]$")] = None,
) -> AccountPage:
    """Accounts of the latest snapshot, sorted (default: LTV, highest first) and paginated."""
    snapshot_id, snapshot = _snapshot_out(session)
    total, rows = list_scores(
        session, snapshot_id, limit=limit, offset=offset, sort=sort, zone=zone
    )
    return AccountPage(
        snapshot=snapshot,
        total=total,
        limit=limit,
        offset=offset,
        items=[AccountOut(**row.__dict__) for row in rows],
    )


@router.get("/portfolio", responses={404: {"model": ErrorResponse}})
def get_portfolio(session: SessionDep) -> PortfolioOut:
    """Accounts and total LTV per zone in the latest snapshot."""
    snapshot_id, snapshot = _snapshot_out(session)
    zones = [
        ZoneOut(zone=z, accounts=n, total_ltv=t) for z, n, t in zone_totals(session, snapshot_id)
    ]
    return PortfolioOut(snapshot=snapshot, zones=zones)
