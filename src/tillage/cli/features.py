"""``tillage features``: export the per-account feature table as of a date to Parquet.

Listed in :data:`tillage.cli.commands.COMMANDS`.
The columns are documented in ``docs/features.md``.
"""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import Annotated

import pyarrow as pa
import pyarrow.parquet as pq
import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from tillage.cli.context import print_written, state
from tillage.cli.localize import N_
from tillage.errors import ConfigurationError
from tillage.features import ENGINES, build_features, feature_backend
from tillage.features.rfm import PERIOD_DAYS

__all__ = ["features_command"]


def features_command(
    as_of: Annotated[
        str, typer.Option("--as-of", help=N_("Business date the features describe (YYYY-MM-DD)."))
    ],
    out: Annotated[Path, typer.Option("--out", help=N_("Parquet file to write."))],
    engine: Annotated[
        str, typer.Option(help=N_("Where to compute: duckdb (embedded), postgres or spark."))
    ] = "duckdb",
    period: Annotated[
        str, typer.Option(help=N_("Time unit of rfm_recency and rfm_t: day, week or month."))
    ] = "week",
    horizon: Annotated[
        int | None,
        typer.Option(help=N_("Add backtest labels over the next HORIZON days (reads the future).")),
    ] = None,
    database_url: Annotated[
        str | None, typer.Option(help=N_("Store to read (default: the configured store)."))
    ] = None,
) -> None:
    """Compute every account's features as of a date and write them to a Parquet file."""
    try:
        date = dt.date.fromisoformat(as_of)
    except ValueError as exc:
        raise typer.BadParameter(f"{as_of!r} is not a date like 2026-09-30") from exc
    if engine not in ENGINES:
        raise typer.BadParameter(f"choose one of {', '.join(ENGINES)}", param_hint="--engine")
    if period not in PERIOD_DAYS:
        raise typer.BadParameter(f"choose one of {', '.join(PERIOD_DAYS)}", param_hint="--period")
    if horizon is not None and horizon <= 0:
        raise typer.BadParameter(N_("must be a positive number of days"), param_hint="--horizon")
    if out.suffix.lower() not in {".parquet", ".pq"}:
        raise ConfigurationError(f"--out {out} must be a .parquet file")
    url = database_url or state.settings().resolved_database_url
    _ = state.gettext()
    console = Console(stderr=True)
    started = time.perf_counter()
    columns = TextColumn("{task.description}"), TimeElapsedColumn()
    with Progress(SpinnerColumn(), *columns, console=console, transient=False) as progress:
        task = progress.add_task(
            _("Loading the store into {engine}").format(engine=engine), total=1
        )
        with feature_backend(url, engine) as con:  # type: ignore[arg-type]
            progress.update(task, completed=1)
            description = _("Computing features as of {date}").format(date=date)
            task = progress.add_task(description, total=1)
            frame = build_features(con, date, period=period, horizon_days=horizon)  # type: ignore[arg-type]
            progress.update(task, completed=1)
        task = progress.add_task(_("Writing {file}").format(file=out.name), total=1)
        out.parent.mkdir(parents=True, exist_ok=True)
        table = pa.Table.from_pandas(frame, preserve_index=False)
        table = table.replace_schema_metadata(
            {"tillage.as_of": date.isoformat(), "tillage.period": period}
        )
        pq.write_table(table, out)
        progress.update(task, completed=1)
    elapsed = time.perf_counter() - started
    print_written(
        _(
            "{accounts} accounts × {features} features as of {date} "
            "({engine}, {seconds:.1f} s) → {path}"
        ).format(
            accounts=f"{len(frame):,}",
            features=frame.shape[1] - 1,
            date=date,
            engine=engine,
            seconds=elapsed,
            path=out,
        )
    )
