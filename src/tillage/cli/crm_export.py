"""``tillage plan --export salesforce-tasks|hubspot-tasks``: a month's plan as the task import
file of the rep's CRM (:mod:`tillage.report.crm_tasks`; steps in docs/crm-tasks.md)."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path

import typer
from rich.console import Console

from tillage.cli.context import print_written, state
from tillage.report.crm_tasks import task_file
from tillage.services.crm_tasks import plan_for_crm
from tillage.services.reach import OPERATOR
from tillage.store.access import everything
from tillage.store.database import engine_from_settings, ensure_current, session_factory

SHOWN_WARNINGS = 20
"""How many rows without a CRM id the command names before it only counts the rest."""


class TaskLayout(StrEnum):
    salesforce = "salesforce-tasks"
    hubspot = "hubspot-tasks"


def export_tasks(month: str, rep: str | None, layout: TaskLayout, out: Path | None) -> None:
    """Write the plan of ``month`` (of ``rep`` when given) as ``layout``'s task file to ``out``
    (default: standard output); rows that lack the CRM's ids are named on standard error."""
    settings = state.settings()
    _ = state.gettext()
    engine = engine_from_settings(settings)
    ensure_current(engine)
    with session_factory(engine)() as session:
        plan, ids = plan_for_crm(
            session, OPERATOR, everything(), month=month, rep=rep, lang=settings.language
        )
    made = task_file(plan, ids, layout.value, settings.language, settings.currency)
    if out is None:
        sys.stdout.write(made.text.removeprefix("\ufeff"))
    else:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(made.text, encoding="utf-8", newline="")
        print_written(_("{n} rows → {path}").format(n=made.rows, path=out))
    if made.warnings:
        err = Console(stderr=True)
        err.print(
            _("{n} of {total} tasks lack an id of the CRM (column tillage_warning):").format(
                n=len(made.warnings), total=made.rows
            )
        )
        for line in made.warnings[:SHOWN_WARNINGS]:
            err.print(f"  {line}", markup=False)
        if len(made.warnings) > SHOWN_WARNINGS:
            err.print(_("  … and {n} more").format(n=len(made.warnings) - SHOWN_WARNINGS))
    if made.rows == 0:
        typer.echo(_("The plan of {month} has no actions.").format(month=month), err=True)
