"""The CRM ids behind a month's plan, for exporting it as tasks to the rep's CRM
(:mod:`tillage.report.crm_tasks` writes the files; ``tillage plan --export``, the plans page's
download).

tillage keeps each source row's natural key (``key``): an import from a Salesforce export keys
accounts by their Account Id (``001…``) and reps by their User Id (``005…``); an import from a
HubSpot export keys companies by their Record ID (digits) and reps by the owner's name. Which
of those a key is can be told from its shape (:func:`salesforce_id`, :func:`hubspot_record_id`);
a row whose key is not the CRM's id is exported without it and named in a warning, never given
a made-up id.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from tillage.services.plans import PlanOut, month_plan
from tillage.store.access import AccountFilter, Principal
from tillage.store.schema import Account, Rep

__all__ = ["CrmIds", "crm_ids", "hubspot_record_id", "plan_for_crm", "salesforce_id"]

_SALESFORCE_ID = re.compile(r"^[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?$")
_DIGITS = re.compile(r"^[0-9]{1,20}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def salesforce_id(key: str | None, prefix: str) -> str | None:
    """``key`` when it is a Salesforce record id (15 or 18 letters and digits) of the object
    whose key prefix is ``prefix`` (``001`` Account, ``005`` User), else None."""
    if key and _SALESFORCE_ID.match(key) and key.startswith(prefix):
        return key
    return None


def hubspot_record_id(key: str | None) -> str | None:
    """``key`` when it is a HubSpot record id (digits only), else None."""
    return key if key and _DIGITS.match(key) else None


def hubspot_owner(key: str | None, email: str | None) -> str | None:
    """What HubSpot's import reads as a task's owner: the owner id (digits) when the rep's key
    is one, else the rep's e-mail address (the import matches users by it), else None."""
    if hubspot_record_id(key):
        return key
    return email if email and _EMAIL.match(email) else None


@dataclass(frozen=True)
class CrmIds:
    """The store's keys of a plan's accounts and reps (and the reps' e-mail addresses), by id."""

    account_keys: dict[int, str]
    rep_keys: dict[int, str]
    rep_emails: dict[int, str | None]


def crm_ids(session: Session, plan: PlanOut) -> CrmIds:
    """The keys of the accounts and reps in ``plan``."""
    account_ids = sorted({a.account_id for a in plan.actions})
    rep_ids = sorted({a.rep_id for a in plan.actions if a.rep_id is not None})
    accounts: dict[int, str] = {}
    for start in range(0, len(account_ids), 900):  # SQLite's bound-parameter limit
        part = account_ids[start : start + 900]
        query = select(Account.id, Account.key).where(Account.id.in_(part))
        accounts.update({int(i): str(k) for i, k in session.execute(query).all()})
    reps = session.execute(select(Rep.id, Rep.key, Rep.email).where(Rep.id.in_(rep_ids))).all()
    return CrmIds(
        account_keys=accounts,
        rep_keys={int(i): str(k) for i, k, _ in reps},
        rep_emails={int(i): e for i, _, e in reps},
    )


def plan_for_crm(
    session: Session,
    principal: Principal,
    visible: AccountFilter,
    *,
    month: str | None,
    rep: str | None = None,
    lang: str = "en",
) -> tuple[PlanOut, CrmIds]:
    """The plan of ``month`` as ``principal`` may see it (:func:`month_plan`) and the CRM keys
    of its accounts and reps."""
    plan = month_plan(session, principal, visible, month=month, rep=rep, lang=lang)
    return plan, crm_ids(session, plan)
