"""Dashboard pages. Each page calls the same service functions as its JSON twin in the API."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, RedirectResponse

from tillage.api.deps import LanguageDep, SessionDep, SettingsDep
from tillage.store.snapshots import latest_snapshot, list_scores, zone_totals
from tillage.web.render import render

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 50


@router.get("/")
def index() -> RedirectResponse:
    """The dashboard starts at the account list."""
    return RedirectResponse("/accounts", status_code=307)


@router.get("/accounts", response_class=HTMLResponse)
def accounts_page(
    session: SessionDep,
    settings: SettingsDep,
    lang: LanguageDep,
    page: Annotated[int, Query(ge=1)] = 1,
    zone: Annotated[str | None, Query(pattern="^[ABC]$")] = None,
) -> HTMLResponse:
    """Accounts of the latest snapshot with their zone and value (twin of /api/v1/accounts)."""
    snapshot = latest_snapshot(session)
    total, rows = list_scores(
        session, snapshot.id, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE, zone=zone
    )
    html = render(
        lang,
        "accounts.html",
        snapshot=snapshot,
        zones=zone_totals(session, snapshot.id),
        rows=rows,
        total=total,
        page=page,
        pages=max(1, -(-total // PAGE_SIZE)),
        zone=zone,
        currency=settings.currency,
    )
    response = HTMLResponse(html)
    response.set_cookie("lang", lang, samesite="lax", httponly=True)
    return response
