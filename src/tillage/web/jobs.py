"""Re-scoring from the Data page: the "re-score now" button and the jobs panel.

The button posts to ``/data/rescore`` (admins), which starts the same job as
``POST /api/v1/jobs`` (:func:`tillage.services.jobs.start_rescore`) and comes back to the Data
page; there ``jobs.js`` polls ``GET /api/v1/jobs/{id}`` (the page's JSON status route) and moves
the progress bar until the job ends, then reloads the page. A job refused because another runs
comes back with a notice. The panel lists the latest jobs, failed ones with their reason.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from fastapi import Request
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session

from tillage.config import Settings
from tillage.errors import Busy
from tillage.services.job_text import step_labels
from tillage.services.jobs import JobOut, job_list, start_rescore
from tillage.services.schedule import next_run
from tillage.services.strategy import strategy_in_force
from tillage.serving.auth import AdminRole, CurrentUser, protected_router
from tillage.serving.deps import SessionDep, SettingsDep
from tillage.web.render import forget_freshness

router = protected_router(include_in_schema=False, dependencies=[AdminRole])
SHOWN_JOBS = 5


def clock(settings: Settings) -> Callable[[], dt.datetime]:
    """The business time zone's wall clock, as the jobs' times are kept."""
    return settings.now


def jobs_context(session: Session, settings: Settings, lang: str) -> dict[str, object]:
    """What the Data page shows of the jobs: the latest ones, the one running (if any) and the
    labels of the steps."""
    now = clock(settings)()
    jobs: list[JobOut] = job_list(session, now=now, limit=SHOWN_JOBS, lang=lang)
    running = next((j for j in jobs if j.state in ("queued", "running")), None)
    engine = session.get_bind()
    return {
        "jobs": jobs,
        "running_job": running,
        "step_labels": step_labels(lang),
        "schedule": strategy_in_force(session).schedule,
        "next_run": max(next_run(engine, now), now),  # type: ignore[arg-type]
    }


@router.post("/data/rescore")
def rescore_now(
    request: Request, session: SessionDep, settings: SettingsDep, principal: CurrentUser
) -> RedirectResponse:
    """Start a re-score (as ``POST /api/v1/jobs``), then back to the Data page, which shows its
    progress; when a job runs already, the page says so."""
    now = clock(settings)
    try:
        job = start_rescore(session, settings, principal, now=now(), clock=now)
    except Busy:
        return RedirectResponse("/data?notice=busy#jobs", status_code=303)
    forget_freshness(request)  # every page's banner shows the job's progress at once
    return RedirectResponse(f"/data?job={job.id}#jobs", status_code=303)
