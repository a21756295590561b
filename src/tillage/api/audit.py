"""/api/v1/audit: the audit log (logins, imports, strategy and user changes), admins only."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query
from pydantic import BaseModel

from tillage.serving.auth import protected_router
from tillage.serving.deps import SessionDep
from tillage.store.users import audit_page
from tillage.timestamps import UtcTimestamp

router = protected_router(admin=True, prefix="/api/v1/audit", tags=["users"])


class AuditOut(BaseModel):
    """One audit entry: when (UTC), who (user id and login as typed), from which client
    address, the action (``login.failed``, ``strategy.saved``, …), its object and details."""

    id: int
    at: UtcTimestamp
    user_id: int | None
    actor: str | None
    client: str | None
    action: str
    object_type: str | None
    object_id: str | None
    detail: dict | None


class AuditPage(BaseModel):
    """A page of the audit log, newest first; ``total`` counts the matching entries."""

    total: int
    limit: int
    offset: int
    items: list[AuditOut]


@router.get("")
def get_audit(
    session: SessionDep,
    action: Annotated[
        str | None, Query(min_length=1, max_length=50, description="Only this action")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> AuditPage:
    """The audit log, newest first, optionally of one action."""
    total, entries = audit_page(session, action=action, limit=limit, offset=offset)
    return AuditPage(
        total=total,
        limit=limit,
        offset=offset,
        items=[AuditOut.model_validate(e, from_attributes=True) for e in entries],
    )
