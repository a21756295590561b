"""/api/v1/simulate/departure: what a rep's departure puts at risk, and who takes over.

Managers (for the reps of their reach) and admins (anyone); reps get 403, a rep outside the
manager's reach 404. A manager sees only the affected accounts they may see, and the totals
over those. The formula is :mod:`tillage.strategy.departure`'s (``docs/strategy.md``).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import pandas as pd
from fastapi import Query, Request
from pydantic import BaseModel
from sqlalchemy import select

from tillage.api.auth import CurrentUser, VisibleAccounts, protected_router
from tillage.api.deps import SessionDep
from tillage.api.errors import ErrorResponse
from tillage.api.reviews import strategy_in_force
from tillage.api.scope import rep_in_reach, roles
from tillage.store.schema import Account
from tillage.strategy.departure import departure_from_store

router = protected_router(prefix="/api/v1/simulate", tags=["simulate"])


class HandoverAccount(BaseModel):
    """An affected account: LTV and churn risk now and after the departure, the LTV at risk
    (company currency), and the successor with the hours the handover takes."""

    account_id: int
    account: str | None
    owned: bool
    single_threaded: bool
    ltv: float | None
    churn_risk: float | None
    churn_after: float | None
    ltv_at_risk: float
    hours: float | None
    successor_id: int | None
    successor: str | None
    successor_team: str | None
    same_team: bool | None
    spare_hours_after: float | None
    over_capacity: bool


class DepartureOut(BaseModel):
    """The departure of one rep on ``as_of``: Σ LTV at risk and single-threaded accounts over
    the accounts listed; ``churn_uplift`` the added churn probability of a single-threaded
    account."""

    rep_id: int
    rep: str
    as_of: dt.date
    churn_uplift: float
    ltv_at_risk: float
    single_threaded: int
    accounts: list[HandoverAccount]
    notes: list[str]


def _value(value: object) -> object:
    return None if value is None or pd.isna(value) else value  # type: ignore[arg-type]


@router.get(
    "/departure",
    dependencies=[roles("admin", "manager")],
    responses={
        403: {"model": ErrorResponse, "description": "Reps may not simulate departures"},
        404: {"model": ErrorResponse, "description": "No snapshot, or no such rep"},
    },
)
def get_departure(
    request: Request,
    session: SessionDep,
    principal: CurrentUser,
    visible: VisibleAccounts,
    rep: Annotated[str, Query(min_length=1, max_length=128, description="Rep key or id")],
    as_of: Annotated[
        dt.date | None, Query(description="Day of the departure (default: the snapshot's)")
    ] = None,
) -> DepartureOut:
    """The accounts a rep's departure affects, the LTV at risk and the handover plan."""
    found = rep_in_reach(session, principal, rep)
    result = departure_from_store(
        request.app.state.engine, found.key, as_of=as_of, strategy=strategy_in_force(session)
    )
    frame = result.accounts
    if not principal.is_admin:
        seen = set(session.scalars(select(Account.id).where(visible)))
        frame = frame[frame["account_id"].isin(seen)]
    return DepartureOut(
        rep_id=result.rep_id,
        rep=result.rep_name,
        as_of=result.as_of,
        churn_uplift=result.churn_uplift,
        ltv_at_risk=float(frame["ltv_at_risk"].sum()),
        single_threaded=int(frame["single_threaded"].sum()),
        accounts=[
            HandoverAccount(**{k: _value(v) for k, v in row.items()})
            for row in frame.to_dict(orient="records")
        ],
        notes=result.notes,
    )
