"""The renewals calendar, the deals list and the departure simulation pages.

Each renders the answer of the service behind its /api/v1 twin (``/api/v1/renewals``,
``/api/v1/deals``, ``/api/v1/simulate/departure``) for the same user; ``?format=json`` is that
answer and ``?format=csv`` its table (datasette-style, as the other pages).
"""

from __future__ import annotations

import datetime as dt
from collections import OrderedDict
from typing import Annotated
from urllib.parse import urlencode

from fastapi import Query, Request
from fastapi.responses import HTMLResponse, Response

from tillage.services.account_views import filter_choices
from tillage.services.departure import SIMULATORS, HandoverAccount, rep_departure
from tillage.services.plans import DealOut, deal_page
from tillage.services.renewals import (
    DEFAULT_DAYS,
    MAX_DAYS,
    PER_PAGE,
    RenewalOut,
    renewal_calendar,
    week_of,
)
from tillage.serving.auth import CurrentUser, VisibleAccounts, protected_router
from tillage.serving.deps import LanguageDep, SessionDep, SettingsDep
from tillage.serving.etag import SnapshotETag
from tillage.serving.scope import roles
from tillage.store.access import reach_reps
from tillage.web.accounts import KEY
from tillage.web.render import (
    PageTable,
    data_links,
    data_response,
    local_clock,
    page,
    table_response,
)

router = protected_router(include_in_schema=False)
DEALS_PER_PAGE = 50
#: Accounts at risk per page of the departure simulation.
DEPARTURE_PER_PAGE = 50


@router.get("/renewals", response_class=HTMLResponse)
def renewals_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    lang: LanguageDep,
    principal: CurrentUser,
    visible: VisibleAccounts,
    days: Annotated[int, Query(ge=1, le=MAX_DAYS)] = DEFAULT_DAYS,
    rep: Annotated[str | None, KEY] = None,
    team: Annotated[str | None, KEY] = None,
    page_number: Annotated[int, Query(alias="page", ge=1, le=100_000)] = 1,
    format: PageTable = "html",
) -> Response:
    """The undecided renewals of the next ``days`` days by week, filtered by rep or team, 200 a
    page (twin of /api/v1/renewals; ``?format=csv``: every page's)."""
    every = format == "csv"
    calendar = renewal_calendar(
        session,
        visible,
        days=days,
        rep=rep or None,
        team=team or None,
        limit=None if every else PER_PAGE,
        offset=0 if every else (page_number - 1) * PER_PAGE,
    )
    if format == "json":
        return data_response(calendar)
    if format == "csv":
        return table_response(calendar.items, RenewalOut, f"renewals-{calendar.start}.csv")
    weeks: OrderedDict[dt.date, list[RenewalOut]] = OrderedDict()
    for item in calendar.items:
        weeks.setdefault(week_of(item.renewal_date), []).append(item)
    reps, teams = filter_choices(session, visible=visible)
    query = {"days": days, "rep": rep or "", "team": team or ""}
    pages = max(1, -(-calendar.total // PER_PAGE))
    return page(
        request,
        lang,
        "renewals.html",
        principal,
        calendar=calendar,
        weeks=weeks,
        days=days,
        reps=reps,
        teams=teams,
        chosen_rep=rep or "",
        chosen_team=team or "",
        currency=settings.currency,
        data=data_links(request, table=True),
        week_totals={w.week: w for w in calendar.weeks},
        page=page_number,
        pages=pages,
        first=calendar.offset + 1 if calendar.items else 0,
        last=calendar.offset + len(calendar.items),
        page_url=lambda number: "/renewals?" + urlencode({**query, "page": number}),
    )


@router.get("/deals", response_class=HTMLResponse)
def deals_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    lang: LanguageDep,
    principal: CurrentUser,
    visible: VisibleAccounts,
    zone: Annotated[str | None, Query(pattern="^[ABC]?$")] = None,
    page_number: Annotated[int, Query(alias="page", ge=1, le=100_000)] = 1,
    format: PageTable = "html",
) -> Response:
    """The open deals by expected value with their zone, 50 a page (twin of /api/v1/deals)."""
    deals = deal_page(
        session,
        visible,
        zone=zone or None,
        limit=DEALS_PER_PAGE,
        offset=(page_number - 1) * DEALS_PER_PAGE,
    )
    if format == "json":
        return data_response(deals)
    if format == "csv":
        every = deal_page(session, visible, zone=zone or None, limit=10_000_000)
        return table_response(every.items, DealOut, f"deals-{every.snapshot.as_of}.csv")
    return page(
        request,
        lang,
        "deals.html",
        principal,
        deals=deals,
        zone=zone or "",
        page=page_number,
        pages=max(1, -(-deals.total // DEALS_PER_PAGE)),
        currency=settings.currency,
        data=data_links(request, table=True),
    )


@router.get(
    "/departure", response_class=HTMLResponse, dependencies=[roles(*SIMULATORS), SnapshotETag]
)
def departure_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    lang: LanguageDep,
    principal: CurrentUser,
    visible: VisibleAccounts,
    rep: Annotated[str | None, KEY] = None,
    page_number: Annotated[int, Query(alias="page", ge=1, le=100_000)] = 1,
    format: PageTable = "html",
) -> Response:
    """Pick a rep: the accounts and the LTV their departure puts at risk, and the successors
    with their spare hours (twin of /api/v1/simulate/departure). The accounts at risk are shown
    50 a page, most LTV at risk first (a rep of a large company holds thousands); the totals,
    the successors and the JSON and CSV twins cover them all."""
    result = rep_departure(session, principal, visible, rep) if rep else None
    if format != "html" and result is not None:
        if format == "json":
            return data_response(result)
        return table_response(result.accounts, HandoverAccount, f"departure-{result.rep_id}.csv")
    ranked = sorted(result.accounts, key=lambda a: -a.ltv_at_risk) if result else []
    start = (page_number - 1) * DEPARTURE_PER_PAGE
    return page(
        request,
        lang,
        "departure.html",
        principal,
        result=result,
        local_time=local_clock(settings.zone),
        reps=[r for r in reach_reps(session, principal) if r.role == "rep"],
        chosen_rep=rep or "",
        shown=ranked[start : start + DEPARTURE_PER_PAGE],
        page=page_number,
        pages=max(1, -(-len(ranked) // DEPARTURE_PER_PAGE)),
        currency=settings.currency,
        data=data_links(request, table=True) if result is not None else None,
    )
