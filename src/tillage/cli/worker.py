"""``tillage worker``: the scheduled import and re-scoring, on the strategy file's schedule."""

from __future__ import annotations

import datetime as dt
import signal
import threading
from typing import Annotated

import typer

from tillage.cli.context import state
from tillage.cli.localize import N_
from tillage.services.jobs import JobOut, reap
from tillage.services.schedule import next_run, run_due, run_worker
from tillage.store.database import engine_from_settings, ensure_current, session_factory


def worker(
    once: Annotated[
        bool,
        typer.Option("--once", help=N_("Check once, run the job if it is due, and exit.")),
    ] = False,
    poll: Annotated[
        float, typer.Option(min=1, max=3600, help=N_("Seconds between two checks."))
    ] = 60.0,
) -> None:
    """Import and re-score on the strategy file's schedule until stopped (Ctrl+C)."""
    settings = state.settings()
    _ = state.gettext()
    engine = engine_from_settings(settings)
    ensure_current(engine)

    def clock() -> dt.datetime:
        return settings.now()

    with session_factory(engine)() as session:
        reap(session, clock())  # a job of a worker or server that was killed: failed

    def report(job: JobOut) -> None:
        if job.state == "done":
            typer.echo(
                _("Scheduled job {id} done: snapshot {snapshot}.").format(
                    id=job.id, snapshot=job.snapshot_id
                )
            )
        else:
            typer.echo(
                _("Scheduled job {id} failed: {message}").format(id=job.id, message=job.message)
                + (f"\n{job.detail}" if job.detail else ""),
                err=True,
            )

    if once:
        job = run_due(engine, settings, clock)
        if job is None:
            typer.echo(
                _("Nothing due: the next scheduled run is at {when}.").format(
                    when=f"{next_run(engine, clock()):%Y-%m-%d %H:%M}"
                )
            )
            return
        report(job)
        raise typer.Exit(0 if job.state == "done" else 1)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_args: stop.set())
    typer.echo(
        _("Worker started: the next scheduled run is at {when} (Ctrl+C to stop).").format(
            when=f"{next_run(engine, clock()):%Y-%m-%d %H:%M}"
        )
    )
    try:
        run_worker(engine, settings, clock, stop=stop, poll_seconds=poll, report=report)
    except KeyboardInterrupt:
        stop.set()
