"""``tillage score``: score every account as of a date and keep the result as a snapshot."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from tillage.cli.context import state
from tillage.cli.localize import N_

if TYPE_CHECKING:
    from sqlalchemy import Engine

# The scoring run, the store and the features are imported in the bodies: the help and a
# usage error of `tillage score` then start without them (seconds on a slow machine)


def scoring_progress(progress: Progress, description: str):  # type: ignore[no-untyped-def]
    """A ``progress`` callback for :func:`run_scoring` advancing one task of ``progress``."""
    from tillage.services.job_text import step_labels
    from tillage.services.scoring import STEPS

    labels = step_labels(state.settings().language, detailed=True)
    task = progress.add_task(description, total=len(STEPS))
    seen: list[str] = []

    def on_step(name: str) -> None:
        if seen:
            progress.advance(task)
        seen.append(name)
        progress.update(task, description=f"{description}: {labels.get(name, name)}")

    def done() -> None:
        progress.update(task, completed=len(STEPS), description=description)

    return on_step, done


def progress_bar(console: Console) -> Progress:
    """The progress display of long commands."""
    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )


def announced_as_of(
    engine: Engine, today: dt.date, console: Console, *, valuing: bool = False
) -> dt.date:
    """The as-of date of a command given no ``--as-of`` (:func:`default_as_of`: the store's last
    day of data, else today), announced on ``console`` with why: as scoring, or with
    ``valuing`` (``tillage ltv``) as valuing the accounts."""
    from tillage.services.scoring import default_as_of

    _ = state.gettext()
    date, reason = default_as_of(engine, today)
    if valuing:
        why = {
            "data_end": _(
                "No --as-of given: valuing the accounts as of {date}, the last day of the "
                "store's data."
            ),
            "today": _("No --as-of given: valuing the accounts as of {date}, today."),
            "empty": _(
                "No --as-of given: valuing the accounts as of {date}, today (the store holds no "
                "dated records)."
            ),
        }[reason]
    else:
        why = {
            "data_end": _(
                "No --as-of given: scoring as of {date}, the last day of the store's data."
            ),
            "today": _("No --as-of given: scoring as of {date}, today."),
            "empty": _(
                "No --as-of given: scoring as of {date}, today (the store holds no dated records)."
            ),
        }[reason]
    console.print(why.format(date=date), highlight=False)
    return date


def score(
    as_of: Annotated[
        str | None,
        typer.Option(
            help=N_(
                "Business date to score as of (YYYY-MM-DD); default: the store's last day of "
                "data, or today if that is later."
            )
        ),
    ] = None,
    strategy: Annotated[
        Path | None,
        typer.Option(
            "--strategy",
            help=N_("Strategy file (default: the newest saved version, else the built-in one)."),
        ),
    ] = None,
    month: Annotated[
        str | None,
        typer.Option(help=N_("Month to plan (YYYY-MM); default: the month after the as-of date.")),
    ] = None,
    label: Annotated[str, typer.Option(help=N_("A label stored with the snapshot."))] = "",
    warm_pages: Annotated[
        bool,
        typer.Option(
            "--warm-pages",
            help=N_(
                "After scoring, compute the default KPI trends and review into the page cache "
                "(the first user of the dashboard then waits for neither)."
            ),
        ),
    ] = False,
    engine_name: Annotated[
        str | None,
        typer.Option(
            "--engine",
            help=N_(
                "Where the feature queries run: duckdb (embedded), postgres (inside a "
                "PostgreSQL store) or spark (local, or the Spark Connect server of $SPARK_REMOTE); "
                "default: duckdb for a SQLite store, postgres for PostgreSQL."
            ),
        ),
    ] = None,
) -> None:
    """Score every account in the store and write an immutable snapshot."""
    from tillage.cli.imports import print_quality
    from tillage.features.engine import ENGINES
    from tillage.ingest.quality import data_quality
    from tillage.report.summary import zone_table
    from tillage.services.scoring import has_accounts, run_scoring
    from tillage.store.access import everything
    from tillage.store.database import engine_from_settings, ensure_current, session_factory
    from tillage.store.snapshots import get_snapshot, zone_totals

    settings = state.settings()
    _ = state.gettext()
    if engine_name is not None and engine_name not in ENGINES:
        raise typer.BadParameter(f"choose one of {', '.join(ENGINES)}", param_hint="--engine")
    now = dt.datetime.now(settings.zone).replace(tzinfo=None)
    try:
        date = dt.date.fromisoformat(as_of) if as_of else None
    except ValueError as exc:
        raise typer.BadParameter(f"{as_of!r} is not a date like 2026-09-30") from exc
    engine = engine_from_settings(settings)
    ensure_current(engine)
    console = Console()
    if not has_accounts(engine):
        Console(stderr=True).print(
            _(
                "The store holds no accounts: there is nothing to score and no snapshot was "
                "written. Import the accounts first (tillage import)."
            ),
            highlight=False,
        )
        raise typer.Exit(1)
    if date is None:
        date = announced_as_of(engine, now.date(), console)
    with progress_bar(console) as progress:
        on_step, done = scoring_progress(progress, _("Scoring accounts"))
        snapshot_id = run_scoring(
            engine,
            date,
            created_at=now,
            label=label or None,
            strategy_path=strategy,
            month=month,
            progress=on_step,
            feature_engine=engine_name,  # type: ignore[arg-type]
        )
        done()
    with session_factory(engine)() as session:
        snapshot = get_snapshot(session, snapshot_id)
        if (snapshot.models or {}).get("zones"):  # no positive LTV: no zones drawn
            console.print(
                _("No account has a positive LTV, so zones A/B/C are not drawn."),
                highlight=False,
            )
        else:
            console.print(
                zone_table(
                    zone_totals(session, snapshot_id, visible=everything()),
                    settings.currency,
                    settings.language,
                )
            )
    console.print(_("Snapshot {id} written as of {date}.").format(id=snapshot_id, date=date))
    if warm_pages:
        from tillage.services.warm import warm_pages as warm

        with session_factory(engine)() as session:
            warm(session, settings)
    with engine.connect() as connection:  # what the scores could not use, so left blank
        print_quality(console, data_quality(connection, _), _)
