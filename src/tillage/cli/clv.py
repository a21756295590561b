"""``tillage clv``: customer lifetime value straight from a transaction file.

Reads a CSV or Parquet transaction log and hands it to :func:`tillage.services.clv.clv_of_log`
(summary per customer, the purchase model chosen by ``--model``, Gamma-Gamma, the discounted
CLV over the horizon); writes one row per customer, prints the fitted parameters and a warning
for every model that failed, fell back or left customers out. Listed in
:data:`tillage.cli.commands.COMMANDS`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from tillage.cli.context import exit_status, state
from tillage.cli.localize import N_
from tillage.errors import DataValidationError, Problem, TillageError

if TYPE_CHECKING:
    import pandas as pd
    from rich.progress import Progress

    from tillage.models.clv import ClvForecast, ClvNote

# pandas, NumPy and the models are imported in the bodies: the help and a usage error of
# `tillage clv` start without them

__all__ = ["clv", "read_transactions"]

#: CSV files above this size are read in chunks with a progress bar.
_CHUNKED_BYTES = 20_000_000
_CHUNK_ROWS = 250_000


def _read_csv(path: Path, columns: list[str], progress: Progress) -> pd.DataFrame:
    import pandas as pd

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
    quantity: str | None = None,
) -> tuple[pd.DataFrame, list[int]]:
    """Read and type-check the columns; errors name the row (as a spreadsheet numbers it,
    header = 1) and the value. With ``quantity``, a line's value is ``amount × quantity``
    (e.g. unit price × quantity; a negative quantity is a return).

    Returns the transactions and the row numbers of the lines without a customer id (guest
    orders, left out: they belong to nobody's history)."""
    import numpy as np
    import pandas as pd

    name = path.name
    if not path.exists():
        raise DataValidationError(f"{path} does not exist")
    columns = [customer, date, amount, *([quantity] if quantity else [])]
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
    if pd.api.types.is_float_dtype(ids) and (ids.dropna() == ids.dropna().round()).all():
        ids = ids.astype("Int64")  # ids read as floats (13085.0) where some are empty
    no_id = [int(i) + 2 for i in np.flatnonzero(ids.isna().to_numpy())]

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

    amounts = _numbers(raw, amount, name, problems)
    if quantity:
        amounts = amounts * _numbers(raw, quantity, name, problems)
    if problems:
        raise DataValidationError(f"{name}: the transactions have invalid values", problems)
    keep = ids.notna().to_numpy()
    frame = pd.DataFrame(
        {"customer": ids.astype(str), "date": dates, "amount": amounts.astype("float64")}
    )
    return frame[keep].reset_index(drop=True), no_id


def _numbers(raw: pd.DataFrame, column: str, name: str, problems: list[Problem]) -> pd.Series:
    """A column as floats; each value that is not a finite number is added to ``problems``."""
    import numpy as np
    import pandas as pd

    if pd.api.types.is_numeric_dtype(raw[column]):
        values = raw[column].astype("float64")
    else:
        values = pd.to_numeric(raw[column].astype("string").str.strip(), errors="coerce")
    for i in np.flatnonzero(~np.isfinite(values.to_numpy(dtype=float, na_value=np.nan)))[:5]:
        problems.append(Problem(name, int(i) + 2, column, raw[column].iloc[i], "not a number"))
    return values


def clv(
    file: Annotated[Path, typer.Argument(help=N_("Transaction log, CSV or Parquet."))],
    customer: Annotated[str, typer.Option("--customer", help=N_("Column with the customer id."))],
    date: Annotated[str, typer.Option("--date", help=N_("Column with the transaction date."))],
    amount: Annotated[str, typer.Option("--amount", help=N_("Column with the transaction value."))],
    quantity: Annotated[
        str | None,
        typer.Option(
            "--quantity",
            help=N_(
                "Column with the quantity: the value is then amount × quantity "
                "(e.g. --amount Price --quantity Quantity)."
            ),
        ),
    ] = None,
    model: Annotated[
        str,
        typer.Option(
            "--model",
            help=N_("Purchase model: bgnbd, pareto, or auto (both, keep the better fit)."),
        ),
    ] = "auto",
    period: Annotated[
        str, typer.Option("--period", help=N_("Time unit of the models: day, week or month."))
    ] = "week",
    calibration_end: Annotated[
        str | None,
        typer.Option(
            "--calibration-end",
            help=N_(
                "Last day of the history used (YYYY-MM-DD); later rows are ignored. "
                "Default: the last transaction date."
            ),
        ),
    ] = None,
    horizon: Annotated[
        int, typer.Option("--horizon", help=N_("Forecast horizon in periods."), min=0)
    ] = 52,
    discount_rate: Annotated[
        float, typer.Option("--discount-rate", help=N_("Annual discount rate, e.g. 0.1 for 10 %."))
    ] = 0.1,
    date_format: Annotated[
        str | None,
        typer.Option("--date-format", help=N_("strptime format of the dates, e.g. %Y%m%d.")),
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help=N_("Per-customer CSV (default: standard output)."))
    ] = None,
    params_out: Annotated[
        Path | None, typer.Option("--params-out", help=N_("Fitted parameters as JSON."))
    ] = None,
) -> None:
    """Fit BG/NBD or Pareto/NBD and Gamma-Gamma to a transaction log; write per-customer CLV."""
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
            quantity=quantity,
            model=model,
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
    quantity: str | None,
    model: str,
    period: str,
    calibration_end: str | None,
    horizon: int,
    discount_rate: float,
    date_format: str | None,
    out: Path | None,
    params_out: Path | None,
) -> None:
    import pandas as pd
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from tillage.services.clv import STEPS as CLV_STEPS
    from tillage.services.clv import check_clv_options, clv_of_log

    check_clv_options(period, model)  # before the log is read
    progress = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    )
    with progress:
        log, no_id = read_transactions(
            file,
            customer=customer,
            date=date,
            amount=amount,
            quantity=quantity,
            date_format=date_format,
            progress=progress,
        )
        task = progress.add_task(_("summarising per customer"), total=len(CLV_STEPS))
        labels = {"summary": _("summarising per customer"), "fit": _("fitting the models")}

        def step(name: str) -> None:
            progress.update(task, completed=CLV_STEPS.index(name), description=labels[name])

        fitted = clv_of_log(
            log,
            period=period,
            calibration_end=pd.Timestamp(calibration_end).date() if calibration_end else None,
            horizon=horizon,
            discount_rate=discount_rate,
            model=model,
            source=file.name,
            rows_without_customer=len(no_id),
            progress=step,
        )
        progress.update(task, completed=len(CLV_STEPS))
    forecast, summary, end, params = (
        fitted.forecast,
        fitted.summary,
        fitted.calibration_end,
        fitted.params,
    )
    result = forecast.frame.assign(note=_note_column(_, forecast.frame["note"]))
    result.index.name = customer
    if params_out is not None:
        params_out.write_text(json.dumps(params, indent=2, allow_nan=False), encoding="utf-8")
    if out is not None:
        result.to_csv(out)
    else:
        typer.echo(result.to_csv(), nl=False)
    _render(err, _, forecast, summary, end, period, no_id)


