"""The portfolio page: the value × growth matrix and the A / B / C zones as heatmaps.

The zone cells come from :func:`tillage.store.snapshots.zone_totals`, the function behind
``/api/v1/portfolio``, so the page and the API count the same accounts; the value × growth cells
from :func:`tillage.store.pages.segment_cells`. Both apply the caller's visibility filter.
Clicking a cell opens the account list filtered to it.
"""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse

from tillage.api.auth import CurrentUser, VisibleAccounts, protected_router
from tillage.api.deps import LanguageDep, SessionDep, SettingsDep
from tillage.store.pages import segment_cells
from tillage.store.snapshots import latest_snapshot, zone_totals
from tillage.web.charts import segment_heatmap, segment_label, zone_heatmap
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
        zone_figure=zone_heatmap(zones, lang, currency, lambda z: accounts_link(zone=z)),
        segment_label=lambda s: segment_label(s, lang),
        accounts_link=accounts_link,
        currency=currency,
    )
