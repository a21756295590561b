"""The dashboard's login, logout and error pages.

The pages themselves (:mod:`tillage.web.portfolio`, :mod:`tillage.web.accounts`) each call the
same service functions as their JSON twin in the API. Routes needing a logged-in user live on
routers made by :func:`~tillage.serving.auth.protected_router` (anonymous visitors are sent to
``/login``); the login page itself is on :data:`public`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from tillage.errors import AuthenticationError, TooManyAttempts
from tillage.i18n import gettext_for
from tillage.serving.auth import (
    CurrentUser,
    MaybePrincipal,
    check_login_csrf,
    client_address,
    end_session,
    get_principal,
    known_device,
    login_csrf_token,
    protected_router,
    remember_device,
    set_login_csrf_cookie,
    start_session,
)
from tillage.serving.deps import LanguageDep, SessionDep, language_of
from tillage.serving.scope import menu_for
from tillage.store.access import Principal
from tillage.store.users import audit, authenticate, get_user, utcnow
from tillage.web.render import LANG_COOKIE_AGE, language_links, render

router = protected_router(include_in_schema=False, own_session=True)  # logout only
public = APIRouter(include_in_schema=False)


def _visitor(request: Request) -> Principal | None:
    """The logged-in visitor of an error page (for the menu), or None; never raises."""
    try:
        with request.app.state.sessions() as session:
            return get_principal(request, session)
    except Exception:  # an error page must render even when the store or the token fails
        return None


def error_page(request: Request, status: int, message: str) -> HTMLResponse:
    """The HTML twin of the JSON error shape, for dashboard paths: what happened in the user's
    language, where to go next (the menu when logged in), and ``message`` as the detail."""
    lang = language_of(request, request.query_params.get("lang"))
    visitor = _visitor(request)
    html = render(
        lang,
        "error.html",
        user=visitor,
        menu=menu_for(visitor.role) if visitor else [],
        status=status,
        message=message,
        lang_links=language_links(request),
    )
    return HTMLResponse(html, status_code=status)


def _safe_next(target: str | None) -> str:
    """Only same-site paths: an open redirect would make a phishing tool of the login page."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return "/portfolio"


def _wait_message(seconds: int, lang: str) -> str:
    """ "Try again in 40 seconds" / "in 5 minutes" (rounded up) for a throttled login."""
    _ = gettext_for(lang)
    if seconds < 60:
        return _("Too many failed logins. Try again in %(seconds)s seconds.") % {"seconds": seconds}
    return _("Too many failed logins. Try again in %(minutes)s minutes.") % {
        "minutes": -(-seconds // 60)
    }


@public.get("/")
def index() -> RedirectResponse:
    """The dashboard starts at the portfolio."""
    return RedirectResponse("/portfolio", status_code=307)


@public.get("/login", response_class=HTMLResponse)
def login_page(
    request: Request, lang: LanguageDep, principal: MaybePrincipal, next: str | None = None
) -> HTMLResponse:
    """The login form (already logged-in users go on to the dashboard)."""
    if principal is not None:
        return RedirectResponse(_safe_next(next), status_code=303)  # type: ignore[return-value]
    token = login_csrf_token(request)
    response = HTMLResponse(
        render(
            lang,
            "login.html",
            user=None,
            csrf_token=token,
            next=_safe_next(next),
            error=None,
            lang_links=language_links(request),
        )
    )
    response.set_cookie("lang", lang, samesite="lax", httponly=True, max_age=LANG_COOKIE_AGE)
    set_login_csrf_cookie(request, response, token)
    return response


@public.post("/login", response_class=HTMLResponse)
def login_submit(
    request: Request,
    session: SessionDep,
    lang: LanguageDep,
    login: Annotated[str, Form(max_length=320)],
    password: Annotated[str, Form(max_length=1024)],
    csrf_token: Annotated[str | None, Form()] = None,
    next: Annotated[str | None, Form()] = None,
) -> HTMLResponse:
    """Check the password, start a session and go on to ``next`` (throttled, audited)."""
    check_login_csrf(request, csrf_token)
    try:
        user = authenticate(
            session,
            login,
            password,
            client=client_address(request),
            now=utcnow(),
            device=known_device(request, login),
        )
        session.commit()
    except (AuthenticationError, TooManyAttempts) as exc:
        session.commit()  # keep the failed-login record that throttles
        _ = gettext_for(lang)
        message = (
            _("Wrong login or password.")
            if isinstance(exc, AuthenticationError)
            else _wait_message(exc.retry_after, lang)
        )
        status = 429 if isinstance(exc, TooManyAttempts) else 401
        html = render(
            lang,
            "login.html",
            user=None,
            csrf_token=csrf_token,
            next=_safe_next(next),
            error=message,
            login=login,
            lang_links=language_links(request),
        )
        headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, TooManyAttempts) else {}
        return HTMLResponse(html, status_code=status, headers=headers)
    response = RedirectResponse(_safe_next(next), status_code=303)
    start_session(request, response, user)
    remember_device(request, response, user)
    return response  # type: ignore[return-value]


@router.post("/logout")
def logout(session: SessionDep, principal: CurrentUser) -> RedirectResponse:
    """End this session and every other session of the user (CSRF-checked)."""
    assert principal.user_id is not None
    user = get_user(session, principal.user_id)
    user.session_epoch += 1
    audit(session, "logout", now=utcnow(), user_id=user.id, actor=user.login)
    session.commit()
    response = RedirectResponse("/login", status_code=303)
    end_session(response)
    return response
