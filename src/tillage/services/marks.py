"""Marking a planned action done or skipped (the plans page, the account page,
``POST /api/v1/plans/marks``).

A mark names the action as the plans do — the account, the month and the action — and counts in
the review's plan execution (:mod:`tillage.kpi.execution`): ``done`` covers the action even
without a logged activity, ``skipped`` leaves it uncovered and needs a note saying why. ``open``
takes a mark back.

Who may mark: the roles of :data:`MARKERS`, on the accounts they may see
(:func:`tillage.store.access.account_filter`): a rep only their own accounts' actions (another
account is :class:`~tillage.errors.NotFoundError`, as if it did not exist), a manager those of
their reach, an admin any. The action must be in a plan of that month. Every mark, and every
mark taken back, is written to the audit log (``plan.mark``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from tillage.errors import NotFoundError, ParameterError, PermissionDenied
from tillage.store.access import Principal, account_filter
from tillage.store.audit import audit_by
from tillage.store.schema import Account, Snapshot, SnapshotAction
from tillage.store.work import ActionMark, marks_between
from tillage.timestamps import LocalTimestamp

__all__ = ["MARKERS", "MarkOut", "MarkStatus", "mark_action", "marks_of"]

MARKERS = ("admin", "manager", "rep")
"""The roles that may mark planned actions (each within the accounts they may see)."""
MarkStatus = Literal["done", "skipped", "open"]
MAX_NOTE = 2000


class MarkOut(BaseModel):
    """A planned action's mark: ``status`` ``done``, ``skipped`` or ``open`` (no mark), the note,
    and who marked it when (business time zone)."""

    account_id: int
    account: str
    month: dt.date
    action: str
    status: MarkStatus
    note: str | None
    marked_at: LocalTimestamp | None
    marked_by: str | None


def _first_day(month: dt.date) -> dt.date:
    return month.replace(day=1)


def mark_action(
    session: Session,
    principal: Principal,
    *,
    account: int,
    month: dt.date,
    action: str,
    status: MarkStatus,
    note: str | None,
    now: dt.datetime,
    client: str | None = None,
) -> MarkOut:
    """Mark the action ``action`` planned for ``account`` (an id) in ``month`` as ``status``,
    replacing its mark (``open``: remove it); audited and committed. Refusals: a role outside
    :data:`MARKERS` (PermissionDenied); an account out of reach or an action in no plan of the
    month (NotFoundError); a skip without a note, an unknown status (ParameterError)."""
    if principal.role not in MARKERS:
        raise PermissionDenied(f"only the roles {', '.join(MARKERS)} may mark planned actions")
    if status not in ("done", "skipped", "open"):
        raise ParameterError(f"status {status!r}: choose done, skipped or open")
    text = (note or "").strip()[:MAX_NOTE] or None
    if status == "skipped" and text is None:
        raise ParameterError("a skipped action needs a note: why was it not done?")
    found = session.scalars(
        select(Account).where(account_filter(principal), Account.id == account)
    ).first()
    if found is None:
        raise NotFoundError(f"no account {account} that you may see")
    first = _first_day(month)
    planned = session.scalar(
        select(SnapshotAction.id)
        .join(Snapshot, Snapshot.id == SnapshotAction.snapshot_id)
        .where(
            Snapshot.status == "complete",
            SnapshotAction.account_id == found.id,
            SnapshotAction.month == first,
            SnapshotAction.action == action,
        )
        .limit(1)
    )
    if planned is None:
        raise NotFoundError(f"no action {action!r} planned for account {found.id} in {first:%Y-%m}")
    row = session.scalars(
        select(ActionMark).where(
            ActionMark.account_id == found.id,
            ActionMark.month == first,
            ActionMark.action == action,
        )
    ).first()
    previous = row.status if row is not None else "open"
    if status == "open":
        if row is not None:
            session.delete(row)
        row = None
    else:
        if row is None:
            row = ActionMark(account_id=found.id, month=first, action=action)
            session.add(row)
        row.status, row.note, row.marked_at = status, text, now
        row.marked_by, row.marked_by_login = principal.user_id, principal.login
    audit_by(
        session,
        principal,
        "plan.mark",
        now=now,
        client=client,
        object_type="account",
        object_id=found.id,
        detail={
            "month": first.isoformat(),
            "action": action,
            "status": status,
            "previous": previous,
            "note": text,
        },
    )
    session.commit()
    return MarkOut(
        account_id=found.id,
        account=found.name,
        month=first,
        action=action,
        status=status,
        note=None if row is None else row.note,
        marked_at=None if row is None else row.marked_at,
        marked_by=None if row is None else row.marked_by_login,
    )


def marks_of(
    session: Session, first: dt.date, last: dt.date, account_ids: Sequence[int] | None = None
) -> dict[tuple[int, dt.date, str], ActionMark]:
    """The marks of the months ``first`` … ``last`` by (account id, month, action)."""
    return {
        (m.account_id, m.month, m.action): m
        for m in marks_between(session, first, last, account_ids)
    }
