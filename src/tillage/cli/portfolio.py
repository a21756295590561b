"""``tillage portfolio``, ``plan``, ``diff`` and ``export``: a snapshot's portfolio, account
plans and changes as readable tables, CSV or an Excel workbook (see ``docs/strategy.md``).

Listed in :data:`tillage.cli.commands.COMMANDS`; the command line is the operator and sees every
account.
"""

from __future__ import annotations

import datetime as dt
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.console import Console

from tillage.cli.context import print_written, state
from tillage.cli.crm_export import TaskLayout, export_tasks
from tillage.cli.localize import N_
from tillage.errors import ConfigurationError
from tillage.i18n import LANGUAGES
from tillage.inert import csv_frame
from tillage.report.cadence import cadence_table
from tillage.report.groups import group_rows, groups_table
from tillage.report.portfolio import (
    matrix_table,
    moved_rows,
    moved_table,
    plan_rows,
    plan_tables,
    portfolio_rows,
    portfolio_tables,
    segment_label,
)
from tillage.report.workbook import write_workbook
from tillage.services.accounts import portfolio as portfolio_answer
from tillage.services.accounts import segment_cells
from tillage.services.cadence import plan_cadence
from tillage.services.plans import month_plan
from tillage.services.reach import OPERATOR
from tillage.services.snapshot_frames import deals_frame, plan_frame, portfolio_frame
from tillage.services.strategy import strategy_in_force
from tillage.store.access import everything
from tillage.store.database import engine_from_settings, ensure_current, session_factory
from tillage.store.diffs import (
    NONE,
    listed_details,
    migration_matrix,
    move_drivers,
    reason_changes,
    snapshot_pair,
)
from tillage.store.groups import hierarchy_frame
from tillage.store.reps import find_rep
from tillage.store.snapshots import complete_snapshot, snapshot_with_plan
from tillage.strategy.groups import group_rollup
from tillage.strategy.plans import plan_month


