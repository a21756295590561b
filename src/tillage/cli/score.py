"""``tillage score``: score every account as of a date and keep the result as a snapshot."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer
from rich.console import Console

from tillage.cli.context import state
from tillage.report.summary import zone_table
from tillage.store.access import everything
from tillage.store.database import engine_from_settings, ensure_current, session_factory
from tillage.store.snapshots import zone_totals
from tillage.strategy.scoring import run_scoring


def score(
    as_of: Annotated[
        str | None,
        typer.Option(help="Business date to score as of (YYYY-MM-DD); default: today."),
    ] = None,
    label: Annotated[str, typer.Option(help="A label stored with the snapshot.")] = "",
) -> None:
    """Score every account in the store and write an immutable snapshot."""
    settings = state.settings()
    _ = state.gettext()
    now = dt.datetime.now(settings.zone).replace(tzinfo=None)
    try:
        date = dt.date.fromisoformat(as_of) if as_of else now.date()
    except ValueError as exc:
        raise typer.BadParameter(f"{as_of!r} is not a date like 2026-09-30") from exc
    engine = engine_from_settings(settings)
    ensure_current(engine)
    snapshot_id = run_scoring(engine, date, created_at=now, label=label or None)
    with session_factory(engine)() as session:
        Console().print(
            zone_table(
                zone_totals(session, snapshot_id, visible=everything()),
                settings.currency,
                settings.language,
            )
        )
    Console().print(_("Snapshot {id} written as of {date}.").format(id=snapshot_id, date=date))
