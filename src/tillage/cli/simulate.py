"""``tillage simulate``: what-if simulations on the latest snapshot.

``tillage simulate departure --rep KEY``: the LTV at risk if a rep leaves and a handover plan
(formula in ``docs/strategy.md``), with the strategy in force, as
:mod:`tillage.services.departure` answers it.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import Engine

from tillage.cli.context import state
from tillage.cli.localize import N_
from tillage.errors import ConfigurationError
from tillage.i18n import format_money, format_number, gettext_for
from tillage.inert import csv_frame
from tillage.report.terminal import Col, fitted_table, is_narrow, money
from tillage.services.departure import (
    HANDOVER_NOTES,
    DepartureOut,
    HandoverAccount,
    departure_from_store,
    departure_out,
)
from tillage.services.notes import NoteOut, handover_notes
from tillage.services.strategy import strategy_in_force
from tillage.store.database import ensure_current, make_engine, session_factory

app = typer.Typer(help=N_("What-if simulations: a rep's departure."))


@app.command(
    "departure",
    help=N_("LTV at risk if a rep leaves, and the proposed successor for each of their accounts."),
)
def departure(
    rep: Annotated[str, typer.Option("--rep", help=N_("The leaving rep's key (or numeric id)."))],
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help=N_("Business date (YYYY-MM-DD); default: the snapshot's.")),
    ] = None,
    strategy_file: Annotated[
        Path | None,
        typer.Option(
            "--strategy", help=N_("Strategy file (default: the strategy in force in the store).")
        ),
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help=N_("Also write the handover plan to a CSV file."))
    ] = None,
    database_url: Annotated[
        str | None, typer.Option(help=N_("Store to read (default: the configured store)."))
    ] = None,
    format: Annotated[
        str, typer.Option("--format", help=N_("table, or json (the answer of the API)."))
    ] = "table",
) -> None:
    settings = state.settings()
    date = None
    if as_of is not None:
        try:
            date = dt.date.fromisoformat(as_of)
        except ValueError as exc:
            raise typer.BadParameter(
                f"{as_of!r} is not a date like 2026-09-30", param_hint="--as-of"
            ) from exc
    if format not in {"table", "json"}:
        raise typer.BadParameter("choose table or json", param_hint="--format")
    if out is not None and out.suffix.lower() != ".csv":
        raise ConfigurationError(f"--out {out} must be a .csv file")
    engine = make_engine(database_url or settings.resolved_database_url)
    try:
        ensure_current(engine)
        strategy = strategy_in_force(engine, strategy_file, currency=settings.currency)
        result = departure_from_store(engine, rep, as_of=date, strategy=strategy)
        answer = departure_out(result)
        _with_notes(engine, answer)
    finally:
        engine.dispose()
    if format == "json":
        typer.echo(answer.model_dump_json(indent=2))
        return
    console = Console()
    lang = settings.language
    console.print(departure_table(answer, strategy.currency, lang, width=console.width))
    for note in result.notes:
        console.print(note, highlight=False)
    for line in handover_notes_lines(answer, lang):
        console.print(line, highlight=False)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        frame = result.accounts.assign(notes=[_notes_cell(a, lang) for a in answer.accounts])
        csv_frame(frame).to_csv(out, index=False)
        Console(stderr=True).print(f"wrote {out.name} ({len(result.accounts)} rows)")


def _with_notes(engine: Engine, answer: DepartureOut) -> None:
    """Each affected account's newest notes (:data:`HANDOVER_NOTES`), as the page's handover
    shows them (the command line sees every account)."""
    with session_factory(engine)() as session:
        newest, counts = handover_notes(
            session, [a.account_id for a in answer.accounts], per_account=HANDOVER_NOTES
        )
    for handed in answer.accounts:
        handed.notes = newest.get(handed.account_id, [])
        handed.notes_total = counts.get(handed.account_id, 0)


def _note_line(note: NoteOut) -> str:
    return f"{note.text} — {note.author_name}, {note.created_at:%Y-%m-%d}"


def _notes_cell(handed: HandoverAccount, lang: str) -> str:
    """An account's handover notes in one CSV cell, one note a line."""
    return "\n".join(_note_line(n) for n in handed.notes)


def handover_notes_lines(answer: DepartureOut, lang: str) -> list[str]:
    """The notes for the successors under the table: each account with notes, its newest notes
    (and how many there are in all when there are more)."""
    _ = gettext_for(lang)
    noted = [a for a in answer.accounts if a.notes]
    if not noted:
        return []
    lines = ["", _("Notes for the successor")]
    for handed in noted:
        successor = f" → {handed.successor}" if handed.successor else ""
        lines.append(f"■ {handed.account}{successor}")
        lines.extend(f"  ・{_note_line(n)}" for n in handed.notes)
        if handed.notes_total > len(handed.notes):
            lines.append("  " + _("all %(count)s notes") % {"count": handed.notes_total})
    return lines


def _percent(value: float | None, lang: str) -> str:
    if value is None or pd.isna(value):
        return "—"
    return format_number(100 * value, lang, digits=1) + "%"


def _hours(value: float | None, lang: str) -> str:
    return "" if value is None or pd.isna(value) else format_number(value, lang, digits=1)


def departure_table(
    answer: DepartureOut, currency: str, lang: str, width: int | None = None
) -> Table:
    """The handover plan: one row per affected account, the LTV at risk in the caption; fitted
    to a terminal ``width`` columns wide (:func:`~tillage.report.terminal.fitted_table`: when
    narrow, churn risk, team and hours are left out and amounts compact)."""
    _ = gettext_for(lang)
    caption = _(
        "LTV at risk {amount} on {n} single-threaded accounts "
        "(churn probability +{uplift} each, {source})"
    ).format(
        source=_("learned from the company's leavers")
        if answer.uplift_source == "learned"
        else _("assumed: no calibration from reps who left"),
        amount=format_money(answer.ltv_at_risk, currency, lang, compact=is_narrow(width)),
        n=format_number(answer.single_threaded, lang),
        uplift=_percent(answer.churn_uplift, lang),
    )
    columns = (
        Col(_("Account"), name=True),
        Col(_("Single-threaded"), "center", drop=True),
        Col(_("LTV"), "right"),
        Col(_("Churn risk"), "right", drop=True),
        Col(_("After departure"), "right"),
        Col(_("LTV at risk"), "right", short=_("At risk")),
        Col(_("Successor"), name=True),
        Col(_("Team"), drop=True),
        Col(_("Hours"), "right", drop=True),
        Col(_("Spare hours after"), "right", drop=True),
    )
    rows = []
    for a in answer.accounts:
        successor = a.successor or "—"
        if a.over_capacity:
            successor += " " + _("(over capacity)")
        rows.append(
            (
                a.account or "—",
                _("yes") if a.single_threaded else "",
                money(a.ltv or 0.0, currency, lang, width),
                _percent(a.churn_risk, lang),
                _percent(a.churn_after, lang),
                money(a.ltv_at_risk, currency, lang, width),
                successor,
                a.successor_team or "",
                _hours(a.hours, lang),
                _hours(a.spare_hours_after, lang),
            )
        )
    title = _("If {rep} leaves on {date}").format(rep=answer.rep, date=answer.as_of)
    return fitted_table(columns, rows, width, title=title, caption=caption)
