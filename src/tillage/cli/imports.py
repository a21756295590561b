"""``tillage import``: bring a CRM or billing export into the store, validated and atomic."""

from __future__ import annotations

import datetime as dt
import getpass
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal
from zoneinfo import ZoneInfo

import typer
from rich.console import Console

from tillage.cli.context import state
from tillage.cli.localize import N_
from tillage.errors import rows_affected

if TYPE_CHECKING:
    from rich.table import Table

    from tillage.ingest import ImportResult
    from tillage.ingest.currency import Rate
    from tillage.ingest.quality import QualityNote

# The importer and the store are imported in the bodies: the help and a usage error of
# `tillage import` start without them

Format = Literal["auto", "csv", "xlsx", "parquet", "salesforce", "hubspot"]
SHOWN_PROBLEMS = 30


def _problems_table(problems, lang: str) -> Table:  # type: ignore[no-untyped-def]
    import pandas as pd
    from rich.table import Table

    from tillage.ingest import report_frame

    frame = report_frame(problems[:SHOWN_PROBLEMS], lang)
    table = Table(show_lines=False)
    for column in frame.columns:
        table.add_column(str(column), overflow="fold")
    for row in frame.itertuples(index=False):
        table.add_row(*("" if pd.isna(v) else str(v) for v in row))
    return table


def _summary(result: ImportResult, _, lang: str) -> Table:  # type: ignore[no-untyped-def]
    from rich.table import Table

    from tillage.i18n import table_labels

    title = _("Import preview: what an import would do") if result.dry_run else _("Import summary")
    table = Table(title=title)
    for header in (
        _("table"),
        _("read"),
        _("new"),
        _("updated"),
        _("unchanged"),
        _("skipped"),
    ):
        table.add_column(header, justify="right" if header != _("table") else "left")
    labels = table_labels(lang)
    for name, c in result.tables.items():
        table.add_row(
            labels.get(name, name),
            *(f"{v:,}" for v in (c.read, c.inserted, c.updated, c.unchanged, c.rejected)),
        )
    return table


def print_quality(console: Console, notes: list[QualityNote], _) -> None:  # type: ignore[no-untyped-def]
    """The data-quality note: what the stored data cannot support (nothing when complete)."""
    if not notes:
        return
    console.print(_("Data quality: what the data cannot support"), style="bold")
    effects = {"blank": _("blank"), "assumed": _("assumed")}
    for note in notes:
        console.print(f"  [{effects[note.effect]}] {note.message}", markup=False)


def exchange_rates(engine, path: Path | None) -> list[Rate]:  # type: ignore[no-untyped-def]
    """The rates of ``--rates`` (a CSV or a TOML file, a strategy file included), else those of
    the strategy in force (its ``exchange_rates``)."""
    from tillage.ingest.currency import load_rates, parse_rates
    from tillage.services.strategy import resolve_strategy

    if path is not None:
        return load_rates(path)
    strategy = resolve_strategy(engine)[0]
    return parse_rates([r.model_dump() for r in strategy.exchange_rates], "the strategy")


def _magic_suffix(head: bytes) -> str:
    """The file type of data read from standard input, by its first bytes."""
    if head.startswith(b"PK"):
        return ".xlsx"
    if head.startswith(b"PAR1"):
        return ".parquet"
    if head.startswith(b"\xd0\xcf\x11\xe0"):  # OLE2: a legacy .xls workbook
        return ".xls"
    return ".csv"


