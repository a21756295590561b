"""Manual overrides of an account's portfolio cell or priority (``tillage override``,
``/api/v1/accounts/{id}/overrides``, the account page).

Who may do what:

- an **admin** may pin and clear any account's cell or priority;
- a **manager** only those of the accounts within their reach (the accounts they may see,
  :func:`tillage.store.access.account_filter`); another account is
  :class:`~tillage.errors.NotFoundError`, as if it did not exist;
- a **rep** may not override (:class:`~tillage.errors.PermissionDenied`), but sees the
  overrides of their accounts.

Every override needs a reason and an expiry date after today, at most
:data:`MAX_DAYS` ahead (an override must be looked at again). Each change is written to the
audit log. The scoring run applies the overrides in force on its as-of date
(:func:`apply_overrides`): the pinned value replaces the computed one, which is stored beside it
(``computed_segment`` / ``computed_priority``), so the next run keeps the override and the
account page shows both.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
from pydantic import BaseModel
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from tillage.errors import NotFoundError, ParameterError, PermissionDenied
from tillage.store.access import AccountFilter, Principal, account_filter
from tillage.store.audit import audit_by
from tillage.store.overrides import (
    FIELDS,
    AccountOverride,
    clear_previous,
    list_overrides,
    overrides_in_force,
)
from tillage.store.schema import Account
from tillage.strategy.config_base import Cell
from tillage.timestamps import UtcTimestamp

__all__ = [
    "EDITORS",
    "MAX_DAYS",
    "OverrideOut",
    "apply_overrides",
    "clear_override",
    "override_list",
    "set_override",
]

EDITORS = ("admin", "manager")
"""The roles that may set and clear overrides."""
MAX_DAYS = 366
"""The furthest expiry an override may have, in days after it is set."""
CELLS: tuple[str, ...] = Cell.__args__  # type: ignore[attr-defined]


class OverrideOut(BaseModel):
    """An override as the API and the CLI show it (``value``: the pinned cell or priority)."""

    id: int
    account_id: int
    account_key: str
    account: str
    field: str
    value: str | float | None
    reason: str
    expires_on: dt.date
    created_at: UtcTimestamp
    created_by: str
    cleared_at: UtcTimestamp | None
    cleared_by: str | None
    in_force: bool


def _out(row: AccountOverride, key: str, name: str, today: dt.date) -> OverrideOut:
    return OverrideOut(
        id=row.id,
        account_id=row.account_id,
        account_key=key,
        account=name,
        field=row.field,
        value=row.value,
        reason=row.reason,
        expires_on=row.expires_on,
        created_at=row.created_at,
        created_by=row.created_by_login,
        cleared_at=row.cleared_at,
        cleared_by=row.cleared_by_login,
        in_force=row.cleared_at is None and row.expires_on >= today,
    )


def _editor(principal: Principal) -> None:
    if principal.role not in EDITORS:
        raise PermissionDenied(
            f"only the roles {', '.join(EDITORS)} may override an account's cell or priority"
        )


def _account(session: Session, principal: Principal, account: str | int) -> Account:
    """The account ``account`` (a key, an id given as a number, or a key's digits that name no
    key read as an id) if ``principal`` may see it, else NotFoundError."""
    text = str(account).strip()
    query = select(Account).where(account_filter(principal))
    found = None
    if not isinstance(account, int):
        found = session.scalars(query.where(Account.key == text)).first()
    if found is None and text.isdigit():
        found = session.scalars(query.where(Account.id == int(text))).first()
    if found is None:
        raise NotFoundError(f"no account with key or id {text!r} that you may see")
    return found


def _value(field: str, value: str) -> tuple[str | None, float | None]:
    if field not in FIELDS:
        raise ParameterError(f"override field {field!r}: choose {' or '.join(FIELDS)}")
    if field == "cell":
        if value not in CELLS:
            raise ParameterError(f"cell {value!r}: choose one of {', '.join(CELLS)}")
        return value, None
    try:
        number = float(value)
    except ValueError:
        raise ParameterError(f"priority {value!r} is not a number from 0 to 100") from None
    if not 0 <= number <= 100:
        raise ParameterError(f"priority {number:g} is outside 0–100")
    return None, number


def set_override(
    session: Session,
    principal: Principal,
    account: str | int,
    field: str,
    value: str,
    *,
    reason: str,
    expires_on: dt.date,
    now: dt.datetime,
    client: str | None = None,
) -> OverrideOut:
    """Pin ``field`` (``cell`` or ``priority``) of ``account`` (id or key) to ``value`` until
    ``expires_on`` for ``reason``, replacing the override of that field in force; audited and
    committed. Refusals: a rep (PermissionDenied), an account out of reach (NotFoundError), an
    empty reason, a bad value or an expiry not in ``(today, today + MAX_DAYS]``
    (ParameterError)."""
    _editor(principal)
    found = _account(session, principal, account)
    cell, priority = _value(field, str(value).strip())
    note = (reason or "").strip()
    if not note:
        raise ParameterError("an override needs a reason (--reason): why is the value pinned?")
    today = now.date()
    if not today < expires_on <= today + dt.timedelta(days=MAX_DAYS):
        raise ParameterError(
            f"expiry {expires_on}: choose a day after {today} and at most {MAX_DAYS} days ahead"
        )
    clear_previous(session, found.id, field, now=now, by=principal.login)
    row = AccountOverride(
        account_id=found.id,
        field=field,
        cell=cell,
        priority=priority,
        reason=note,
        expires_on=expires_on,
        created_at=now,
        created_by=principal.user_id,
        created_by_login=principal.login,
    )
    session.add(row)
    session.flush()
    audit_by(
        session,
        principal,
        "override.set",
        now=now,
        client=client,
        object_type="account",
        object_id=found.id,
        detail={
            "override_id": row.id,
            "field": field,
            "value": row.value,
            "reason": note,
            "expires_on": expires_on.isoformat(),
        },
    )
    session.commit()
    return _out(row, found.key, found.name, today)


def clear_override(
    session: Session,
    principal: Principal,
    override_id: int,
    *,
    now: dt.datetime,
    client: str | None = None,
) -> OverrideOut:
    """Clear the override ``override_id`` (audited, committed): an admin any, a manager those of
    accounts in reach (else NotFoundError), a rep none (PermissionDenied)."""
    _editor(principal)
    found = list_overrides(session, account_filter(principal))
    match = [(o, k, n) for o, k, n in found if o.id == override_id]
    if not match:
        raise NotFoundError(f"no override {override_id} that you may see")
    row, key, name = match[0]
    if row.cleared_at is None:
        row.cleared_at = now
        row.cleared_by_login = principal.login
        audit_by(
            session,
            principal,
            "override.clear",
            now=now,
            client=client,
            object_type="account",
            object_id=row.account_id,
            detail={"override_id": row.id, "field": row.field, "value": row.value},
        )
        session.commit()
    return _out(row, key, name, now.date())


def override_list(
    session: Session,
    visible: AccountFilter,
    *,
    today: dt.date,
    history: bool = False,
    account_id: int | None = None,
) -> list[OverrideOut]:
    """The overrides of the accounts ``visible`` lets through, newest first: those in force on
    ``today``, or every one ever set (``history``)."""
    rows = list_overrides(session, visible, on=None if history else today, account_id=account_id)
    return [_out(o, k, n, today) for o, k, n in rows]


def apply_overrides(engine: Engine, scores: pd.DataFrame, as_of: dt.date) -> pd.DataFrame:
    """``scores`` (a scoring run's rows: ``account_id``, ``segment``, ``priority``) with the
    overrides in force on ``as_of`` applied: a pinned cell replaces ``segment`` and a pinned
    priority ``priority``; the computed values move to ``computed_segment`` /
    ``computed_priority`` (null where nothing was overridden)."""
    with Session(engine) as session:
        pins = overrides_in_force(session, as_of)
        cells = {o.account_id: o.cell for o in pins if o.field == "cell"}
        priorities = {o.account_id: o.priority for o in pins if o.field == "priority"}
    out = scores.copy()
    out["computed_segment"] = None
    out["computed_priority"] = float("nan")
    if cells and "segment" in out.columns:
        hit = out["account_id"].isin(cells)
        out.loc[hit, "computed_segment"] = out.loc[hit, "segment"]
        out.loc[hit, "segment"] = out.loc[hit, "account_id"].map(cells)
    if priorities and "priority" in out.columns:
        hit = out["account_id"].isin(priorities)
        out.loc[hit, "computed_priority"] = out.loc[hit, "priority"].astype(float)
        out.loc[hit, "priority"] = out.loc[hit, "account_id"].map(priorities)
    return out
