"""The period review page: KPIs against the previous period and target, the segment migration
matrix, plan execution by rep, forecast accuracy and regular meetings against retention.

The review comes from :func:`tillage.services.reviews.period_review`, the function behind
``/api/v1/reviews/{period}``, with the same rule: admins and managers only (a rep gets 403), a
manager's review limited to their reach. Its sections are the HTML report's own
(:func:`tillage.report.review.review_sections`), so the page and ``tillage review --format
html`` show the same tables.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup

from tillage.kpi import period_containing
from tillage.report.review import review_sections
from tillage.services.reviews import REVIEWERS, period_review
from tillage.services.strategy import strategy_in_force
from tillage.services.strategy_changes import accept_recommendations
from tillage.serving.auth import CurrentUser, VisibleAccounts, client_address, protected_router
from tillage.serving.deps import LanguageDep, SessionDep, SettingsDep
from tillage.serving.etag import SnapshotETag
from tillage.serving.params import PERIOD_PATTERN
from tillage.serving.scope import roles
from tillage.store.snapshots import latest_snapshot
from tillage.web.render import PageData, data_response, page

router = protected_router(include_in_schema=False)
EMPTY_OR_PERIOD = "^$|" + PERIOD_PATTERN


@router.get("/review", response_class=HTMLResponse, dependencies=[roles(*REVIEWERS), SnapshotETag])
def review_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    lang: LanguageDep,
    principal: CurrentUser,
    visible: VisibleAccounts,
    period: Annotated[str | None, Query(pattern=EMPTY_OR_PERIOD)] = None,
    format: PageData = "html",
) -> Response:
    """The review of a month or quarter (default: the quarter of the newest snapshot), twin of
    /api/v1/reviews/{period} (``?format=json`` its answer)."""
    if not period:
        fiscal = strategy_in_force(session).fiscal_year_start_month
        period = period_containing(latest_snapshot(session).as_of, "quarter", fiscal).label
    review = period_review(session, settings, lang, principal, visible, period)
    if format == "json":
        return data_response(review)
    return page(
        request,
        lang,
        "review.html",
        principal,
        review=review,
        # escaped by the report templates; admins get the button that accepts the Act's
        # recommendations as a new strategy version
        sections=Markup(
            review_sections(
                review,
                accept_url=f"/review/{review.period}/accept" if principal.is_admin else None,
                csrf_token=principal.csrf_token,
            )
        ),
    )


@router.post("/review/{period}/accept", response_class=HTMLResponse, dependencies=[roles("admin")])
def accept_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    lang: LanguageDep,
    principal: CurrentUser,
    visible: VisibleAccounts,
    period: Annotated[str, Path(pattern=PERIOD_PATTERN)],
    keys: Annotated[list[str] | None, Form(max_length=100)] = None,
) -> Response:
    """Accept the ticked recommendations (``keys``) of the review of ``period`` as a new
    strategy version (as ``POST /api/v1/reviews/{period}/accept``), then show it in Settings;
    none ticked is refused."""
    accepted = accept_recommendations(
        session,
        settings,
        lang,
        principal,
        visible,
        period,
        keys=keys or [],
        client=client_address(request),
    )
    return RedirectResponse(f"/settings?saved={accepted.version_id}", status_code=303)
