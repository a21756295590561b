"""A month's plan as a task import file for the rep's CRM, so each planned action shows up as a
task where the rep works (``tillage plan --export``, the plans page's download; steps in
docs/crm-tasks.md).

Two layouts, one row per planned action, due on the last day of the plan's month:

- ``salesforce-tasks``: the Task object's API field names, as Data Loader (Insert → Task) and
  ``sf data import bulk --sobject Task`` map them automatically — ``Subject``, ``ActivityDate``
  (a date field: ``YYYY-MM-DD``), ``Status`` (``Not Started``), ``Priority`` (``High`` for a
  playbook's must-do, else ``Normal``), ``WhatId`` (the Account Id, ``001…``), ``OwnerId`` (the
  rep's User Id, ``005…``), ``Description``. Salesforce's Data Import Wizard does not import
  tasks; Data Loader does.
- ``hubspot-tasks``: the task properties' internal names, which HubSpot's import tool matches
  to the properties — ``hs_task_subject``, ``hs_timestamp`` (the due date, ``YYYY-MM-DD``),
  ``hs_task_status`` (``NOT_STARTED``), ``hs_task_priority`` (``HIGH`` / ``MEDIUM``),
  ``hs_task_type`` (``TODO``), ``hs_task_body``, ``hubspot_owner_id`` (the owner id, or the
  user's e-mail address, which the import also matches) — and ``Company Record ID``, mapped in
  the import to the company's Record ID to associate each task with its company.

A row whose account or rep has no id of that CRM in the store (the data came from elsewhere, or
a HubSpot owner known only by name) keeps the field empty and says so in the last column,
``tillage_warning``, which the CRM's import leaves unmapped; :func:`task_file` also returns the
warnings for the command line. Every text cell is made inert against formula injection
(:mod:`tillage.inert`).
"""

from __future__ import annotations

import calendar
import csv
import datetime as dt
import io
from dataclasses import dataclass
from typing import Literal

from tillage.i18n import format_money, format_number, gettext_for
from tillage.inert import csv_row
from tillage.services.crm_tasks import CrmIds, hubspot_owner, hubspot_record_id, salesforce_id
from tillage.services.plans import PlannedAction, PlanOut
from tillage.strategy.action_labels import action_label

__all__ = ["HUBSPOT_COLUMNS", "LAYOUTS", "SALESFORCE_COLUMNS", "Layout", "TaskFile", "task_file"]

Layout = Literal["salesforce-tasks", "hubspot-tasks"]
LAYOUTS: tuple[str, ...] = ("salesforce-tasks", "hubspot-tasks")
SALESFORCE_COLUMNS = (
    "Subject",
    "ActivityDate",
    "Status",
    "Priority",
    "WhatId",
    "OwnerId",
    "Description",
)
"""Task fields by their API names (Salesforce Object Reference, Task)."""
HUBSPOT_COLUMNS = (
    "hs_task_subject",
    "hs_timestamp",
    "hs_task_status",
    "hs_task_priority",
    "hs_task_type",
    "hs_task_body",
    "hubspot_owner_id",
    "Company Record ID",
)
"""Task properties by their internal names (HubSpot's tasks API reference), and the associated
company's Record ID."""
WARNING_COLUMN = "tillage_warning"


@dataclass(frozen=True)
class TaskFile:
    """A task import file: its text (UTF-8 with a BOM, so Excel reads Japanese), its rows and
    the warnings about rows that lack an id of the CRM."""

    text: str
    rows: int
    warnings: list[str]


def due_date(month: dt.date) -> dt.date:
    """The due date of a month's planned action: the last day of the month."""
    return month.replace(day=calendar.monthrange(month.year, month.month)[1])


