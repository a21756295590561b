"""/api/v1/overrides: manual overrides of an account's portfolio cell or priority
(:mod:`tillage.services.overrides` — who may set and clear them, and how a scoring run keeps
them). Everyone lists the overrides of the accounts they may see; admins and managers (within
their reach) set and clear them; each change is audit-logged."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import Path, Query, Request
from pydantic import BaseModel, Field

from tillage.services.overrides import OverrideOut, clear_override, override_list, set_override
from tillage.serving.auth import CurrentUser, VisibleAccounts, client_address, protected_router
from tillage.serving.deps import SessionDep
from tillage.serving.errors import ErrorResponse
from tillage.store.users import utcnow

router = protected_router(prefix="/api/v1/overrides", tags=["overrides"])


class OverrideIn(BaseModel):
    """A new override: ``account`` (key or id), ``field`` and its ``value`` (a cell name, or a
    priority 0–100 as text or number), ``reason`` and the last day it holds."""

    account: str = Field(min_length=1, max_length=128)
    field: Literal["cell", "priority"]
    value: str | float
    reason: str = Field(min_length=1, max_length=2000)
    expires_on: dt.date


@router.get("")
def get_overrides(
    session: SessionDep,
    visible: VisibleAccounts,
    history: Annotated[bool, Query(description="Also cleared and expired ones")] = False,
    account_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
) -> list[OverrideOut]:
    """The overrides in force (or all, ``history``) of the accounts the caller may see."""
    return override_list(
        session, visible, today=utcnow().date(), history=history, account_id=account_id
    )


@router.post("", status_code=201, responses={404: {"model": ErrorResponse}})
def post_override(
    request: Request, session: SessionDep, principal: CurrentUser, body: OverrideIn
) -> OverrideOut:
    """Pin an account's cell or priority (admins; managers within their reach)."""
    value = body.value if isinstance(body.value, str) else repr(float(body.value))
    return set_override(
        session,
        principal,
        body.account,
        body.field,
        value,
        reason=body.reason,
        expires_on=body.expires_on,
        now=utcnow(),
        client=client_address(request),
    )


@router.delete("/{override_id}", responses={404: {"model": ErrorResponse}})
def delete_override(
    request: Request,
    session: SessionDep,
    principal: CurrentUser,
    override_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
) -> OverrideOut:
    """Clear an override (admins; managers within their reach)."""
    return clear_override(
        session, principal, override_id, now=utcnow(), client=client_address(request)
    )
