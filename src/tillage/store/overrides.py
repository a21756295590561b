"""Manual overrides: an admin or manager pins an account's portfolio cell or priority, with a
reason and an expiry date; the scoring run keeps the pinned value and stores the computed one
beside it (``account_scores.computed_segment`` / ``computed_priority``).

An override is **in force** on a day when it is not cleared and its ``expires_on`` is that day
or later. Setting a new override of the same account and field clears the one before (one in
force per account and field). Rows are never deleted: a cleared or expired override stays as
history, and every change is in the audit log (``override.set``, ``override.clear``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from tillage.store.access import AccountFilter
from tillage.store.records import AccountOverride
from tillage.store.schema import Account

__all__ = [
    "FIELDS",
    "AccountOverride",
    "clear_previous",
    "in_force",
    "list_overrides",
    "overrides_in_force",
]

FIELDS: tuple[str, ...] = ("cell", "priority")
"""What an override may pin: the value × growth cell (``segment``) or the priority (0–100)."""


def in_force(on: dt.date) -> ColumnElement[bool]:
    """The SQL condition of an override in force on ``on``."""
    return (AccountOverride.cleared_at.is_(None)) & (AccountOverride.expires_on >= on)


def overrides_in_force(session: Session, on: dt.date) -> Sequence[AccountOverride]:
    """Every override in force on ``on`` (the scoring run's), oldest first."""
    query = select(AccountOverride).where(in_force(on)).order_by(AccountOverride.id)
    return session.scalars(query).all()


def list_overrides(
    session: Session,
    visible: AccountFilter,
    *,
    on: dt.date | None = None,
    account_id: int | None = None,
) -> Sequence[tuple[AccountOverride, str, str]]:
    """Overrides of the accounts ``visible`` lets through, newest first, with each account's
    key and name: those in force on ``on``, or all of them (history) when ``on`` is None."""
    query = (
        select(AccountOverride, Account.key, Account.name)
        .join(Account, Account.id == AccountOverride.account_id)
        .where(visible)
        .order_by(AccountOverride.id.desc())
    )
    if on is not None:
        query = query.where(in_force(on))
    if account_id is not None:
        query = query.where(AccountOverride.account_id == account_id)
    return [(o, str(k), str(n)) for o, k, n in session.execute(query).all()]


def clear_previous(
    session: Session, account_id: int, field: str, *, now: dt.datetime, by: str
) -> None:
    """Clear the override of ``account_id``'s ``field`` that is not cleared yet, if any."""
    query = select(AccountOverride).where(
        AccountOverride.account_id == account_id,
        AccountOverride.field == field,
        AccountOverride.cleared_at.is_(None),
    )
    for old in session.scalars(query):
        old.cleared_at = now
        old.cleared_by_login = by


@dataclass(frozen=True)
class OverrideRef:
    """A manual override not cleared (:mod:`tillage.store.overrides`): ``field`` pinned to
    ``value`` until ``expires_on`` for ``reason``, set by ``created_by``."""

    id: int
    field: str
    value: str | float | None
    reason: str
    expires_on: dt.date
    created_by: str
    created_at: dt.datetime


def open_overrides(session: Session, account_id: int) -> list[OverrideRef]:
    """The account's overrides not cleared, newest first."""
    query = (
        select(AccountOverride)
        .where(AccountOverride.account_id == account_id, AccountOverride.cleared_at.is_(None))
        .order_by(AccountOverride.id.desc())
    )
    return [
        OverrideRef(
            id=o.id,
            field=o.field,
            value=o.value,
            reason=o.reason,
            expires_on=o.expires_on,
            created_by=o.created_by_login,
            created_at=o.created_at,
        )
        for o in session.scalars(query)
    ]
