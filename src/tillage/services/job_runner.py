"""The process that runs one background job: ``python -m tillage.services.job_runner <id>``.

Started by :func:`tillage.services.jobs.launch` (the server) or run in-process by
``tillage worker`` (:func:`run_job`). Settings come from the ``TILLAGE_*`` environment. A
``rescore`` job runs :func:`tillage.services.scoring.run_scoring` as of the store's last day of
data (:func:`~tillage.services.scoring.default_as_of`); a ``scheduled`` job first imports the
``schedule_import`` setting's file or folder when one is set. Progress is the share of the steps
done: the import (when there is one) counts as :data:`IMPORT_SHARE` of the job, each scoring
step (:data:`~tillage.services.scoring.STEPS`) an equal part of the rest.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Callable

from sqlalchemy import Engine

from tillage.config import Settings
from tillage.errors import TillageError
from tillage.ingest import import_path
from tillage.ingest.currency import parse_rates
from tillage.services.job_text import failure_text
from tillage.services.jobs import finish_job, set_progress
from tillage.services.scoring import STEPS, default_as_of, run_scoring
from tillage.services.strategy import resolve_strategy
from tillage.store.database import engine_from_settings, ensure_current
from tillage.store.work import Job

IMPORT_SHARE = 0.3
"""The part of a scheduled job's progress bar its import takes."""


def _now(settings: Settings) -> dt.datetime:
    return settings.now()


def scheduled_import(engine: Engine, settings: Settings, now: dt.datetime) -> None:
    """Import ``settings.schedule_import`` (all rows or none) as the scheduler would."""
    assert settings.schedule_import is not None
    strategy = resolve_strategy(engine)[0]
    import_path(
        engine,
        settings.schedule_import,
        as_of=now.date(),
        imported_at=now,
        imported_by="scheduler",
        mapping=settings.schedule_import_mapping,
        timezone=settings.timezone,
        currency=settings.currency,
        rates=parse_rates([r.model_dump() for r in strategy.exchange_rates], "the strategy"),
        lang=settings.language,
    )


def run_job(
    engine: Engine,
    settings: Settings,
    job_id: int,
    *,
    clock: Callable[[], dt.datetime] | None = None,
) -> bool:
    """Run the job ``job_id`` and record its end; ``True`` when it is done. Any error is caught
    and recorded as the job's failure: the step that was running and the error's message (with
    the exception's class for an unexpected one), so the caller's process keeps running."""
    now = clock or (lambda: _now(settings))
    with engine.connect() as connection:
        kind = connection.execute(Job.__table__.select().where(Job.id == job_id)).one().kind
    with_import = kind == "scheduled" and settings.schedule_import is not None
    start = IMPORT_SHARE if with_import else 0.0
    steps = {name: start + (1 - start) * i / len(STEPS) for i, name in enumerate(STEPS)}
    running = ["start"]  # the step under way, named in a failure

    def step(name: str, progress: float, started_at: dt.datetime | None = None) -> None:
        running[0] = name
        set_progress(engine, job_id, progress=progress, step=name, started_at=started_at)

    try:
        ensure_current(engine)
        step("start", 0.0, started_at=now())
        if with_import:
            step("import", 0.0)
            scheduled_import(engine, settings, now())
            running[0] = "start"
        as_of, _reason = default_as_of(engine, now().date())
        step(STEPS[0], start)
        snapshot_id = run_scoring(
            engine,
            as_of,
            created_at=now(),
            label="scheduled" if kind == "scheduled" else "rescore",
            progress=lambda name: step(name, steps.get(name, start)),
        )
    except TillageError as exc:
        finish_job(engine, job_id, now=now(), error=failure_text(running[0], str(exc)))
        return False
    except Exception as exc:
        detail = f"{type(exc).__name__}: {exc}"
        finish_job(engine, job_id, now=now(), error=failure_text(running[0], detail))
        return False
    finish_job(engine, job_id, now=now(), snapshot_id=snapshot_id)
    return True


def main(argv: list[str] | None = None) -> int:
    """Run the job named on the command line; exit 0 when done, 1 when it failed."""
    args = sys.argv[1:] if argv is None else argv
    settings = Settings()
    engine = engine_from_settings(settings)
    try:
        return 0 if run_job(engine, settings, int(args[0])) else 1
    finally:
        engine.dispose()


if __name__ == "__main__":
    raise SystemExit(main())
