"""Logging an activity on an account from tillage (``POST /api/v1/accounts/{id}/activities``,
the account page): a call, meeting, e-mail, visit or business review that the CRM does not hold,
e.g. one a customer-success manager had. It lands in ``activities`` like an imported one, so the
engagement features, the silent-churn signal and the contact-frequency KPIs count it at the
next scoring run.

Who may log: the people who work the account — admin, manager, rep and customer success — on
the accounts they may see (another account is :class:`~tillage.errors.NotFoundError`);
marketing and finance may not (:class:`~tillage.errors.PermissionDenied`). The activity is
attributed to the caller's row in ``reps`` (none for an admin without one). Its key is
``tillage-activity-…``, which no import uses, so a re-import never overwrites it. Audited
(``activity.log``).
"""

from __future__ import annotations

import datetime as dt
import uuid

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from tillage.errors import NotFoundError, ParameterError, PermissionDenied
from tillage.store.access import Principal, account_filter
from tillage.store.audit import audit_by
from tillage.store.notes import visible_account
from tillage.store.schema import Activity, Rep
from tillage.timestamps import LocalTimestamp

__all__ = ["LOGGERS", "TYPES", "ActivityOut", "log_activity"]

LOGGERS = ("admin", "manager", "rep", "success")
"""The roles that may log an activity."""
TYPES = ("meeting", "call", "email", "visit", "qbr")
"""The activity types (those the engagement features count)."""
EARLIEST = dt.datetime(2000, 1, 1)


class ActivityOut(BaseModel):
    """A logged activity: when (business-local time), its type, minutes and subject."""

    id: int
    key: str
    account_id: int
    rep_id: int | None
    type: str
    occurred_at: LocalTimestamp
    duration_minutes: float | None
    subject: str | None


def log_activity(
    session: Session,
    principal: Principal,
    account_id: int,
    *,
    type: str,
    occurred_at: dt.datetime,
    subject: str | None,
    duration_minutes: float | None,
    now: dt.datetime,
    client: str | None = None,
) -> ActivityOut:
    """Log an activity of ``type`` on ``account_id`` at ``occurred_at`` (business-local, not
    after ``now`` + 1 day, not before 2000) lasting ``duration_minutes`` (0–1,440); audited
    and committed. Refusals: see the module doc; a bad type, time or duration is
    ParameterError."""
    if principal.role not in LOGGERS or "write" not in principal.scopes:
        raise PermissionDenied(f"only the roles {', '.join(LOGGERS)} may log activities")
    if visible_account(session, account_filter(principal), account_id) is None:
        raise NotFoundError(f"no account with id {account_id} that you may see")
    if type not in TYPES:
        raise ParameterError(f"activity type {type!r}: choose one of {', '.join(TYPES)}")
    if not EARLIEST <= occurred_at <= now + dt.timedelta(days=1):
        raise ParameterError(
            f"occurred_at {occurred_at:%Y-%m-%d %H:%M} is in the future or before 2000"
        )
    if duration_minutes is not None and not 0 <= duration_minutes <= 24 * 60:
        raise ParameterError(f"duration {duration_minutes:g} minutes is not between 0 and 1440")
    rep_id = None
    if principal.rep_key:
        rep_id = session.scalar(select(Rep.id).where(Rep.key == principal.rep_key))
    row = Activity(
        key=f"tillage-activity-{uuid.uuid4().hex}",
        account_id=account_id,
        rep_id=rep_id,
        type=type,
        occurred_at=occurred_at,
        duration_minutes=duration_minutes,
        subject=(subject or "").strip()[:300] or None,
    )
    session.add(row)
    session.flush()
    audit_by(
        session,
        principal,
        "activity.log",
        now=now,
        client=client,
        object_type="account",
        object_id=account_id,
        detail={"activity_id": row.id, "type": type, "occurred_at": occurred_at.isoformat()},
    )
    session.commit()
    return ActivityOut.model_validate(row, from_attributes=True)
