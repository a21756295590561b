"""/api/v1/accounts, /api/v1/accounts.csv and /api/v1/portfolio: scores, as far as the caller
may see.

A listing reads the newest snapshot (or ``snapshot=``), keeps what the filters ask for, sorts by a
whitelisted column and pages either by ``offset`` or, fast however deep, by the ``cursor`` the
previous page returned (keyset pagination). The CSV export takes the same filters and streams
every matching row.
"""

from __future__ import annotations

import base64
import binascii
import csv
import datetime as dt
import io
import json
from collections.abc import Iterator
from dataclasses import astuple, dataclass, fields
from typing import Annotated

from fastapi import Depends, Path, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel
from sqlalchemy.orm import Session, sessionmaker

from tillage.api.auth import VisibleAccounts, protected_router
from tillage.api.deps import SessionDep
from tillage.api.errors import ErrorResponse
from tillage.errors import DataValidationError
from tillage.report.inert import csv_row
from tillage.store.access import AccountFilter
from tillage.store.groups import hierarchy_frame
from tillage.store.listing import (
    DESCENDING_BY_DEFAULT,
    NULLABLE_SORTS,
    Cursor,
    RiskBand,
    ScoreFilter,
    ScoreRow,
    SortKey,
    cursor_of,
    list_scores,
)
from tillage.store.plans import deal_zone_totals
from tillage.store.snapshots import (
    AccountDetail,
    account_detail,
    get_snapshot,
    latest_snapshot,
    zone_totals,
)
from tillage.strategy.groups import group_rollup

router = protected_router(prefix="/api/v1", tags=["accounts"])
NOT_FOUND = {404: {"model": ErrorResponse, "description": "No snapshot, or not found"}}
EXPORT_BATCH = 2000


class SnapshotOut(BaseModel):
    """The snapshot a listing comes from."""

    id: int
    as_of: dt.date
    label: str | None


class AccountPage(BaseModel):
    """A page of accounts. ``next_cursor``: pass it as ``cursor`` for the next page (``null`` on
    the last page)."""

    snapshot: SnapshotOut
    total: int
    limit: int
    offset: int
    next_cursor: str | None
    items: list[ScoreRow]


class ZoneOut(BaseModel):
    """One portfolio zone: number of accounts and their total LTV (company currency)."""

    zone: str
    accounts: int
    total_ltv: float


class DealZoneOut(BaseModel):
    """One deal zone: the open deals scored in it, their total amount and expected value
    (Σ amount × win probability), company currency, and how many are borderline (their zone is
    uncertain). ``zone`` is ``null`` for deals the snapshot could not zone."""

    zone: str | None
    deals: int
    amount: float
    expected_value: float
    borderline: int


class GroupOut(BaseModel):
    """A corporate group (企業グループ): ``group_id`` and ``name`` of its top company, its member
    accounts, their total LTV (company currency) and how many of them are unscored."""

    group_id: int
    name: str
    accounts: int
    ltv: float
    unscored: int


class PortfolioOut(BaseModel):
    """The portfolio of the latest snapshot: account zones, deal zones, and the corporate groups
    of two or more (visible) accounts, highest group LTV first."""

    snapshot: SnapshotOut
    zones: list[ZoneOut]
    deal_zones: list[DealZoneOut]
    groups: list[GroupOut] = []


def encode_cursor(sort: str, descending: bool, cursor: Cursor) -> str:
    """An opaque, URL-safe form of a keyset cursor of a listing sorted by ``sort``."""
    data = json.dumps([sort, descending, *cursor]).encode()
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def decode_cursor(text: str, sort: str, descending: bool) -> Cursor:
    """The cursor :func:`encode_cursor` made for this sort; anything else is refused (422)."""
    try:
        made_for, made_desc, value, account_id = json.loads(
            base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        )
        kind = str if sort in ("name", "key") else (int, float)
        valid = (
            made_for == sort
            and made_desc == descending
            and isinstance(account_id, int)
            and not isinstance(value, bool)
            and (isinstance(value, kind) or (value is None and sort in NULLABLE_SORTS))
        )
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        valid = False
    if not valid:
        raise DataValidationError(
            "the cursor is not one this API returned for this sort order: pass next_cursor "
            "unchanged, with the same sort and order"
        )
    return value, account_id


@dataclass(frozen=True)
class Listing:
    """The query of a listing or an export: which snapshot, filters and sort."""

    snapshot: int | None
    where: ScoreFilter
    sort: SortKey
    descending: bool | None


