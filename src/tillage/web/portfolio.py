"""The portfolio page: the value × growth matrix and the deal size × win probability matrix
(A / B / C zones) as heatmaps, and the accounts by LTV zone.

The zone totals come from :func:`tillage.store.snapshots.zone_totals` and
:func:`tillage.store.plans.deal_zone_totals`, the functions behind ``/api/v1/portfolio``, so the
page and the API count the same accounts and deals; the value × growth cells from
:func:`tillage.store.pages.segment_cells`, the deal cells from
:func:`tillage.store.plans.deal_cells`. All apply the caller's visibility filter. Clicking a
cell opens the account list filtered to it.
"""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse

from tillage.services.strategy import strategy_in_force
from tillage.serving.auth import CurrentUser, VisibleAccounts, protected_router
from tillage.serving.deps import LanguageDep, SessionDep, SettingsDep
from tillage.store.pages import segment_cells
from tillage.store.plans import deal_cells, deal_zone_totals
from tillage.store.snapshots import latest_snapshot, zone_totals
from tillage.web.charts import deal_heatmap, segment_heatmap, segment_label
from tillage.web.render import page

router = protected_router(include_in_schema=False)


def accounts_link(**filters: str) -> str:
    """The account list filtered by ``filters`` (e.g. ``segment="deepen"``)."""
    return "/accounts?" + urlencode(filters)


@router.get("/portfolio", response_class=HTMLResponse)
def portfolio_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    lang: LanguageDep,
    principal: CurrentUser,
    visible: VisibleAccounts,
) -> HTMLResponse:
    """The caller's portfolio in the latest snapshot (twin of /api/v1/portfolio)."""
    snapshot = latest_snapshot(session)
    cells = segment_cells(session, snapshot.id, visible=visible)
    zones = zone_totals(session, snapshot.id, visible=visible)
    likely_at = strategy_in_force(session).portfolio.win_probability_threshold
    deals = deal_cells(session, snapshot.id, visible=visible, likely_at=likely_at)
    deal_zones = deal_zone_totals(session, snapshot.id, visible=visible)
    currency = settings.currency
    has_segments = any(c.accounts for c in cells)
    return page(
        request,
        lang,
        "portfolio.html",
        principal,
        snapshot=snapshot,
        cells=cells,
        zones=zones,
        has_segments=has_segments,
        total_accounts=sum(n for _z, n, _t in zones),
        total_ltv=sum(t for _z, _n, t in zones),
        segment_figure=(
            segment_heatmap(cells, lang, currency, lambda s: accounts_link(segment=s))
            if has_segments
            else None
        ),
        deal_zones=deal_zones,
        likely_at=likely_at,
        deal_figure=(
            deal_heatmap(deals, lang, currency, lambda z: accounts_link(deal_zone=z))
            if any(c.deals for c in deals)
            else None
        ),
        segment_label=lambda s: segment_label(s, lang),
        accounts_link=accounts_link,
        currency=currency,
    )
