"""/api/v1/accounts, /api/v1/accounts.csv and /api/v1/portfolio: scores, as far as the caller
may see.

A listing reads the newest snapshot (or ``snapshot=``), keeps what the filters ask for, sorts by a
whitelisted column and pages either by ``offset`` or, fast however deep, by the ``cursor`` the
previous page returned (keyset pagination). The CSV export takes the same filters and streams
every matching row.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Annotated

from fastapi import Depends, Path, Query, Request
from fastapi.responses import StreamingResponse
from sqlalchemy.orm import Session, sessionmaker

from tillage.services.accounts import (
    SEARCH_MAX,
    AccountPage,
    Listing,
    PortfolioOut,
    account,
    account_page,
    export_csv,
    portfolio,
    search_text,
    snapshot_of,
)
from tillage.services.listing import (
    Risk,
    ScoreFilter,
    SortKey,
)
from tillage.serving.auth import VisibleAccounts, protected_router
from tillage.serving.deps import SessionDep
from tillage.serving.errors import ErrorResponse
from tillage.store.access import AccountFilter
from tillage.store.snapshots import (
    AccountDetail,
)

router = protected_router(prefix="/api/v1", tags=["accounts"])
NOT_FOUND = {404: {"model": ErrorResponse, "description": "No snapshot, or not found"}}


async def listing_query(
    snapshot: Annotated[
        int | None, Query(ge=1, le=2**31 - 1, description="Snapshot id (default: the newest)")
    ] = None,
    zone: Annotated[str | None, Query(pattern="^[ABC]$")] = None,
    deal_zone: Annotated[
        str | None,
        Query(pattern="^[ABC]$", description="Only accounts with an open deal in this zone"),
    ] = None,
    segment: Annotated[str | None, Query(max_length=20)] = None,
    rep: Annotated[str | None, Query(max_length=128, description="Owner's rep key")] = None,
    team: Annotated[str | None, Query(max_length=128, description="Owner's team key")] = None,
    risk: Annotated[
        Risk | None,
        Query(
            description="Churn-risk band (low < 0.2 ≤ medium < 0.5 ≤ high) or risk flag (churn, "
            "silent_churn, key_person ≥ 0.5; single_threaded; borderline)"
        ),
    ] = None,
    borderline: Annotated[
        bool | None, Query(description="Only accounts whose portfolio cell is (not) borderline")
    ] = None,
    q: Annotated[
        str | None,
        Query(max_length=SEARCH_MAX, description="Part of the name or key, any case"),
    ] = None,
    sort: Annotated[SortKey, Query(description="Sort column")] = "ltv",
    order: Annotated[
        str | None,
        Query(
            pattern="^(asc|desc)$",
            description="asc or desc (default: numbers highest first, names A to Z)",
        ),
    ] = None,
) -> Listing:
    """The listing parameters shared by the JSON list and the CSV export."""
    where = ScoreFilter(
        zone=zone,
        segment=segment,
        rep=rep,
        team=team,
        risk=risk,
        borderline=borderline,
        search=search_text(q),
        deal_zone=deal_zone,
    )
    return Listing(snapshot, where, sort, None if order is None else order == "desc")


ListingDep = Annotated[Listing, Depends(listing_query)]


def _csv_lines(
    sessions: sessionmaker[Session], visible: AccountFilter, listing: Listing
) -> Iterator[str]:
    """The export on its own session: the stream outlives the request's."""
    with sessions() as session:
        yield from export_csv(session, visible, listing)


@router.get("/accounts", responses=NOT_FOUND)
def get_accounts(
    session: SessionDep,
    visible: VisibleAccounts,
    listing: ListingDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
    cursor: Annotated[
        str | None, Query(max_length=400, description="next_cursor of the previous page")
    ] = None,
) -> AccountPage:
    """The caller's accounts in a snapshot, filtered, sorted (default: LTV, highest first) and
    paginated; ``total`` counts only what the caller may see."""
    return account_page(session, visible, listing, limit=limit, offset=offset, cursor=cursor)


@router.get(
    "/accounts.csv",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"text/csv": {}}, "description": "UTF-8 CSV with a header row"},
        **NOT_FOUND,
    },
)
def export_accounts(
    request: Request, session: SessionDep, visible: VisibleAccounts, listing: ListingDep
) -> StreamingResponse:
    """Every account of the listing (same filters and sort as ``/accounts``) as CSV, streamed."""
    snapshot = snapshot_of(session, listing.snapshot)  # 404 before the stream starts
    name = f"accounts-{snapshot.as_of.isoformat()}.csv"
    return StreamingResponse(
        _csv_lines(request.app.state.sessions, visible, replace(listing, snapshot=snapshot.id)),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/portfolio", responses=NOT_FOUND)
def get_portfolio(session: SessionDep, visible: VisibleAccounts) -> PortfolioOut:
    """Accounts and total LTV per zone, and the open deals per deal zone, in the latest
    snapshot, over the caller's accounts."""
    return portfolio(session, visible)


@router.get("/accounts/{account_id}", responses=NOT_FOUND)
def get_account(
    session: SessionDep,
    visible: VisibleAccounts,
    account_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
) -> AccountDetail:
    """One account with its latest scores and its history across snapshots (newest first);
    404 when it does not exist *or* the caller may not see it (the answer never tells the two
    apart)."""
    return account(session, visible, account_id)
