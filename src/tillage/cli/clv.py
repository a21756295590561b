"""``tillage clv``: customer lifetime value straight from a transaction file.

Reads a CSV or Parquet transaction log, summarises it per customer (:func:`rfm_summary`), fits
BG/NBD, Pareto/NBD and Gamma-Gamma, and writes one row per customer with the probability of being
alive, the expected purchases and the discounted expected revenue over the horizon
(:func:`tillage.models.clv.customer_lifetime_value`, driven by BG/NBD and Gamma-Gamma). The
annual discount rate ``R`` is converted to a rate per period, ``(1 + R) ** (days / 365.25) - 1``.
Registered by ``tillage.cli.main`` as ``app.command("clv")(clv)``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import pandas as pd
import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from tillage.cli.context import exit_status, state
from tillage.errors import ConvergenceError, DataValidationError, Problem, TillageError
from tillage.features.rfm import PERIOD_DAYS, rfm_summary
from tillage.models import BetaGeoModel, GammaGammaModel, ParetoNBDModel
from tillage.models.clv import customer_lifetime_value, per_period_rate

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


def _params(model: BetaGeoModel | ParetoNBDModel | GammaGammaModel) -> dict[str, Any]:
    out: dict[str, Any] = dict(model.params_)
    out["log_likelihood"] = model.log_likelihood_
    out["standard_errors"] = dict(model.standard_errors_)
    return out


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
        raise typer.Exit(exit_status(exc)) from exc


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
        if log.empty:
            raise DataValidationError(f"{file.name}: no transactions")
        end = pd.Timestamp(calibration_end).date() if calibration_end else log["date"].max().date()
        step = progress.add_task(_("summarising per customer"), total=5)
        summary = rfm_summary(
            log,
            customer="customer",
            date="date",
            amount="amount",
            period=period,  # type: ignore[arg-type]
            calibration_end=end,
        )
        if summary.empty:
            raise DataValidationError(f"{file.name}: no transactions on or before {end}")
        progress.update(step, advance=1, description=_("fitting {model}").format(model="BG/NBD"))
        bgnbd = BetaGeoModel().fit(summary)
        progress.update(
            step, advance=1, description=_("fitting {model}").format(model="Pareto/NBD")
        )
        try:
            pareto: dict[str, Any] = _params(ParetoNBDModel().fit(summary))
        except ConvergenceError as exc:
            pareto = {"error": str(exc)}
        progress.update(
            step, advance=1, description=_("fitting {model}").format(model="Gamma-Gamma")
        )
        if (summary["frequency"] > 0).sum() < 3:
            raise DataValidationError(
                f"{file.name}: fewer than 3 customers with repeat purchases before {end}; "
                "the spend model cannot be fitted"
            )
        spend = GammaGammaModel().fit(summary)
        progress.update(step, advance=1, description=_("predicting"))
        rate = per_period_rate(discount_rate, PERIOD_DAYS[period])
        result = summary.copy()
        result["p_alive"] = bgnbd.conditional_probability_alive(summary)
        result["expected_purchases"] = bgnbd.conditional_expected_purchases(float(horizon), summary)
        result["expected_avg_value"] = spend.conditional_expected_average_profit(summary)
        result["clv"] = customer_lifetime_value(
            bgnbd, spend, summary, horizon=horizon, discount_rate=rate
        )
        progress.update(step, advance=1)

    result.index.name = customer
    check = spend.frequency_monetary_correlation(summary)
    params = {
        "period": period,
        "calibration_end": end.isoformat(),
        "horizon": horizon,
        "annual_discount_rate": discount_rate,
        "discount_rate_per_period": rate,
        "n_customers": len(summary),
        "bgnbd": _params(bgnbd),
        "pareto_nbd": pareto,
        "gamma_gamma": {**_params(spend), "frequency_monetary_correlation": check.correlation},
    }
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
