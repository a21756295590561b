"""The Settings pages (admins): the strategy file's editor and its versions, and the users.

The editor calls the functions behind ``/api/v1/strategy``: *validate* is
:func:`~tillage.services.strategy.check_strategy` (as ``POST /api/v1/strategy/validate``), whose
errors name each field; the page lists them beside the text with the line that sets the field.
*Save* is :func:`~tillage.services.strategy.save_strategy_text` (as ``PUT /api/v1/strategy``): a new
version, audit-logged (``strategy.update``); an invalid text saves nothing. The users page lists,
adds and disables users with :func:`~tillage.store.users.create_user` and
:func:`~tillage.store.users.update_user`, as ``/api/v1/users`` does (audited ``user.create``,
``user.update``). Both answer 403 to anyone but an admin holding the ``admin`` scope.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.orm import Session

from tillage.errors import ConfigurationError, DataValidationError
from tillage.services.strategy import MAX_TEXT, check_strategy, save_strategy_text
from tillage.serving.auth import CurrentUser, client_address, protected_router
from tillage.serving.deps import LanguageDep, SessionDep
from tillage.store.access import Principal
from tillage.store.schema import ROLES
from tillage.store.strategies import current_strategy, strategy_version, strategy_versions
from tillage.store.users import (
    create_user,
    get_user,
    list_users,
    rep_labels,
    update_user,
    utcnow,
)
from tillage.strategy.config_text import default_strategy_toml
from tillage.web.render import page

router = protected_router(admin=True, include_in_schema=False)
VERSIONS_SHOWN = 50
_HEADER = re.compile(r"^\[(\[)?\s*([^\]]+?)\s*\]\]?")
_KEY = re.compile(r'^("[^"]*"|[A-Za-z0-9_.\-]+)\s*=')


def field_line(text: str, field: str) -> int | None:
    """The line (1-based) of TOML ``text`` that sets the dotted ``field`` (``playbooks.0.hours``
    for the first ``[[playbooks]]``), else the line of its table's header, else ``None``."""
    wanted = field.split(".")
    table: list[str] = []
    counts: dict[str, int] = {}
    best: tuple[int, int] | None = None  # (matching parts, line)
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        header = _HEADER.match(line)
        if header:
            name = header[2]
            if header[1]:  # [[array]]: its items are numbered from 0
                counts[name] = counts.get(name, -1) + 1
                table = [*name.split("."), str(counts[name])]
            else:
                table = name.split(".")
            path = table
        elif key := _KEY.match(line):
            path = [*table, *key[1].strip('"').split(".")]
        else:
            continue
        if path == wanted:
            return number
        if path == wanted[: len(path)] and (best is None or len(path) > best[0]):
            best = (len(path), number)
    return best[1] if best else None


def _strategy_page(
    request: Request,
    session: Session,
    lang: str,
    principal: Principal,
    *,
    text: str,
    status_code: int = 200,
    **context: object,
) -> HTMLResponse:
    current = current_strategy(session)
    response = page(
        request,
        lang,
        "settings_strategy.html",
        principal,
        text=text,
        current=current,
        versions=strategy_versions(session, limit=VERSIONS_SHOWN),
        max_text=MAX_TEXT,
        **{"result": None, "comment": "", "notice": None, "loaded": None, **context},
    )
    response.status_code = status_code
    return response


def _check(text: str) -> dict[str, object]:
    """The editor's verdict on ``text``: valid, or each error with its field and line."""
    try:
        check_strategy(text)
    except ConfigurationError as exc:
        errors = [
            {"field": field, "reason": reason, "line": field_line(text, field)}
            for field, reason in exc.fields
        ]
        return {"valid": False, "errors": errors, "message": str(exc)}
    return {"valid": True, "errors": [], "message": None}


@router.get("/settings", response_class=HTMLResponse)
def strategy_page(
    request: Request,
    session: SessionDep,
    lang: LanguageDep,
    principal: CurrentUser,
    version: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    saved: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
) -> HTMLResponse:
    """The strategy in force in an editor (or saved ``version``'s text, to restore it), and the
    version history (twin of ``GET /api/v1/strategy`` and its versions)."""
    if version is not None:
        text = strategy_version(session, version).text
    else:
        current = current_strategy(session)
        text = default_strategy_toml() if current is None else current.text
    return _strategy_page(
        request,
        session,
        lang,
        principal,
        text=text,
        loaded=version,
        notice="saved" if saved else None,
        saved=saved,
    )