def _description(action: PlannedAction, lang: str, currency: str) -> str:
    _ = gettext_for(lang)
    parts = [
        _("tillage plan for {month}: {action}.").format(
            month=f"{action.month.year}年{action.month.month}月"
            if lang == "ja"
            else action.month.strftime("%B %Y"),
            action=action_label(action.action, lang),
        ),
        _("Planned hours: {hours}.").format(hours=format_number(action.hours, lang, digits=1)),
    ]
    if action.expected_uplift is not None:
        parts.append(
            _("Expected LTV uplift: {amount}.").format(
                amount=format_money(action.expected_uplift, currency, lang, compact=True)
            )
        )
    names = [
        str(p.get("name") or p.get("product_id") or "") if isinstance(p, dict) else str(p)
        for p in action.products or []
    ]
    if any(names):
        parts.append(
            _("Products to propose: {names}.").format(names=", ".join(n for n in names if n))
        )
    if action.must_do:
        parts.append(_("Required by the playbook."))
    return " ".join(parts)


def _subject(action: PlannedAction, lang: str) -> str:
    return f"{action_label(action.action, lang)}: {action.account}"


def _keys(action: PlannedAction, ids: CrmIds) -> tuple[str | None, str | None, str | None]:
    """The store's key of the action's account, and its rep's key and e-mail address."""
    rep = action.rep_id
    return (
        ids.account_keys.get(action.account_id),
        ids.rep_keys.get(rep) if rep is not None else None,
        ids.rep_emails.get(rep) if rep is not None else None,
    )


def _salesforce(
    action: PlannedAction, ids: CrmIds, lang: str, currency: str
) -> tuple[list[object], list[str]]:
    _ = gettext_for(lang)
    account_key, rep_key, _email = _keys(action, ids)
    what = salesforce_id(account_key, "001")
    owner = salesforce_id(rep_key, "005")
    missing = []
    if what is None:
        missing.append(_("no Salesforce Account Id for account {key}").format(key=account_key))
    if owner is None:
        missing.append(_("no Salesforce User Id for rep {key}").format(key=rep_key or "—"))
    row = [
        _subject(action, lang),
        due_date(action.month).isoformat(),
        "Not Started",
        "High" if action.must_do else "Normal",
        what or "",
        owner or "",
        _description(action, lang, currency),
    ]
    return row, missing


def _hubspot(
    action: PlannedAction, ids: CrmIds, lang: str, currency: str
) -> tuple[list[object], list[str]]:
    _ = gettext_for(lang)
    account_key, rep_key, email = _keys(action, ids)
    company = hubspot_record_id(account_key)
    owner = hubspot_owner(rep_key, email)
    missing = []
    if company is None:
        missing.append(_("no HubSpot company Record ID for account {key}").format(key=account_key))
    if owner is None:
        missing.append(_("no HubSpot owner id or e-mail for rep {key}").format(key=rep_key or "—"))
    row = [
        _subject(action, lang),
        due_date(action.month).isoformat(),
        "NOT_STARTED",
        "HIGH" if action.must_do else "MEDIUM",
        "TODO",
        _description(action, lang, currency),
        owner or "",
        company or "",
    ]
    return row, missing


def task_file(plan: PlanOut, ids: CrmIds, layout: Layout, lang: str, currency: str) -> TaskFile:
    """``plan``'s actions as the task import file of ``layout`` (see the module doc), texts in
    ``lang``, amounts in ``currency``; rows in the plan's order."""
    if layout not in LAYOUTS:
        raise ValueError(f"layout {layout!r}: choose one of {', '.join(LAYOUTS)}")
    columns = SALESFORCE_COLUMNS if layout == "salesforce-tasks" else HUBSPOT_COLUMNS
    make = _salesforce if layout == "salesforce-tasks" else _hubspot
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([*columns, WARNING_COLUMN])
    warnings = []
    for number, action in enumerate(plan.actions, start=2):  # row 1 is the header
        row, missing = make(action, ids, lang, currency)
        note = "; ".join(missing)
        if note:
            warnings.append(f"row {number} ({action.account}): {note}")
        writer.writerow(csv_row([*row, note]))
    return TaskFile(text="\ufeff" + buffer.getvalue(), rows=len(plan.actions), warnings=warnings)
