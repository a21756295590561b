"""/api/v1/accounts/{account_id}/overview and /api/v1/renewals: the account 360 and the renewals
calendar, as far as the caller may see (the JSON twins of the account page's 360 sections and
of the /renewals page)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query

from tillage.services.account360 import Account360, account_overview_for
from tillage.services.renewals import (
    MAX_DAYS,
    MAX_LIMIT,
    PER_PAGE,
    RenewalCalendar,
    renewal_calendar,
)
from tillage.serving.auth import VisibleAccounts, protected_router
from tillage.serving.deps import SessionDep
from tillage.serving.errors import ErrorResponse

router = protected_router(prefix="/api/v1", tags=["accounts"])
NOT_FOUND = {404: {"model": ErrorResponse, "description": "No snapshot, or not found"}}


@router.get("/accounts/{account_id}/overview", responses=NOT_FOUND)
def get_account_overview(
    session: SessionDep,
    visible: VisibleAccounts,
    account_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
) -> Account360:
    """The account's contracts with renewal dates and ARR, its open and past deals with their
    win probability, and its priority and silent-churn score in parts with each part's share;
    404 when it does not exist or the caller may not see it."""
    return account_overview_for(session, visible, account_id)


@router.get("/renewals", responses=NOT_FOUND, tags=["renewals"])
def get_renewals(
    session: SessionDep,
    visible: VisibleAccounts,
    days: Annotated[int, Query(ge=1, le=MAX_DAYS, description="Days ahead (default 90)")] = 90,
    rep: Annotated[str | None, Query(max_length=128, description="Owner's rep key")] = None,
    team: Annotated[str | None, Query(max_length=128, description="Owner's team key")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Rows of this page")] = PER_PAGE,
    offset: Annotated[int, Query(ge=0, le=10_000_000, description="Rows before it")] = 0,
) -> RenewalCalendar:
    """The undecided renewals of the caller's accounts in the next ``days`` days after the
    newest snapshot's date, soonest first, by owner rep or team: ``limit`` rows from
    ``offset``; ``total``, ``total_arr`` and ``weeks`` count every row."""
    return renewal_calendar(
        session,
        visible,
        days=days,
        rep=rep or None,
        team=team or None,
        limit=limit,
        offset=offset,
    )
