"""Who is calling, and may they: the one place where requests are authenticated and authorized.

A request is authenticated by, in order:

1. ``Authorization: Bearer <token>`` — an API token (machines); a bad token is refused even if a
   session cookie is present as well;
2. the ``tillage_session`` cookie — a browser session, signed with ``secret_key``, holding the
   user id, the user's session epoch (raised by logout, password change and disabling, which
   ends every older session) and the session's CSRF token.

State-changing requests (anything but GET, HEAD, OPTIONS) made with a session cookie must carry
the session's CSRF token in the ``X-CSRF-Token`` header or a ``csrf_token`` form field
(synchronizer token). Bearer requests need none: browsers never send them on their own.

Routers are made with :func:`protected_router`, which puts :func:`authorize` on every route: a
caller must be logged in, hold the ``read`` scope for reads and ``write`` for changes, and, on an
admin router, be an admin holding the ``admin`` scope (logging out needs only ``read``: see
:func:`authorize_own_session`). A route therefore gets access control by
being added to such a router; ``tests/api/test_permissions.py`` fails for any route outside the
public list that lacks it. What a caller *sees* is decided by
:func:`tillage.store.access.account_filter`, handed to routes as :data:`VisibleAccounts`.
"""

from __future__ import annotations

import secrets
from dataclasses import replace
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy.orm import Session

from tillage.errors import AuthenticationError, PermissionDenied
from tillage.serving.deps import SessionDep
from tillage.serving.errors import VALIDATION_RESPONSE, ErrorResponse
from tillage.store.access import AccountFilter, Principal, account_filter
from tillage.store.schema import User
from tillage.store.users import normalize_login, principal_for, principal_for_token, utcnow

SESSION_COOKIE = "tillage_session"
LOGIN_CSRF_COOKIE = "tillage_login_csrf"
DEVICE_COOKIE = "tillage_device"
DEVICE_MAX_AGE = 180 * 24 * 3600  # seconds
SESSION_MAX_AGE = 12 * 3600  # seconds
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _serializer(request: Request, purpose: str) -> URLSafeTimedSerializer:
    secret = request.app.state.settings.require_secret_key()
    return URLSafeTimedSerializer(secret, salt=f"tillage.{purpose}")


def client_address(request: Request) -> str | None:
    """The caller's address as the server sees it (after trusted proxy headers)."""
    return request.client.host if request.client else None


def _session_principal(request: Request, session: Session) -> Principal | None:
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return None
    try:
        data = _serializer(request, "session").loads(cookie, max_age=SESSION_MAX_AGE)
        user_id, epoch, csrf = int(data["u"]), int(data["e"]), str(data["c"])
    except (BadSignature, KeyError, TypeError, ValueError):
        return None
    user = session.get(User, user_id)
    if user is None or user.disabled or user.session_epoch != epoch:
        return None
    return replace(principal_for(user, via="session"), csrf_token=csrf)


def get_principal(request: Request, session: SessionDep) -> Principal | None:
    """The caller, or ``None`` when anonymous (a bad bearer token is an error, not anonymous)."""
    header = request.headers.get("authorization", "")
    scheme, _, credentials = header.partition(" ")
    if scheme.lower() == "bearer":
        principal = principal_for_token(session, credentials.strip(), now=utcnow())
    else:
        principal = _session_principal(request, session)
    if session.dirty:  # a token's last_used_at (once a minute); else the route reads on
        session.commit()
    return principal


MaybePrincipal = Annotated[Principal | None, Depends(get_principal)]


async def _check_csrf(request: Request, principal: Principal) -> None:
    if request.method in SAFE_METHODS or principal.via != "session":
        return
    sent = request.headers.get("x-csrf-token")
    if sent is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()
        value = form.get("csrf_token")
        sent = value if isinstance(value, str) else None
    if (
        not sent
        or not principal.csrf_token
        or not secrets.compare_digest(sent, principal.csrf_token)
    ):
        raise PermissionDenied(
            "missing or wrong CSRF token: send the page's csrf_token with the form, or the "
            "X-CSRF-Token header"
        )


async def current_user(request: Request, principal: MaybePrincipal) -> Principal:
    """The logged-in caller (CSRF-checked for changes); 401 when anonymous."""
    if principal is None:
        raise AuthenticationError(
            "log in first: send `Authorization: Bearer <token>` or use the /login page"
        )
    await _check_csrf(request, principal)
    return principal


CurrentUser = Annotated[Principal, Depends(current_user)]


def _require_scope(request: Request, principal: Principal, scope: str) -> None:
    if scope not in principal.scopes:
        raise PermissionDenied(f"this {request.method} needs the {scope!r} scope")


async def authorize(request: Request, principal: CurrentUser) -> Principal:
    """Logged in, with ``read`` scope for reads and ``write`` for changes."""
    _require_scope(request, principal, "read" if request.method in SAFE_METHODS else "write")
    return principal


