"""/api/v1/users: user administration (admins holding the ``admin`` scope only)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Path
from pydantic import BaseModel, Field

from tillage.api.auth_routes import UserOut
from tillage.serving.auth import CurrentUser, protected_router
from tillage.serving.deps import SessionDep
from tillage.serving.errors import ErrorResponse
from tillage.store.users import create_user, get_user, list_users, update_user, utcnow

Role = Literal["admin", "manager", "rep", "success", "marketing", "finance"]
router = protected_router(
    admin=True,
    prefix="/api/v1/users",
    tags=["users"],
)


class UserIn(BaseModel):
    """A new user. Managers and reps need ``rep_key``, the key of their row in reps."""

    login: str = Field(min_length=1, max_length=320)
    display_name: str = Field(default="", max_length=200)
    role: Role
    rep_key: str | None = Field(default=None, max_length=128)
    password: str = Field(min_length=8, max_length=1024)


class UserPatch(BaseModel):
    """Fields to change; absent fields stay. Disabling or a new password ends all sessions."""

    display_name: str | None = Field(default=None, max_length=200)
    role: Role | None = None
    rep_key: str | None = Field(default=None, max_length=128)
    disabled: bool | None = None
    password: str | None = Field(default=None, min_length=8, max_length=1024)


@router.get("")
def get_users(session: SessionDep) -> list[UserOut]:
    """Every user, by login."""
    return [UserOut.of(u) for u in list_users(session)]


@router.post("", status_code=201)
def post_user(session: SessionDep, principal: CurrentUser, body: UserIn) -> UserOut:
    """Add a user."""
    user = create_user(session, **body.model_dump(), now=utcnow(), by=principal)
    session.commit()
    return UserOut.of(user)


@router.patch("/{user_id}", responses={404: {"model": ErrorResponse}})
def patch_user(
    session: SessionDep,
    principal: CurrentUser,
    user_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    body: UserPatch,
) -> UserOut:
    """Change a user: name, role, rep link, disabled, password."""
    user = update_user(
        session,
        get_user(session, user_id),
        now=utcnow(),
        by=principal,
        **body.model_dump(exclude_unset=True),
    )
    session.commit()
    return UserOut.of(user)
