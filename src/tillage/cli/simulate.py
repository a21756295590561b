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

from tillage.cli.context import state
from tillage.errors import ConfigurationError
from tillage.i18n import format_money, format_number, gettext_for
from tillage.inert import csv_frame
from tillage.services.departure import departure_from_store, departure_out
from tillage.services.strategy import strategy_in_force
from tillage.store.database import ensure_current, make_engine
from tillage.strategy.departure import DepartureResult

app = typer.Typer(help="What-if simulations: a rep's departure.")


@app.command("departure")
def departure(
    rep: Annotated[str, typer.Option("--rep", help="The leaving rep's key (or numeric id).")],
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="Business date (YYYY-MM-DD); default: the snapshot's."),
    ] = None,
    strategy_file: Annotated[
        Path | None,
        typer.Option(
            "--strategy", help="Strategy file (default: the strategy in force in the store)."
        ),
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Also write the handover plan to a CSV file.")
    ] = None,
    database_url: Annotated[
        str | None, typer.Option(help="Store to read (default: the configured store).")
    ] = None,
    format: Annotated[
        str, typer.Option("--format", help="table, or json (the answer of the API).")
    ] = "table",
) -> None:
    """LTV at risk if a rep leaves, and the proposed successor for each of their accounts."""
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
    finally:
        engine.dispose()
    if format == "json":
        typer.echo(departure_out(result).model_dump_json(indent=2))
        return
    console = Console()
    lang = settings.language
    console.print(departure_table(result, strategy.currency, lang))
    for note in result.notes:
        console.print(note, highlight=False)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        csv_frame(result.accounts).to_csv(out, index=False)
        Console(stderr=True).print(f"wrote {out.name} ({len(result.accounts)} rows)")


def _percent(value: float, lang: str) -> str:
    return "—" if pd.isna(value) else format_number(100 * value, lang, digits=1) + "%"


def departure_table(result: DepartureResult, currency: str, lang: str) -> Table:
    """The handover plan: one row per affected account, the LTV at risk in the caption."""
    _ = gettext_for(lang)
    table = Table(
        title=_("If {rep} leaves on {date}").format(rep=result.rep_name, date=result.as_of),
        caption=_(
            "LTV at risk {amount} on {n} single-threaded accounts "
            "(churn probability +{uplift} each, {source})"
        ).format(
            source=_("learned from the company's leavers")
            if getattr(result, "uplift_source", "assumed") == "learned"
            else _("assumed: no calibration from reps who left"),
            amount=format_money(result.ltv_at_risk, currency, lang),
            n=format_number(result.single_threaded, lang),
            uplift=_percent(result.churn_uplift, lang),
        ),
    )
    for header, justify in (
        (_("Account"), "left"),
        (_("Single-threaded"), "center"),
        (_("LTV"), "right"),
        (_("Churn risk"), "right"),
        (_("After departure"), "right"),
        (_("LTV at risk"), "right"),
        (_("Successor"), "left"),
        (_("Team"), "left"),
        (_("Hours"), "right"),
        (_("Spare hours after"), "right"),
    ):
        table.add_column(header, justify=justify)  # type: ignore[arg-type]
    for row in result.accounts.itertuples(index=False):
        successor = row.successor if isinstance(row.successor, str) else "—"
        if row.over_capacity:
            successor += " " + _("(over capacity)")
        table.add_row(
            str(row.account),
            _("yes") if row.single_threaded else "",
            format_money(0.0 if pd.isna(row.ltv) else row.ltv, currency, lang),
            _percent(row.churn_risk, lang),
            _percent(row.churn_after, lang),
            format_money(row.ltv_at_risk, currency, lang),
            successor,
            "" if pd.isna(row.successor_team) else str(row.successor_team),
            format_number(row.hours, lang, digits=1),
            ""
            if pd.isna(row.spare_hours_after)
            else format_number(row.spare_hours_after, lang, digits=1),
        )
    return table
