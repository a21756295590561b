"""The account list (filter, search, sort, paginate) and one account's page.

The list is :func:`tillage.services.accounts.account_page`, the same listing as
``/api/v1/accounts`` (same filters, sort, tie order and paging); the account page the same
:func:`tillage.store.snapshots.account_detail` as ``/api/v1/accounts/{id}``, plus the account's
history across snapshots, signals, planned actions, contacts and activities. All of it through
the caller's visibility filter: another rep's account is a 404, as in the API.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import Form, Path, Query, Request
from fastapi.responses import (
    HTMLResponse,
    JSONResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from pydantic import TypeAdapter
from sqlalchemy.orm import Session, sessionmaker

from tillage.i18n import gettext_for
from tillage.models.forecast_text import choice_lines
from tillage.services.account360 import account_overview
from tillage.services.account_views import (
    SEGMENTS,
    account_actions,
    account_contacts,
    account_signals,
    account_timeline,
    filter_choices,
)
from tillage.services.accounts import (
    SEARCH_MAX,
    Listing,
    account,
    account_page,
    export_csv,
    history_by_date,
    search_text,
)
from tillage.services.activities import log_activity
from tillage.services.listing import RISK_BANDS, RISK_FLAGS, ScoreFilter
from tillage.services.marks import MARKERS
from tillage.services.notes import MAX_LENGTH as MAX_NOTE
from tillage.services.notes import add_note
from tillage.services.overrides import set_override
from tillage.serving.auth import CurrentUser, VisibleAccounts, client_address, protected_router
from tillage.serving.deps import LanguageDep, SessionDep, SettingsDep
from tillage.store.access import AccountFilter
from tillage.store.snapshots import AccountDetail
from tillage.store.users import utcnow
from tillage.strategy.action_labels import action_label
from tillage.strategy.priority import render_reasons
from tillage.strategy.risk import SIGNALS, render_signals
from tillage.web.charts import history_chart, segment_label
from tillage.web.render import local_clock, page
from tillage.web.vocabulary import vocabulary

router = protected_router(include_in_schema=False)
PAGE_SIZE = 50
KEY = Query(max_length=64, pattern=r"^[^\x00-\x1f]*$")
RISK_CHOICES = (*RISK_BANDS, *RISK_FLAGS)
PageSort = Literal["priority", "ltv", "revenue_12m", "churn_risk", "tenure_months", "name"]
"""The columns the account list's headers sort by."""
PageFormat = Annotated[
    Literal["html", "json", "csv"],
    Query(description="html (the page), json (the API's answer) or csv (every matching row)"),
]
AccountDetailOut = TypeAdapter(AccountDetail)


def _csv_lines(
    sessions: sessionmaker[Session], visible: AccountFilter, listing: Listing
) -> Iterator[str]:
    """The export on its own session: the stream outlives the request's."""
    with sessions() as session:
        yield from export_csv(session, visible, listing)


def reasons_line(reasons: Sequence[dict[str, Any]], lang: str, currency: str) -> str:
    """The priority's reasons as one line in ``lang`` (empty when the snapshot has none).

    A reason code this version cannot word (a newer scorer's) is shown as its code.
    """
    try:
        return render_reasons(reasons, lang, currency)
    except (ValueError, KeyError, TypeError):
        return " · ".join(str(r.get("code", r)) for r in reasons if isinstance(r, dict))


def risk_label(risk: str, lang: str) -> str:
    """The risk filter's name in ``lang``."""
    _ = gettext_for(lang)
    return {
        "churn": _("High churn risk"),
        "silent_churn": _("Silent churn"),
        "key_person": _("Key-person dependency"),
        "single_threaded": _("Single-threaded"),
        "borderline": _("Borderline cell"),
    }.get(risk, risk)


def signal_text(signal: object, lang: str) -> str:
    """A silent-churn signal (``{"code", "value", "strength"}``) in words: "unresolved tickets:
    2", "usage down 31%" (see :func:`tillage.strategy.risk.render_signals`); empty for anything
    else, never a raw code."""
    if isinstance(signal, dict) and signal.get("code") in SIGNALS:
        return render_signals([signal], lang)
    return ""


