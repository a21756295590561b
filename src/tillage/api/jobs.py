"""/api/v1/jobs: background jobs (admins): start a re-score, follow its progress, list the
latest jobs. The Data page's button and progress bar are this route's twins
(:mod:`tillage.services.jobs`: one job at a time, a killed job leaves the store as it was).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import Path, Query
from pydantic import BaseModel

from tillage.services.freshness import Freshness, freshness
from tillage.services.jobs import JobOut, job_list, job_status, start_rescore
from tillage.serving.auth import AdminRole, CurrentUser, protected_router
from tillage.serving.deps import LanguageDep, SessionDep, SettingsDep
from tillage.serving.errors import ErrorResponse

router = protected_router(prefix="/api/v1/jobs", tags=["jobs"], dependencies=[AdminRole])


class JobIn(BaseModel):
    """The job to start: ``rescore`` (score every account now, as ``tillage score``)."""

    kind: Literal["rescore"] = "rescore"


def _clock(settings) -> dt.datetime:  # type: ignore[no-untyped-def]
    return settings.now()


@router.post(
    "",
    status_code=202,
    responses={409: {"model": ErrorResponse, "description": "A job is queued or running"}},
)
def post_job(
    session: SessionDep,
    settings: SettingsDep,
    principal: CurrentUser,
    lang: LanguageDep,
    body: JobIn,
) -> JobOut:
    """Start a re-score in the background (admins); poll ``GET /api/v1/jobs/{id}``. Answers 409
    while another job is queued or running."""
    return start_rescore(
        session,
        settings,
        principal,
        now=_clock(settings),
        clock=lambda: _clock(settings),
        lang=lang,
    )


@router.get("")
def get_jobs(
    session: SessionDep,
    settings: SettingsDep,
    lang: LanguageDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
) -> list[JobOut]:
    """The latest jobs, newest first; a failed one says why in ``message`` (in the user's
    language; ``detail`` the technical message)."""
    return job_list(session, now=_clock(settings), limit=limit, lang=lang)


@router.get("/{job_id}", responses={404: {"model": ErrorResponse}})
def get_job(
    session: SessionDep,
    settings: SettingsDep,
    lang: LanguageDep,
    job_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
) -> JobOut:
    """One job: its state, ``progress`` (0–1) and the step running; a failed one says what
    failed in ``message`` (in the user's language) with the technical ``detail``."""
    return job_status(session, job_id, now=_clock(settings), lang=lang)


freshness_router = protected_router(prefix="/api/v1/freshness", tags=["snapshots"])


@freshness_router.get("")
def get_freshness(session: SessionDep, settings: SettingsDep) -> Freshness:
    """Whether the scores are stale (every page's banner): the newest snapshot older than the
    strategy's ``schedule.rescore_every_days``, written before the latest import, or missing."""
    return freshness(session, _clock(settings))
