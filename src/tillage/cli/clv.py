"""``tillage clv``: customer lifetime value straight from a transaction file.

Reads a CSV or Parquet transaction log and hands it to :func:`tillage.services.clv.clv_of_log`
(summary per customer, BG/NBD, Pareto/NBD and Gamma-Gamma, the discounted CLV over the horizon);
writes one row per customer and prints the fitted parameters. Listed in
:data:`tillage.cli.commands.COMMANDS`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import numpy as np
import pandas as pd
import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from tillage.cli.context import state
from tillage.errors import DataValidationError, Problem, TillageError
from tillage.features.rfm import PERIOD_DAYS
from tillage.services.clv import STEPS as CLV_STEPS
from tillage.services.clv import clv_of_log

__all__ = ["clv", "read_transactions"]

#: CSV files above this size are read in chunks with a progress bar.
_CHUNKED_BYTES = 20_000_000
_CHUNK_ROWS = 250_000


def _read_csv(path: Path, columns: list[str], progress: Progress) -> pd.DataFrame:
    dtype = dict.fromkeys(columns, "string")
    size = path.stat().st_size
    if size <= _CHUNKED_BYTES:
        return pd.read_csv(path, usecols=lambda c: c in columns, dtype=dtype)
    _ = state.gettext()
    task = progress.add_task(_("reading {file}").format(file=path.name), total=size)
    parts = []
    with path.open("rb") as handle:
        for chunk in pd.read_csv(
            handle, usecols=lambda c: c in columns, dtype=dtype, chunksize=_CHUNK_ROWS
        ):
            parts.append(chunk)
            progress.update(task, completed=handle.tell())
    progress.update(task, completed=size)
    return pd.concat(parts, ignore_index=True)


def read_transactions(
    path: Path,
    *,
    customer: str,
    date: str,
    amount: str,
    date_format: str | None,
    progress: Progress,
) -> pd.DataFrame:
    """Read and type-check the three columns; errors name the row (as a spreadsheet numbers it,
    header = 1) and the value."""
    name = path.name
    if not path.exists():
        raise DataValidationError(f"{path} does not exist")
    columns = [customer, date, amount]
    try:
        if path.suffix.lower() in {".parquet", ".pq"}:
            raw = pd.read_parquet(path)
        else:
            raw = _read_csv(path, columns, progress)
    except (ValueError, OSError) as exc:
        raise DataValidationError(f"{name}: cannot read the file: {exc}") from exc
    missing = [c for c in columns if c not in raw.columns]
    if missing:
        raise DataValidationError(
            f"{name}: column(s) {', '.join(map(repr, missing))} not found; the file has "
            f"{', '.join(map(repr, raw.columns))}",
            [Problem(name, None, c, None, "column is missing") for c in missing],
        )
    raw = raw[columns]
    problems: list[Problem] = []

    ids = raw[customer]
    bad = ids.isna()
    problems += [
        Problem(name, int(i) + 2, customer, None, "customer id is empty")
        for i in np.flatnonzero(bad)[:5]
    ]

    if pd.api.types.is_datetime64_any_dtype(raw[date]):
        dates = raw[date]
    else:
        text = raw[date].astype("string")
        dates = pd.to_datetime(text, errors="coerce", format=date_format or "ISO8601")
    for i in np.flatnonzero(dates.isna().to_numpy())[:5]:
        hint = f" (expected format {date_format})" if date_format else " (try --date-format)"
        problems.append(
            Problem(name, int(i) + 2, date, raw[date].iloc[i], "cannot parse the date" + hint)
        )

    if pd.api.types.is_numeric_dtype(raw[amount]):
        amounts = raw[amount].astype("float64")
    else:
        amounts = pd.to_numeric(raw[amount].astype("string").str.strip(), errors="coerce")
    for i in np.flatnonzero(~np.isfinite(amounts.to_numpy(dtype=float, na_value=np.nan)))[:5]:
        problems.append(Problem(name, int(i) + 2, amount, raw[amount].iloc[i], "not a number"))
    if problems:
        raise DataValidationError(f"{name}: the transactions have invalid values", problems)
    return pd.DataFrame(
        {"customer": ids.astype(str), "date": dates, "amount": amounts.astype("float64")}
    )


def clv(
    file: Annotated[Path, typer.Argument(help="Transaction log, CSV or Parquet.")],
    customer: Annotated[str, typer.Option("--customer", help="Column with the customer id.")],
    date: Annotated[str, typer.Option("--date", help="Column with the transaction date.")],
    amount: Annotated[str, typer.Option("--amount", help="Column with the transaction value.")],
    period: Annotated[
        str, typer.Option("--period", help="Time unit of the models: day, week or month.")
    ] = "week",
    calibration_end: Annotated[
        str | None,
        typer.Option(
            "--calibration-end",
            help="Last day of the history used (YYYY-MM-DD); later rows are ignored. "
            "Default: the last transaction date.",
        ),
    ] = None,
    horizon: Annotated[
        int, typer.Option("--horizon", help="Forecast horizon in periods.", min=0)
    ] = 52,
    discount_rate: Annotated[
        float, typer.Option("--discount-rate", help="Annual discount rate, e.g. 0.1 for 10 %.")
    ] = 0.1,
    date_format: Annotated[
        str | None,
        typer.Option("--date-format", help="strptime format of the dates, e.g. %Y%m%d."),
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Per-customer CSV (default: standard output).")
    ] = None,
    params_out: Annotated[
        Path | None, typer.Option("--params-out", help="Fitted parameters as JSON.")
    ] = None,
) -> None:
    """Fit BG/NBD, Pareto/NBD and Gamma-Gamma to a transaction log and write per-customer CLV."""
    err = Console(stderr=True)
    _ = state.gettext()
    try:
        _run(
            err,
            _,
            file=file,
            customer=customer,
            date=date,
            amount=amount,
            period=period,
            calibration_end=calibration_end,
            horizon=horizon,
            discount_rate=discount_rate,
            date_format=date_format,
            out=out,
            params_out=params_out,
        )
    except TillageError as exc:
        err.print(f"[bold red]error:[/] {exc}", highlight=False)
        raise typer.Exit(2) from exc


def _run(
    err: Console,
    _: Callable[[str], str],
    *,
    file: Path,
    customer: str,
    date: str,
    amount: str,
    period: str,
    calibration_end: str | None,
    horizon: int,
    discount_rate: float,
    date_format: str | None,
    out: Path | None,
    params_out: Path | None,
) -> None:
    if period not in PERIOD_DAYS:
        raise DataValidationError(
            f"--period must be one of {', '.join(PERIOD_DAYS)}, not {period!r}"
        )
    progress = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    )
    with progress:
        log = read_transactions(
            file,
            customer=customer,
            date=date,
            amount=amount,
            date_format=date_format,
            progress=progress,
        )
        task = progress.add_task(_("summarising per customer"), total=len(CLV_STEPS))
        labels = {
            "summary": _("summarising per customer"),
            "predict": _("predicting"),
            **{m: _("fitting {model}").format(model=m) for m in CLV_STEPS[1:4]},
        }

        def step(name: str) -> None:
            progress.update(
                task, completed=CLV_STEPS.index(name), description=labels.get(name, name)
            )

        fitted = clv_of_log(
            log,
            period=period,
            calibration_end=pd.Timestamp(calibration_end).date() if calibration_end else None,
            horizon=horizon,
            discount_rate=discount_rate,
            source=file.name,
            progress=step,
        )
        progress.update(task, completed=len(CLV_STEPS))
    result, summary, end = fitted.frame, fitted.frame, fitted.calibration_end
    bgnbd, spend, params = fitted.bgnbd, fitted.spend, fitted.params
    pareto = params["pareto_nbd"]
    result.index.name = customer
    check = fitted.check
    if params_out is not None:
        params_out.write_text(json.dumps(params, indent=2), encoding="utf-8")
    if out is not None:
        result.to_csv(out)
    else:
        typer.echo(result.to_csv(), nl=False)

    periods = {"day": _("days"), "week": _("weeks"), "month": _("months")}
    title = _("{customers} customers, calibration end {date}, {periods}").format(
        customers=f"{len(summary):,}", date=end, periods=periods[period]
    )
    table = Table(title=title)
    table.add_column(_("model"))
    table.add_column(_("parameters"))
    table.add_column(_("log-likelihood"), justify="right")
    for label, fitted in (("BG/NBD", bgnbd), ("Gamma-Gamma", spend)):
        text = ", ".join(f"{k}={v:.4g}" for k, v in fitted.params_.items())
        table.add_row(label, text, f"{fitted.log_likelihood_:.1f}")
    if "error" not in pareto:
        text = ", ".join(f"{k}={pareto[k]:.4g}" for k in ("r", "alpha", "s", "beta"))
        table.add_row("Pareto/NBD", text, f"{pareto['log_likelihood']:.1f}")
    err.print(table)
    if check.warning:
        message = _(
            "frequency and spend are correlated (r = {r:.2f}); the Gamma-Gamma model assumes "
            "they are independent"
        ).format(r=check.correlation)
        warning = _("warning")
        err.print(f"[yellow]{warning}:[/] {message}")
