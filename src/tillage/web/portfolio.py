"""The portfolio page: the value × growth matrix and the deal size × win probability matrix
(A / B / C zones) as heatmaps, and the accounts by LTV zone.

The page is rendered from :func:`tillage.services.accounts.portfolio`, the answer of
``/api/v1/portfolio`` (``?format=json`` gives it as is, ``?format=csv`` its value × growth
cells), so the page and the API count the same accounts and deals; only the deal heatmap's
cells come besides it, from :func:`tillage.services.snapshot_frames.deal_cells`. All apply the
caller's visibility filter. Clicking a cell opens the account list filtered to it.
"""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from tillage.services.account_views import SEGMENTS
from tillage.services.accounts import CellOut, portfolio
from tillage.services.snapshot_frames import deal_cells
from tillage.services.strategy import strategy_in_force
from tillage.serving.auth import CurrentUser, VisibleAccounts, protected_router
from tillage.serving.deps import LanguageDep, SessionDep, SettingsDep
from tillage.store.snapshots import get_snapshot
from tillage.web.charts import deal_heatmap, segment_heatmap, segment_label
from tillage.web.render import PageTable, data_links, data_response, page, table_response

router = protected_router(include_in_schema=False)


def accounts_link(**filters: str) -> str:
    """The account list filtered by ``filters`` (e.g. ``segment="deepen"``)."""
    return "/accounts?" + urlencode(filters)


def likely_threshold(session: Session, snapshot_id: int) -> float | None:
    """The win probability from which the snapshot's scoring run called a deal likely: the one it
    recorded, else the strategy's absolute threshold; ``None`` when neither is known (a snapshot
    scored before the run recorded it, with a quantile threshold): the deal matrix is then not
    drawn rather than split at a guessed threshold."""
    record = (get_snapshot(session, snapshot_id).models or {}).get("win_probability") or {}
    recorded = record.get("probability_threshold")
    if recorded is not None:
        return float(recorded)
    return strategy_in_force(session).portfolio.win_probability_threshold


@router.get("/portfolio", response_class=Response)
def portfolio_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    lang: LanguageDep,
    principal: CurrentUser,
    visible: VisibleAccounts,
    format: PageTable = "html",
) -> Response:
    """The caller's portfolio in the latest snapshot (twin of /api/v1/portfolio)."""
    answer = portfolio(session, visible)
    if format == "json":
        return data_response(answer)
    if format == "csv":
        name = f"portfolio-{answer.snapshot.as_of.isoformat()}.csv"
        return table_response(answer.cells, CellOut, name)
    likely_at = likely_threshold(session, answer.snapshot.id)
    deals = (
        deal_cells(session, answer.snapshot.id, visible=visible, likely_at=likely_at)
        if likely_at is not None
        else []
    )
    currency = settings.currency
    has_segments = any(c.accounts for c in answer.cells if c.key in SEGMENTS)
    return page(
        request,
        lang,
        "portfolio.html",
        principal,
        snapshot=answer.snapshot,
        cells=answer.cells,
        segments=SEGMENTS,
        zones=answer.zones,
        has_segments=has_segments,
        total_accounts=sum(z.accounts for z in answer.zones),
        total_ltv=sum(z.total_ltv for z in answer.zones),
        segment_figure=(
            segment_heatmap(answer.cells, lang, currency, lambda s: accounts_link(segment=s))
            if has_segments
            else None
        ),
        deal_zones=answer.deal_zones,
        likely_at=likely_at,
        deal_figure=(
            deal_heatmap(deals, lang, currency, lambda z: accounts_link(deal_zone=z))
            if any(c.deals for c in deals)
            else None
        ),
        segment_label=lambda s: segment_label(s, lang),
        accounts_link=accounts_link,
        currency=currency,
        data=data_links(request, table=True),
    )