async def authorize_own_session(request: Request, principal: CurrentUser) -> Principal:
    """For a change to the caller's own browser session only (logging out): a session needs
    the ``read`` scope, so a read-only user (finance) can still log out; a token, which has no
    session to end, needs ``write`` as for any change."""
    if principal.via == "session":
        _require_scope(request, principal, "read")
        return principal
    return await authorize(request, principal)


async def authorize_admin(request: Request, principal: CurrentUser) -> Principal:
    """As :func:`authorize`, and an admin holding the ``admin`` scope."""
    await authorize(request, principal)
    if not principal.is_admin:
        raise PermissionDenied("only an admin may do this")
    _require_scope(request, principal, "admin")
    return principal


def protected_router(*, admin: bool = False, own_session: bool = False, **kwargs: Any) -> APIRouter:
    """An ``APIRouter`` whose every route requires :func:`authorize` (or the admin variant, or
    with ``own_session`` :func:`authorize_own_session`)."""
    responses = {
        401: {"model": ErrorResponse, "description": "Not logged in"},
        403: {"model": ErrorResponse, "description": "Scope, role or CSRF token missing"},
        **VALIDATION_RESPONSE,
        **kwargs.pop("responses", {}),
    }
    dependency = authorize_admin if admin else authorize_own_session if own_session else authorize
    return APIRouter(
        dependencies=[Depends(dependency), *kwargs.pop("dependencies", [])],
        responses=responses,
        **kwargs,
    )


async def visible_accounts(principal: CurrentUser) -> AccountFilter:
    """The caller's account filter (see :func:`tillage.store.access.account_filter`); on the
    event loop, as every dependency that reads no database (a ``def`` one costs a thread)."""
    return account_filter(principal)


VisibleAccounts = Annotated[AccountFilter, Depends(visible_accounts)]


def start_session(request: Request, response: Response, user: User) -> str:
    """Set the session cookie for ``user`` on ``response``; returns the session's CSRF token."""
    csrf = secrets.token_urlsafe(24)
    value = _serializer(request, "session").dumps(
        {"u": user.id, "e": user.session_epoch, "c": csrf}
    )
    response.set_cookie(
        SESSION_COOKIE,
        value,
        max_age=SESSION_MAX_AGE,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )
    return csrf


def end_session(response: Response) -> None:
    """Remove the session cookie."""
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax")


def known_device(request: Request, login: str) -> str | None:
    """The nonce of this browser's device cookie if it was issued to ``login`` (a browser that
    has logged in as this user before), else None. Such a browser is not slowed by failures
    elsewhere (see :mod:`tillage.store.users`): an attacker cannot lock its user out."""
    cookie = request.cookies.get(DEVICE_COOKIE)
    if not cookie:
        return None
    try:
        data = _serializer(request, "device").loads(cookie, max_age=DEVICE_MAX_AGE)
        if str(data["l"]) == normalize_login(login):
            return str(data["n"])
    except (BadSignature, KeyError, TypeError):
        pass
    return None


def remember_device(request: Request, response: Response, user: User) -> None:
    """After a successful login: mark this browser as a known device of ``user`` (a signed
    cookie sent to ``/login`` only; the same nonce while it stays valid for the same user)."""
    nonce = known_device(request, user.login) or secrets.token_urlsafe(12)
    response.set_cookie(
        DEVICE_COOKIE,
        _serializer(request, "device").dumps({"l": user.login, "n": nonce}),
        max_age=DEVICE_MAX_AGE,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/login",
    )


def login_csrf_token(request: Request) -> str:
    """The login form's CSRF token: the visitor's valid one, or a new signed random value."""
    token = request.cookies.get(LOGIN_CSRF_COOKIE)
    try:
        if token:
            _serializer(request, "login").loads(token, max_age=SESSION_MAX_AGE)
            return token
    except BadSignature:
        pass
    return _serializer(request, "login").dumps(secrets.token_urlsafe(16))


def set_login_csrf_cookie(request: Request, response: Response, token: str) -> None:
    """Set the login form's token as a cookie too (double submit, checked on POST /login)."""
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        max_age=SESSION_MAX_AGE,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/login",
    )


def check_login_csrf(request: Request, sent: str | None) -> None:
    """The login form's token must match its cookie and carry our signature."""
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE)
    try:
        if cookie and sent and secrets.compare_digest(cookie, sent):
            _serializer(request, "login").loads(sent, max_age=SESSION_MAX_AGE)
            return
    except BadSignature:
        pass
    raise PermissionDenied("the login form expired or was not sent by this site; reload the page")


async def require_admin_role(principal: CurrentUser) -> Principal:
    """The caller must have the admin role (any scope the method needs is checked by
    :func:`authorize`); for routes on a :func:`protected_router` that change company-wide data."""
    if not principal.is_admin:
        raise PermissionDenied("only an admin may do this")
    return principal


AdminRole = Depends(require_admin_role)
"""Put in a route's ``dependencies`` to limit it to admins."""