@contextmanager
def _stdin_file() -> Iterator[Path]:
    """Standard input saved as ``stdin.<type>`` in a private folder, removed afterwards."""
    folder = Path(tempfile.mkdtemp(prefix="tillage-stdin-"))  # mode 0700
    try:
        data = sys.stdin.buffer.read()
        path = folder / f"stdin{_magic_suffix(data[:8])}"
        with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as out:
            out.write(data)
        yield path
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def import_command(
    path: Annotated[
        Path,
        typer.Argument(
            help=N_("A file (CSV, XLSX, Parquet), an export folder or .zip; - for stdin.")
        ),
    ],
    format: Annotated[
        str, typer.Option("--format", help=N_("auto|csv|xlsx|parquet|salesforce|hubspot"))
    ] = "auto",
    mapping: Annotated[
        Path | None, typer.Option("--mapping", help=N_("Mapping file (TOML) for CSV/XLSX/Parquet."))
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help=N_("Check and print the report; write nothing."))
    ] = False,
    report: Annotated[
        Path | None, typer.Option("--report", help=N_("Save the problems as .csv or .xlsx."))
    ] = None,
    rates: Annotated[
        Path | None,
        typer.Option(
            "--rates",
            help=N_(
                "Exchange rates into the company currency: a CSV (currency,rate[,valid_from]) "
                "or a TOML file with [[exchange_rates]] (default: the strategy in force)."
            ),
        ),
    ] = None,
) -> None:
    """Import an export into the store: all rows or none, re-imports update in place."""
    if format not in Format.__args__:  # type: ignore[attr-defined]
        choices = ", ".join(Format.__args__)  # type: ignore[attr-defined]
        raise typer.BadParameter(f"choose one of {choices}", param_hint="--format")
    if str(path) == "-":
        with _stdin_file() as saved:
            _import(saved, format, mapping, dry_run, report, rates)
        return
    _import(path, format, mapping, dry_run, report, rates)


def _import(
    path: Path,
    format: str,
    mapping: Path | None,
    dry_run: bool,
    report: Path | None,
    rates: Path | None,
) -> None:
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from tillage.ingest import ImportRefused, import_path, save_report
    from tillage.store.database import engine_from_settings, ensure_current

    settings = state.settings()
    lang = settings.language
    _ = state.gettext()
    console = Console()
    now = dt.datetime.now(ZoneInfo(settings.timezone)).replace(tzinfo=None, microsecond=0)
    engine = engine_from_settings(settings)
    ensure_current(engine)
    rates_in_force = exchange_rates(engine, rates)
    labels = {"read": _("Reading"), "validate": _("Checking"), "done": _("Done")}
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as progress:
        task = progress.add_task(_("Reading"), total=None)

        def on_progress(step: str, done: int, total: int) -> None:
            label = labels.get(step, _("Writing {table}").format(table=step))
            progress.update(task, description=label, completed=done, total=total or None)

        try:
            result = import_path(
                engine,
                path,
                as_of=now.date(),
                imported_at=now,
                imported_by=getpass.getuser(),
                format=format,
                mapping=mapping,
                timezone=settings.timezone,
                currency=settings.currency,
                rates=rates_in_force,
                lang=lang,
                dry_run=dry_run,
                progress=on_progress,
            )
        except ImportRefused as refused:
            progress.stop()
            result = refused.result
            console.print(_problems_table(result.problems, lang))
            if report is not None:
                save_report(result.problems, report, lang)
                console.print(_("Report saved to {path}.").format(path=report))
            console.print(
                _("{errors} errors, {warnings} warnings: nothing was imported.").format(
                    errors=f"{rows_affected(result.problems):,}",
                    warnings=f"{rows_affected(result.problems, 'warning'):,}",
                ),
                style="bold red",
            )
            raise typer.Exit(1) from None
    if result.problems:
        console.print(_problems_table(result.problems, lang))
    if report is not None:
        save_report(result.problems, report, lang)
        console.print(_("Report saved to {path}.").format(path=report))
    console.print(_summary(result, _, lang))
    totals = _(
        "{read} rows read, {inserted} new, {updated} updated, {unchanged} unchanged, "
        "{rejected} skipped, {warnings} warnings."
    ).format(
        read=f"{result.rows_read:,}",
        inserted=f"{result.inserted:,}",
        updated=f"{result.updated:,}",
        unchanged=f"{result.unchanged:,}",
        rejected=f"{result.rows_rejected:,}",
        warnings=len(result.warnings),
    )
    console.print(totals)
    print_quality(console, result.quality, _)
    if dry_run:
        console.print(_("Dry run: nothing was written."), style="bold")
