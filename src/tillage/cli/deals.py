"""``tillage deals``: win probability of open deals, expansion propensity and value, product
suggestions — each with its time-based backtest (see ``docs/deals.md``).

Listed in :data:`tillage.cli.commands.COMMANDS`.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.console import Console

from tillage.cli.context import print_written, state
from tillage.cli.localize import N_
from tillage.features import ENGINES, feature_backend
from tillage.inert import csv_frame
from tillage.strategy.deals import (
    expansion_backtest,
    score_expansion,
    score_open_deals,
    suggest_products,
    win_probability_backtest,
)

app = typer.Typer(help=N_("Deals: win probability, expansion, product suggestions."))

AsOf = Annotated[str, typer.Option("--as-of", help=N_("Business date (YYYY-MM-DD)."))]
Out = Annotated[Path | None, typer.Option("--out", help=N_("CSV file for the per-row results."))]
Engine = Annotated[str, typer.Option(help=N_("Where to compute: duckdb, postgres or spark."))]
Url = Annotated[str | None, typer.Option(help=N_("Store to read (default: the configured store)."))]


def _date(value: str, option: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise typer.BadParameter(
            f"{value!r} is not a date like 2026-09-30", param_hint=option
        ) from exc


def _url(database_url: str | None, engine: str) -> str:
    if engine not in ENGINES:
        raise typer.BadParameter(f"choose one of {', '.join(ENGINES)}", param_hint="--engine")
    return database_url or state.settings().resolved_database_url


def _show(console: Console, title: str, frame: pd.DataFrame) -> None:
    """Print ``title`` (already translated) and the first rows of ``frame``."""
    console.print(f"[bold]{title}[/]")
    console.print(frame.round(4).to_string())


def _write(frame: pd.DataFrame, out: Path | None, console: Console) -> None:
    if out is not None:
        _ = state.gettext()
        out.parent.mkdir(parents=True, exist_ok=True)
        csv_frame(frame).to_csv(out, index=False)
        print_written(_("{rows} rows → {path}").format(rows=f"{len(frame):,}", path=out))


@app.command(
    "win-probability",
    help=N_("Calibrated win probability of the deals open on AS_OF (or a backtest with --cutoff)."),
)
def win_probability(
    as_of: AsOf,
    cutoff: Annotated[
        str | None,
        typer.Option(help=N_("Backtest: train on deals closed by this date, test on later ones.")),
    ] = None,
    types: Annotated[
        list[str] | None, typer.Option("--type", help=N_("Deal types to model (repeatable)."))
    ] = None,
    months: Annotated[int | None, typer.Option(help=N_("Month-end snapshots to use."))] = None,
    out: Out = None,
    engine: Engine = "duckdb",
    database_url: Url = None,
) -> None:
    _ = state.gettext()
    date = _date(as_of, "--as-of")
    console = Console()
    with feature_backend(_url(database_url, engine), engine) as con:  # type: ignore[arg-type]
        if cutoff is not None:
            result = win_probability_backtest(
                con, date, cutoff=_date(cutoff, "--cutoff"), months=months, types=types
            )
            for note in result.notes:
                console.print(note)
            _show(console, _("metrics"), result.metrics)
            _show(console, _("reliability (deciles)"), result.reliability)
            _write(result.predictions, out, console)
            return
        scored, model = score_open_deals(con, date, months=months, types=types)
    for note in model.notes_:
        console.print(note)
    columns = ["opportunity_id", "account_id", "type", "stage_as_of", "amount"]
    columns += ["crm_probability", "stage_rate", "win_probability"]
    title = _("{deals} open deals").format(deals=f"{len(scored):,}")
    _show(console, title, scored[columns].head(20))
    _write(scored[columns], out, console)


@app.command(
    "expansion", help=N_("Upsell/cross-sell propensity and expected expansion value per account.")
)
def expansion(
    as_of: AsOf,
    horizon: Annotated[int, typer.Option(help=N_("Horizon in days."))] = 180,
    backtest: Annotated[bool, typer.Option(help=N_("Backtest as of a past date instead."))] = False,
    out: Out = None,
    engine: Engine = "duckdb",
    database_url: Url = None,
) -> None:
    _ = state.gettext()
    date = _date(as_of, "--as-of")
    console = Console()
    with feature_backend(_url(database_url, engine), engine) as con:  # type: ignore[arg-type]
        if backtest:
            result = expansion_backtest(con, date, horizon_days=horizon)
            for note in result.notes:
                console.print(note)
            _show(console, _("metrics"), result.metrics)
            _show(console, _("reliability (deciles)"), result.reliability)
            return
        scored, model = score_expansion(con, date, horizon_days=horizon)
    for note in model.notes_:
        console.print(note)
    top = scored.sort_values("expected_value", ascending=False)
    _show(console, _("top accounts by expected expansion value"), top.head(20))
    _write(scored, out, console)


@app.command(
    "suggest", help=N_("Product suggestions per account: co-purchase rules and successor products.")
)
def suggest(
    as_of: AsOf,
    out: Out = None,
    engine: Engine = "duckdb",
    database_url: Url = None,
) -> None:
    _ = state.gettext()
    date = _date(as_of, "--as-of")
    console = Console()
    with feature_backend(_url(database_url, engine), engine) as con:  # type: ignore[arg-type]
        suggestions, model = suggest_products(con, date)
    reason = "reason_ja" if (state.lang or "ja") == "ja" else "reason_en"
    console.print(
        _("{rules} rules, {suggestions} suggestions").format(
            rules=f"{len(model.rules_):,}", suggestions=f"{len(suggestions):,}"
        )
    )
    for row in suggestions.head(20).itertuples(index=False):
        console.print(f"{row.account_id}: {getattr(row, reason)}")
    _write(suggestions, out, console)