def listing_query(
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
        RiskBand | None,
        Query(description="Churn-risk band: low < 0.2 ≤ medium < 0.5 ≤ high"),
    ] = None,
    borderline: Annotated[
        bool | None, Query(description="Only accounts whose portfolio cell is (not) borderline")
    ] = None,
    q: Annotated[
        str | None,
        Query(min_length=1, max_length=100, description="Part of the name or key, any case"),
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
        search=q,
        deal_zone=deal_zone,
    )
    return Listing(snapshot, where, sort, None if order is None else order == "desc")


ListingDep = Annotated[Listing, Depends(listing_query)]


def _snapshot(session: Session, snapshot_id: int | None) -> SnapshotOut:
    snap = latest_snapshot(session) if snapshot_id is None else get_snapshot(session, snapshot_id)
    return SnapshotOut(id=snap.id, as_of=snap.as_of, label=snap.label)


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
    snapshot = _snapshot(session, listing.snapshot)
    descending = (
        listing.sort in DESCENDING_BY_DEFAULT if listing.descending is None else listing.descending
    )
    total, rows = list_scores(
        session,
        snapshot.id,
        visible=visible,
        limit=limit,
        offset=offset,
        sort=listing.sort,
        descending=descending,
        where=listing.where,
        after=None if cursor is None else decode_cursor(cursor, listing.sort, descending),
    )
    more = len(rows) == limit and (cursor is not None or offset + limit < total)
    return AccountPage(
        snapshot=snapshot,
        total=total,
        limit=limit,
        offset=offset,
        next_cursor=(
            encode_cursor(listing.sort, descending, cursor_of(rows[-1], listing.sort))
            if more
            else None
        ),
        items=rows,
    )


def _csv_lines(
    sessions: sessionmaker[Session], snapshot_id: int, visible: AccountFilter, listing: Listing
) -> Iterator[str]:
    with sessions() as session:
        yield from _csv_batches(session, snapshot_id, visible, listing)


def _csv_batches(
    session: Session, snapshot_id: int, visible: AccountFilter, listing: Listing
) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([f.name for f in fields(ScoreRow)])
    after: Cursor | None = None
    while True:
        _total, rows = list_scores(
            session,
            snapshot_id,
            visible=visible,
            limit=EXPORT_BATCH,
            sort=listing.sort,
            descending=listing.descending,
            where=listing.where,
            after=after,
            count=False,
        )
        writer.writerows(csv_row(astuple(row)) for row in rows)  # no live formulas
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        if len(rows) < EXPORT_BATCH:
            return
        after = cursor_of(rows[-1], listing.sort)


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
    snapshot = _snapshot(session, listing.snapshot)
    name = f"accounts-{snapshot.as_of.isoformat()}.csv"
    return StreamingResponse(
        _csv_lines(request.app.state.sessions, snapshot.id, visible, listing),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/portfolio", responses=NOT_FOUND)
def get_portfolio(session: SessionDep, visible: VisibleAccounts) -> PortfolioOut:
    """Accounts and total LTV per zone, and the open deals per deal zone, in the latest
    snapshot, over the caller's accounts."""
    snapshot = _snapshot(session, None)
    zones = [
        ZoneOut(zone=z, accounts=n, total_ltv=t)
        for z, n, t in zone_totals(session, snapshot.id, visible=visible)
    ]
    deal_zones = [
        DealZoneOut(zone=z, deals=n, amount=a, expected_value=e, borderline=b)
        for z, n, a, e, b in deal_zone_totals(session, snapshot.id, visible=visible)
    ]
    groups = [
        GroupOut(group_id=g, name=n, accounts=a, ltv=v, unscored=u)
        for g, n, a, v, u in group_rollup(
            hierarchy_frame(session, snapshot.id, visible=visible)
        ).itertuples(index=False)
    ]
    return PortfolioOut(snapshot=snapshot, zones=zones, deal_zones=deal_zones, groups=groups)


@router.get("/accounts/{account_id}", responses=NOT_FOUND)
def get_account(
    session: SessionDep,
    visible: VisibleAccounts,
    account_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
) -> AccountDetail:
    """One account with its latest scores and its history across snapshots (newest first);
    404 when it does not exist *or* the caller may not see it (the answer never tells the two
    apart)."""
    return account_detail(session, account_id, visible=visible)
