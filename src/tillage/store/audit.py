"""Audit entries of changes a user made: the one call notes and logged activities use."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from tillage.store.access import Principal
from tillage.store.users import audit

__all__ = ["audit_by"]


def audit_by(
    session: Session,
    principal: Principal,
    action: str,
    *,
    now: dt.datetime,
    client: str | None,
    object_type: str,
    object_id: object,
    detail: dict | None = None,
) -> None:
    """:func:`audit` of a change ``principal`` made to ``object_type`` ``object_id``."""
    audit(
        session,
        action,
        now=now,
        user_id=principal.user_id,
        actor=principal.login,
        client=client,
        object_type=object_type,
        object_id=object_id,
        detail=detail,
    )