@router.get("/accounts", response_class=HTMLResponse)
def accounts_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    lang: LanguageDep,
    principal: CurrentUser,
    visible: VisibleAccounts,
    page_number: Annotated[int, Query(alias="page", ge=1, le=100_000)] = 1,
    sort: PageSort = "priority",
    order: Literal["asc", "desc"] | None = None,
    segment: Annotated[str | None, Query(pattern="^(" + "|".join(SEGMENTS) + ")?$")] = None,
    zone: Annotated[str | None, Query(pattern="^[ABC]?$")] = None,
    deal_zone: Annotated[str | None, Query(pattern="^[ABC]?$")] = None,
    rep: Annotated[str | None, KEY] = None,
    team: Annotated[str | None, KEY] = None,
    risk: Annotated[str | None, Query(pattern="^(" + "|".join(RISK_CHOICES) + ")?$")] = None,
    q: Annotated[str | None, Query(max_length=SEARCH_MAX)] = None,
    format: PageFormat = "html",
) -> Response:
    """The caller's accounts in the latest snapshot, filtered, searched, sorted and paginated.

    An empty parameter (an "All" choice of the filter form) means no filter. Without ``order``
    the sort's own direction (as the API's): names A to Z, figures highest first.
    """
    order = order or ("desc" if Listing(sort=sort).desc else "asc")
    filters = ScoreFilter(
        segment=segment or None,
        zone=zone or None,
        deal_zone=deal_zone or None,
        rep=rep or None,
        team=team or None,
        risk=risk or None,  # type: ignore[arg-type]
        search=search_text(q),
    )
    listing = account_page(
        session,
        visible,
        Listing(where=filters, sort=sort, descending=order == "desc"),
        limit=PAGE_SIZE,
        offset=(page_number - 1) * PAGE_SIZE,
    )
    snapshot = listing.snapshot
    if format == "json":  # the page's data: exactly /api/v1/accounts' answer
        return JSONResponse(listing.model_dump(mode="json"))
    if format == "csv":
        name = f"accounts-{snapshot.as_of.isoformat()}.csv"
        every = Listing(snapshot=snapshot.id, where=filters, sort=sort, descending=order == "desc")
        return StreamingResponse(
            _csv_lines(request.app.state.sessions, visible, every),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )
    reps, teams = filter_choices(session, visible=visible)
    state = {**filters.active(), "sort": sort, "order": order}
    if "search" in state:
        state["q"] = state.pop("search")

    def url(**changes: object) -> str:
        """This list with ``changes`` applied (``None`` removes a parameter)."""
        params = {**state, **changes}
        return "/accounts?" + urlencode({k: v for k, v in params.items() if v not in (None, "")})

    def sort_url(key: str) -> str:
        flip = "asc" if sort == key and order == "desc" else "desc"
        return url(sort=key, order=flip if sort == key else ("asc" if key == "name" else "desc"))

    return page(
        request,
        lang,
        "accounts.html",
        principal,
        snapshot=snapshot,
        rows=listing.items,
        total=listing.total,
        total_ltv=listing.total_ltv,
        page=page_number,
        pages=max(1, -(-listing.total // PAGE_SIZE)),
        filters=filters,
        sort=sort,
        order=order,
        q=filters.search or "",
        reps=reps,
        teams=teams,
        segments=SEGMENTS,
        risks=RISK_FLAGS,
        url=url,
        sort_url=sort_url,
        segment_label=lambda s: segment_label(s, lang),
        risk_label=lambda r: risk_label(r, lang),
        reasons_line=lambda r: reasons_line(r, lang, settings.currency),
        currency=settings.currency,
    )


@router.get("/accounts/{account_id}", response_class=HTMLResponse)
def account_view(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    lang: LanguageDep,
    principal: CurrentUser,
    visible: VisibleAccounts,
    account_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    format: Annotated[Literal["html", "json"], Query()] = "html",
) -> Response:
    """One account (twin of /api/v1/accounts/{account_id}): scores with the LTV interval, value
    history across snapshots, reasons, risk signals, planned actions, contacts and activities.
    ``?format=json``: the API's answer."""
    detail = account(session, visible, account_id)
    if format == "json":
        return JSONResponse(AccountDetailOut.dump_python(detail, mode="json"))
    history = history_by_date(detail.history)
    signals = actions = None
    if detail.snapshot_id is not None:
        signals = account_signals(session, account_id, detail.snapshot_id, visible=visible)
        actions = account_actions(session, account_id, detail.snapshot_id, visible=visible)
    currency = settings.currency
    return page(
        request,
        lang,
        "account.html",
        principal,
        account=detail,
        history=history,
        history_figure=history_chart(history, lang, currency) if history else None,
        signals=signals,
        reasons=reasons_line(signals.reasons, lang, currency) if signals else "",
        forecast_choice=choice_lines(detail.forecast, lang),
        actions=actions or [],
        contacts=account_contacts(session, account_id, visible=visible),
        timeline=account_timeline(session, account_id, visible=visible),
        overview=account_overview(session, detail),
        local_time=local_clock(settings.zone),
        **vocabulary(lang, currency),
        segment_label=lambda s: segment_label(s, lang),
        action_label=lambda a: action_label(a, lang),
        signal_text=lambda s: signal_text(s, lang),
        currency=currency,
        can_mark=principal.role in MARKERS,
    )


@router.post("/accounts/{account_id}/overrides", response_class=HTMLResponse)
def account_override(
    request: Request,
    session: SessionDep,
    principal: CurrentUser,
    account_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    field: Annotated[Literal["cell", "priority"], Form()],
    value: Annotated[str, Form(min_length=1, max_length=40)],
    reason: Annotated[str, Form(min_length=1, max_length=2000)],
    expires_on: Annotated[dt.date, Form()],
) -> Response:
    """Pin the account's cell or priority (as ``POST /api/v1/overrides``), then back to the
    account page."""
    set_override(
        session,
        principal,
        account_id,
        field,
        value,
        reason=reason,
        expires_on=expires_on,
        now=utcnow(),
        client=client_address(request),
    )
    return RedirectResponse(f"/accounts/{account_id}#overrides", status_code=303)


@router.post("/accounts/{account_id}/notes", response_class=HTMLResponse)
def account_note(
    request: Request,
    session: SessionDep,
    principal: CurrentUser,
    account_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    text: Annotated[str, Form(min_length=1, max_length=MAX_NOTE)],
) -> Response:
    """Add a note to the account (as ``POST /api/v1/accounts/{id}/notes``), then back to the
    account page's notes."""
    add_note(session, principal, account_id, text, now=utcnow(), client=client_address(request))
    return RedirectResponse(f"/accounts/{account_id}#notes", status_code=303)


@router.post("/accounts/{account_id}/activities", response_class=HTMLResponse)
def account_activity(
    request: Request,
    session: SessionDep,
    principal: CurrentUser,
    account_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    type: Annotated[Literal["meeting", "call", "email", "visit", "qbr"], Form()],
    day: Annotated[dt.date, Form()],
    minutes: Annotated[float | None, Form(ge=0, le=1440)] = None,
    subject: Annotated[str, Form(max_length=300)] = "",
) -> Response:
    """Log an activity on the account (as ``POST /api/v1/accounts/{id}/activities``, at noon of
    ``day``), then back to the account page's timeline."""
    log_activity(
        session,
        principal,
        account_id,
        type=type,
        occurred_at=dt.datetime.combine(day, dt.time(12, 0)),
        subject=subject,
        duration_minutes=minutes,
        now=utcnow(),
        client=client_address(request),
    )
    return RedirectResponse(f"/accounts/{account_id}#timeline", status_code=303)