class Format(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


SnapshotOption = Annotated[
    int | None, typer.Option("--snapshot", help=N_("Snapshot id (default: the latest)."))
]
FormatOption = Annotated[
    Format,
    typer.Option(
        "--format", help=N_("table (readable), csv (for spreadsheets) or json (the API's answer).")
    ),
]
OutOption = Annotated[
    Path | None,
    typer.Option("--out", "-o", help=N_("File for the CSV (default: standard output).")),
]


def _session():  # type: ignore[no-untyped-def]
    engine = engine_from_settings(state.settings())
    ensure_current(engine)
    return session_factory(engine)()


def _csv(frame: pd.DataFrame, out: Path | None) -> None:
    if out is None:
        csv_frame(frame).to_csv(sys.stdout, index=False)
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    # BOM: Excel opens Japanese correctly; text that looks like a formula stays text
    csv_frame(frame).to_csv(out, index=False, encoding="utf-8-sig")
    _ = state.gettext()
    print_written(_("{n} rows → {path}").format(n=len(frame), path=out))


def portfolio(
    snapshot: SnapshotOption = None,
    format: FormatOption = Format.table,
    out: OutOption = None,
    groups: Annotated[
        bool,
        typer.Option(
            "--groups", help=N_("Corporate groups with their LTV rolled up, instead of the cells.")
        ),
    ] = False,
) -> None:
    """The portfolio of a snapshot: value × growth cells and the open deals' zones."""
    settings = state.settings()
    _ = state.gettext()
    if format is Format.json:
        with _session() as session:
            typer.echo(portfolio_answer(session, everything(), snapshot).model_dump_json(indent=2))
        return
    lang, currency = settings.language, settings.currency
    if groups:
        with _session() as session:
            snap = complete_snapshot(session, snapshot)
            rolled = group_rollup(hierarchy_frame(session, snap.id, visible=everything()))
        if format is Format.csv:
            _csv(group_rows(rolled), out)
            return
        Console().print(groups_table(rolled, currency, lang))
        Console().print(_("Snapshot {id} as of {date}.").format(id=snap.id, date=snap.as_of))
        return
    with _session() as session:
        snap = complete_snapshot(session, snapshot)
        if format is Format.csv:
            accounts = portfolio_frame(session, snap.id, visible=everything())
            _csv(portfolio_rows(accounts, currency, lang), out)
            return
        cells = segment_cells(session, everything(), snap.id)
        deals = deals_frame(session, snap.id, visible=everything())
    console = Console()
    for table in portfolio_tables(cells, deals, currency, lang):
        console.print(table)
    console.print(_("Snapshot {id} as of {date}.").format(id=snap.id, date=snap.as_of))


def plan(
    month: Annotated[str, typer.Option("--month", help=N_("Month of the plan (YYYY-MM)."))],
    rep: Annotated[str | None, typer.Option("--rep", help=N_("Only this rep (key or id)."))] = None,
    snapshot: SnapshotOption = None,
    format: FormatOption = Format.table,
    out: OutOption = None,
    export: Annotated[
        TaskLayout | None,
        typer.Option(
            "--export",
            help=N_(
                "The plan as a task import file of the rep's CRM: salesforce-tasks (Data "
                "Loader, Task) or hubspot-tasks (HubSpot import); see docs/crm-tasks.md."
            ),
        ),
    ] = None,
) -> None:
    """The account plans of a month: actions, hours and uplift against the naive allocation.

    Actions, hours against capacity, uplift against the naive allocation and the optimality
    gap; ``--export`` writes them as tasks for Salesforce or HubSpot instead."""
    if export is not None:
        export_tasks(month, rep, export, out)
        return
    settings = state.settings()
    _ = state.gettext()
    if format is Format.json:
        with _session() as session:
            answer = month_plan(
                session, OPERATOR, everything(), month=month, rep=rep, lang=settings.language
            )
        typer.echo(answer.model_dump_json(indent=2))
        return
    first = plan_month(dt.date.today(), month)
    with _session() as session:
        snap = (
            complete_snapshot(session, snapshot)
            if snapshot is not None
            else snapshot_with_plan(session, first)
        )
        rep_id = find_rep(session, rep).id if rep is not None else None
        actions = plan_frame(session, snap.id, visible=everything(), month=first, rep_id=rep_id)
        record = dict((snap.models or {}).get("plans") or {})
    if record.get("month") != first.isoformat():
        raise ConfigurationError(
            f"snapshot {snap.id} plans {record.get('month', 'no month')}, not {month}: "
            f"run `tillage score --month {month}`"
        )
    lang, currency = settings.language, settings.currency
    if format is Format.csv:
        _csv(plan_rows(actions, lang), out)
        return
    console = Console()
    for table in plan_tables(actions, record, currency, lang, rep_id=rep_id, width=console.width):
        console.print(table)
    with _session() as session:  # the contact cadence due in the month (tillage.services.cadence)
        due = plan_cadence(
            session,
            snap,
            first,
            strategy_in_force(session),
            visible=everything(),
            rep_ids=None if rep_id is None else {rep_id},
            lang=lang,
        )
    console.print(cadence_table(due, lang, width=console.width))
    console.print(_("Snapshot {id} as of {date}.").format(id=snap.id, date=snap.as_of))


class DiffPart(StrEnum):
    matrix = "matrix"
    moved = "moved"


def diff(
    snap_a: Annotated[int, typer.Argument(help=N_("The earlier snapshot id."))],
    snap_b: Annotated[int, typer.Argument(help=N_("The later snapshot id."))],
    format: FormatOption = Format.table,
    part: Annotated[
        DiffPart, typer.Option("--part", help=N_("CSV: the matrix, or the accounts that moved."))
    ] = DiffPart.matrix,
    out: OutOption = None,
) -> None:
    """How accounts moved between two snapshots (cells and zones), and why."""
    if format is Format.json:
        raise typer.BadParameter(N_("diff prints a table or csv"), param_hint="--format")
    settings = state.settings()
    _ = state.gettext()
    lang, currency = settings.language, settings.currency
    with _session() as session:
        pair, thresholds = snapshot_pair(session, snap_a, snap_b, visible=everything())
        moved = move_drivers(pair, thresholds, "segment")
        # the pair holds the scores only: the moved accounts' key, name and reasons are read
        # for them
        details = listed_details(session, snap_a, snap_b, [int(i) for i in moved.index])
    moved = reason_changes(moved.join(details))
    segments = migration_matrix(pair, "segment")
    zones = migration_matrix(pair, "zone")
    if format is Format.csv:
        if part is DiffPart.moved:
            _csv(moved_rows(moved, currency, lang), out)
        else:
            _csv(pd.concat([segments.assign(by="segment"), zones.assign(by="zone")]), out)
        return
    console = Console()
    console.print(
        matrix_table(
            segments,
            _("Cells: snapshot {a} → {b}").format(a=snap_a, b=snap_b),
            lambda code: segment_label(code, lang),
            currency,
            lang,
            width=console.width,
        )
    )
    console.print(
        matrix_table(
            zones,
            _("Zones: snapshot {a} → {b}").format(a=snap_a, b=snap_b),
            lambda code: segment_label(code, lang) if code == NONE else code,
            currency,
            lang,
            width=console.width,
        )
    )
    console.print(moved_table(moved, currency, lang, width=console.width))
    console.print(
        _("{moved} of {total} accounts changed cell.").format(moved=len(moved), total=len(pair))
    )


export_app = typer.Typer(help=N_("Export a snapshot: an Excel workbook or CSV files."))


@export_app.command(
    "xlsx",
    help=N_(
        "The portfolio (with a heatmap), the open deals and each rep's plan as an Excel workbook."
    ),
)
def export_xlsx(
    path: Annotated[Path, typer.Argument(help=N_("Workbook to write (.xlsx)."))],
    lang: Annotated[
        str | None, typer.Option("--lang", help=N_("Language of the workbook: ja or en."))
    ] = None,
    snapshot: SnapshotOption = None,
) -> None:
    settings = state.settings()
    if lang is not None and lang not in LANGUAGES:
        raise typer.BadParameter(f"choose one of {', '.join(LANGUAGES)}", param_hint="--lang")
    language = lang or settings.language
    with _session() as session:
        snap = complete_snapshot(session, snapshot)
        accounts = portfolio_frame(session, snap.id, visible=everything())
        deals = deals_frame(session, snap.id, visible=everything())
        actions = plan_frame(session, snap.id, visible=everything())
    write_workbook(
        path,
        accounts,
        deals,
        actions,
        currency=settings.currency,
        lang=language,
        title=f"tillage {snap.as_of.isoformat()}",
    )
    _ = state.gettext()
    Console().print(_("Snapshot {id} written to {path}").format(id=snap.id, path=path))


@export_app.command(
    "csv",
    help=N_(
        "The portfolio, the open deals and the plans as CSV files (portfolio.csv, "
        "deals.csv, plans.csv)."
    ),
)
def export_csv(
    directory: Annotated[Path, typer.Argument(help=N_("Folder for the CSV files."))],
    snapshot: SnapshotOption = None,
) -> None:
    settings = state.settings()
    lang, currency = settings.language, settings.currency
    with _session() as session:
        snap = complete_snapshot(session, snapshot)
        accounts = portfolio_frame(session, snap.id, visible=everything())
        deals = deals_frame(session, snap.id, visible=everything())
        actions = plan_frame(session, snap.id, visible=everything())
    _csv(portfolio_rows(accounts, currency, lang), directory / "portfolio.csv")
    _csv(deals, directory / "deals.csv")
    _csv(plan_rows(actions, lang), directory / "plans.csv")
