"""/api/v1/auth: API tokens for machines, and /api/v1/me: who the caller is."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Request
from pydantic import AfterValidator, BaseModel, Field

from tillage.serving.auth import CurrentUser, client_address, protected_router
from tillage.serving.deps import SessionDep
from tillage.serving.errors import VALIDATION_RESPONSE, ErrorResponse
from tillage.store.schema import ApiToken, User
from tillage.store.users import (
    authenticate,
    create_token,
    get_user,
    list_tokens,
    revoke_token,
    utcnow,
)

Scope = Literal["read", "write", "admin"]


def _as_utc(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value


UtcDatetime = Annotated[dt.datetime, AfterValidator(_as_utc)]
"""Times of users and tokens: stored as naive UTC, shown with their ``+00:00`` offset."""

public = APIRouter(prefix="/api/v1/auth", tags=["auth"])
router = protected_router(prefix="/api/v1", tags=["auth"])


class TokenRequest(BaseModel):
    """Credentials and the wanted token: a name to recognise it by, scopes, lifetime in days."""

    login: str = Field(min_length=1, max_length=320)
    password: str = Field(min_length=1, max_length=1024)
    name: str = Field(default="api", min_length=1, max_length=200)
    scopes: list[Scope] = Field(default=["read"], min_length=1)
    expires_in_days: int | None = Field(default=90, ge=1, le=3650)


class TokenOut(BaseModel):
    """An API token as listed: never the token itself, only its first characters."""

    id: int
    name: str
    prefix: str
    scopes: list[str]
    created_at: UtcDatetime
    expires_at: UtcDatetime | None
    last_used_at: UtcDatetime | None
    revoked_at: UtcDatetime | None

    @classmethod
    def of(cls, token: ApiToken) -> TokenOut:
        return cls(
            id=token.id,
            name=token.name,
            prefix=token.prefix,
            scopes=token.scopes.split(),
            created_at=token.created_at,
            expires_at=token.expires_at,
            last_used_at=token.last_used_at,
            revoked_at=token.revoked_at,
        )


class TokenCreated(TokenOut):
    """A new token: ``token`` is shown this once; send it as ``Authorization: Bearer …``."""

    token: str


class UserOut(BaseModel):
    """A user as the API shows it (never the password hash). Times are UTC."""

    id: int
    login: str
    display_name: str
    role: str
    rep_key: str | None
    disabled: bool
    created_at: UtcDatetime
    last_login_at: UtcDatetime | None

    @classmethod
    def of(cls, user: User) -> UserOut:
        return cls(
            id=user.id,
            login=user.login,
            display_name=user.display_name,
            role=user.role,
            rep_key=user.rep_key,
            disabled=user.disabled,
            created_at=user.created_at,
            last_login_at=user.last_login_at,
        )


class MeOut(BaseModel):
    """The caller: the user, how they authenticated (session or token) and their scopes.

    ``csrf_token`` (sessions only) is what a script running in the page sends as
    ``X-CSRF-Token`` with a change.
    """

    user: UserOut
    via: str
    scopes: list[str]
    csrf_token: str | None


@public.post(
    "/token",
    status_code=201,
    responses={
        401: {"model": ErrorResponse, "description": "Wrong login or password"},
        403: {"model": ErrorResponse, "description": "Scope beyond the user's role"},
        429: {"model": ErrorResponse, "description": "Too many failed logins"},
        **VALIDATION_RESPONSE,
    },
)
def post_token(request: Request, session: SessionDep, body: TokenRequest) -> TokenCreated:
    """Exchange a login and password for an API token with the given scopes (throttled)."""
    now = utcnow()
    try:
        user = authenticate(
            session, body.login, body.password, client=client_address(request), now=now
        )
    finally:
        session.commit()  # keep the failed-login record that throttles
    expires = now + dt.timedelta(days=body.expires_in_days) if body.expires_in_days else None
    token, secret = create_token(
        session,
        user,
        name=body.name,
        scopes=body.scopes,
        now=now,
        expires_at=expires,
        client=client_address(request),
    )
    session.commit()
    return TokenCreated(**TokenOut.of(token).model_dump(), token=secret)


@router.get("/me")
def get_me(session: SessionDep, principal: CurrentUser) -> MeOut:
    """Who the caller is, and with which scopes."""
    assert principal.user_id is not None
    user = get_user(session, principal.user_id)
    return MeOut(
        user=UserOut.of(user),
        via=principal.via,
        scopes=sorted(principal.scopes),
        csrf_token=principal.csrf_token,
    )


@router.get("/auth/tokens")
def get_tokens(session: SessionDep, principal: CurrentUser) -> list[TokenOut]:
    """The caller's own API tokens, newest first."""
    return [TokenOut.of(t) for t in list_tokens(session, principal.user_id)]


@router.delete("/auth/tokens/{token_id}", responses={404: {"model": ErrorResponse}})
def delete_token(
    request: Request,
    session: SessionDep,
    principal: CurrentUser,
    token_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
) -> TokenOut:
    """Revoke one of the caller's tokens (an admin may revoke anyone's)."""
    token = revoke_token(
        session, token_id, by=principal, now=utcnow(), client=client_address(request)
    )
    session.commit()
    return TokenOut.of(token)