def _render(
    err: Console,
    _: Callable[[str], str],
    forecast: ClvForecast,
    summary: pd.DataFrame,
    end: object,
    period: str,
    no_id: list[int],
) -> None:
    """The fitted models as a table, then one warning line per note."""
    import numpy as np
    from rich.table import Table

    from tillage.models.clv import MODEL_LABELS

    periods = {"day": _("days"), "week": _("weeks"), "month": _("months")}
    title = _("{customers} customers, calibration end {date}, {periods}").format(
        customers=f"{len(summary):,}", date=end, periods=periods[period]
    )
    table = Table(title=title)
    table.add_column(_("model"))
    table.add_column(_("parameters"))
    table.add_column(_("log-likelihood"), justify="right")
    for key, fit in forecast.fits.items():
        if "error" in fit:
            continue
        label = MODEL_LABELS[key] + (" *" if key == forecast.chosen else "")
        text = ", ".join(f"{k}={fit[k]:.4g}" for k in fit if k not in _NOT_PARAMS)
        table.add_row(label, text, f"{fit['log_likelihood']:.1f}")
    err.print(table)
    warning = _("warning")
    for note in forecast.notes:  # which model was used: information, not a warning
        if note.code == "chosen":
            err.print(_note_text(_, note), highlight=False)
    lines = [_note_text(_, note) for note in forecast.notes if note.code != "chosen"]
    if no_id:
        first = ", ".join(map(str, no_id[:5]))
        lines.append(
            _("{n} line(s) without a customer id were left out (rows {rows})").format(
                n=f"{len(no_id):,}", rows=first + (" …" if len(no_id) > 5 else "")
            )
        )
    fit = forecast.fits.get("gamma_gamma") or {}
    r = fit.get("frequency_monetary_correlation")
    if r is not None and np.isfinite(r) and abs(r) > 0.3:
        lines.append(
            _(
                "frequency and spend are correlated (r = {r:.2f}); the Gamma-Gamma model assumes "
                "they are independent"
            ).format(r=r)
        )
    for line in lines:
        err.print(f"[yellow]{warning}:[/] {line}", highlight=False)


_NOT_PARAMS = {"log_likelihood", "standard_errors", "frequency_monetary_correlation", "boundary"}


def _note_text(_: Callable[[str], str], note: ClvNote) -> str:
    """A note of :func:`forecast_clv` in the user's language."""
    from tillage.models.clv import MODEL_LABELS

    v = note.values
    if note.code == "model_failed":
        return _("{model} could not be fitted: {error}").format(**v)
    if note.code == "fell_back":
        return _("{model} could not be fitted; the forecast uses {chosen}").format(**v)
    if note.code == "chosen":
        return _("the forecast uses {model}, the model with the higher likelihood").format(**v)
    if note.code == "no_spend_model":
        return _(
            "no spend model ({reason}): expected value and CLV are blank; "
            "P(alive) and expected purchases are written"
        ).format(**v)
    if note.code == "boundary":
        return _(
            "{model}: the likelihood is highest on the edge of the parameter space ({params} "
            "without a standard error; almost no customer drops out); the estimates there are "
            "used: {estimates}"
        ).format(**{**v, "model": MODEL_LABELS.get(v["model"], v["model"])})
    return _(
        "{model}: {n} customer(s) whose mean repeat spend is zero or negative (free items, or "
        "returns exceeding the repeat orders) were left out (first: {first}); their expected "
        "value and CLV are blank, with the reason in the note column"
    ).format(**{**v, "model": MODEL_LABELS.get(v["model"], v["model"])})


def _note_column(_: Callable[[str], str], codes: pd.Series) -> pd.Series:
    """The ``note`` codes of :func:`forecast_clv` as words in the user's language."""
    words = {
        "": "",
        "no_spend_model": _("no spend model could be fitted"),
        "spend_not_positive": _("mean repeat spend is zero or negative"),
    }
    return codes.map(words)
