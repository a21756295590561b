"""``tillage renewals``: the renewals calendar — the undecided renewals of the next days, by rep
or team (:func:`tillage.services.renewals.renewal_calendar`, the service behind /renewals and
/api/v1/renewals). The command line is the operator and sees every account.

Exit status: 0 with the table (also when nothing is due), 1 for a rep or team that is not in the
store or a store without a snapshot, 2 for days outside 1–366 or an unusable store.
"""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from tillage.cli.context import print_written, state
from tillage.cli.localize import N_
from tillage.inert import csv_frame
from tillage.report.renewals import renewals_rows, renewals_summary, renewals_table
from tillage.services.renewals import DEFAULT_DAYS, renewal_calendar
from tillage.store.access import everything
from tillage.store.database import engine_from_settings, ensure_current, session_factory
from tillage.store.reps import find_rep, find_team


class RenewalFormat(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


def renewals(
    days: Annotated[
        int, typer.Option("--days", help=N_("Days ahead of the newest snapshot's date (1–366)."))
    ] = DEFAULT_DAYS,
    rep: Annotated[str | None, typer.Option("--rep", help=N_("Only this owner (rep key)."))] = None,
    team: Annotated[
        str | None, typer.Option("--team", help=N_("Only this team (team key)."))
    ] = None,
    format: Annotated[
        RenewalFormat,
        typer.Option("--format", help=N_("table (readable), csv or json (the API's answer).")),
    ] = RenewalFormat.table,
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help=N_("File for the CSV (default: standard output).")),
    ] = None,
) -> None:
    """The renewals calendar: undecided renewals of the next days, by rep or team."""
    settings = state.settings()
    _ = state.gettext()
    engine = engine_from_settings(settings)
    ensure_current(engine)
    with session_factory(engine)() as session:
        if rep is not None:
            rep = find_rep(session, rep).key
        if team is not None:
            find_team(session, team)
        calendar = renewal_calendar(session, everything(), days=days, rep=rep, team=team)
    lang, currency = settings.language, settings.currency
    if format is RenewalFormat.json:
        typer.echo(calendar.model_dump_json(indent=2))
        return
    if format is RenewalFormat.csv:
        frame = csv_frame(renewals_rows(calendar, lang))
        if out is None:
            frame.to_csv(sys.stdout, index=False)
            return
        out.parent.mkdir(parents=True, exist_ok=True)
        frame.to_csv(out, index=False, encoding="utf-8-sig")
        print_written(_("{n} rows → {path}").format(n=len(frame), path=out))
        return
    console = Console()
    if calendar.items:
        console.print(renewals_table(calendar, currency, lang, width=console.width))
    console.print(renewals_summary(calendar, currency, lang))
