"""The 1on1 pages: a picker of the reps the caller reaches, and one rep's agenda.

The agenda comes from :func:`tillage.services.reviews.rep_agenda`, the function behind
``/api/v1/one-on-one/{rep}``, with the same rule: a rep may open their own, a manager those of
the reps they manage, an admin anyone's; anyone else is a 404, as in the API. Its sections are
the HTML report's own (:func:`tillage.report.review.agenda_sections`), with account names
linking to the account pages.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup

from tillage.report.review import agenda_sections
from tillage.services.reviews import rep_agenda
from tillage.serving.auth import CurrentUser, VisibleAccounts, protected_router
from tillage.serving.deps import LanguageDep, SessionDep, SettingsDep
from tillage.serving.etag import SnapshotETag
from tillage.serving.scope import page_roles
from tillage.store.access import RepRef, reach_reps
from tillage.web.render import PageData, data_response, page

router = protected_router(include_in_schema=False)


def agenda_link(rep_key: str) -> str:
    """The 1on1 page of the rep ``rep_key``."""
    return "/one-on-one/" + quote(rep_key, safe="")


@router.get("/one-on-one", response_class=HTMLResponse, dependencies=[page_roles("/one-on-one")])
def one_on_one_picker(
    request: Request, session: SessionDep, lang: LanguageDep, principal: CurrentUser
) -> HTMLResponse:
    """The reps (not managers) whose 1on1 agenda the caller may open, by team; a rep goes
    straight to their own."""
    if principal.role == "rep" and principal.rep_key:
        return RedirectResponse(agenda_link(principal.rep_key), status_code=303)  # type: ignore[return-value]
    teams: dict[str, list[RepRef]] = {}
    for rep in reach_reps(session, principal):
        if rep.role == "rep":
            teams.setdefault(rep.team or "", []).append(rep)
    return page(
        request, lang, "one_on_one_picker.html", principal, teams=teams, agenda_link=agenda_link
    )


@router.get(
    "/one-on-one/{rep}",
    response_class=HTMLResponse,
    dependencies=[page_roles("/one-on-one"), SnapshotETag],
)
def one_on_one_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    lang: LanguageDep,
    principal: CurrentUser,
    visible: VisibleAccounts,
    rep: Annotated[str, Path(min_length=1, max_length=128)],
    format: PageData = "html",
) -> Response:
    """A rep's 1on1 agenda (twin of /api/v1/one-on-one/{rep}; ``?format=json`` its answer)."""
    agenda = rep_agenda(session, settings, lang, principal, visible, rep)
    if format == "json":
        return data_response(agenda)
    sections = agenda_sections(agenda, account_link=lambda account_id: f"/accounts/{account_id}")
    return page(
        request,
        lang,
        "one_on_one.html",
        principal,
        agenda=agenda,
        sections=Markup(sections),  # escaped by the report templates
    )