@router.post("/settings/strategy", response_class=HTMLResponse)
def strategy_submit(
    request: Request,
    session: SessionDep,
    lang: LanguageDep,
    principal: CurrentUser,
    text: Annotated[str, Form(max_length=MAX_TEXT)],
    action: Annotated[Literal["validate", "save"], Form()],
    comment: Annotated[str, Form(max_length=500)] = "",
) -> HTMLResponse:
    """*validate* checks the text (as ``POST /api/v1/strategy/validate``); *save* stores it as a
    new version (as ``PUT /api/v1/strategy``) and returns to the editor, or, when the text is
    invalid, shows the errors (422) and saves nothing."""
    text = text.replace("\r\n", "\n")  # browsers send a textarea's lines with CRLF
    result = _check(text)
    if action == "save" and result["valid"]:
        info = save_strategy_text(
            session, principal, text, comment or None, client=client_address(request)
        )
        return RedirectResponse(f"/settings?saved={info.id}", status_code=303)  # type: ignore[return-value]
    return _strategy_page(
        request,
        session,
        lang,
        principal,
        text=text,
        comment=comment,
        result=result,
        status_code=422 if action == "save" else 200,
    )


def _users_page(
    request: Request,
    session: Session,
    lang: str,
    principal: Principal,
    *,
    status_code: int = 200,
    **context: object,
) -> HTMLResponse:
    response = page(
        request,
        lang,
        "settings_users.html",
        principal,
        users=list_users(session),
        reps=rep_labels(session),
        roles=ROLES,
        **{"error": None, "notice": None, "form": {}, **context},
    )
    response.status_code = status_code
    return response


@router.get("/settings/users", response_class=HTMLResponse)
def users_page(
    request: Request,
    session: SessionDep,
    lang: LanguageDep,
    principal: CurrentUser,
    added: Annotated[str | None, Query(max_length=320)] = None,
    changed: Annotated[str | None, Query(max_length=320)] = None,
) -> HTMLResponse:
    """Every user with role, rep, team and state, and the form adding one (twin of
    ``GET /api/v1/users``)."""
    notice = ("added", added) if added else ("changed", changed) if changed else None
    return _users_page(request, session, lang, principal, notice=notice)


@router.post("/settings/users", response_class=HTMLResponse)
def add_user(
    request: Request,
    session: SessionDep,
    lang: LanguageDep,
    principal: CurrentUser,
    login: Annotated[str, Form(min_length=1, max_length=320)],
    role: Annotated[Literal["admin", "manager", "rep", "success", "marketing", "finance"], Form()],
    password: Annotated[str, Form(max_length=1024)],
    display_name: Annotated[str, Form(max_length=200)] = "",
    rep_key: Annotated[str, Form(max_length=128)] = "",
) -> HTMLResponse:
    """Add a user (as ``POST /api/v1/users``); a refusal is shown beside the form (422)."""
    try:
        user = create_user(
            session,
            login=login,
            display_name=display_name,
            role=role,
            rep_key=rep_key.strip() or None,
            password=password,
            now=utcnow(),
            by=principal,
        )
    except DataValidationError as exc:
        session.rollback()
        form = {"login": login, "display_name": display_name, "role": role, "rep_key": rep_key}
        return _users_page(
            request, session, lang, principal, status_code=422, error=str(exc), form=form
        )
    session.commit()
    return RedirectResponse(f"/settings/users?added={quote(user.login)}", status_code=303)  # type: ignore[return-value]


@router.post("/settings/users/{user_id}", response_class=HTMLResponse)
def set_user_disabled(
    session: SessionDep,
    principal: CurrentUser,
    user_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    disabled: Annotated[bool, Form()],
) -> RedirectResponse:
    """Disable a user, ending their sessions, or enable them again (as
    ``PATCH /api/v1/users/{id}`` with ``disabled``)."""
    user = update_user(
        session, get_user(session, user_id), now=utcnow(), by=principal, disabled=disabled
    )
    session.commit()
    return RedirectResponse(f"/settings/users?changed={quote(user.login)}", status_code=303)
