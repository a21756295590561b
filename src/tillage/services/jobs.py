"""Background jobs: a re-score started from the Data page or ``POST /api/v1/jobs``, and the
scheduled import and re-score of ``tillage worker`` (:mod:`tillage.services.schedule`).

A job is a row of ``jobs`` (:mod:`tillage.store.work`) and a separate process,
``python -m tillage.services.job_runner <id>``, that runs it: the scoring (CPU-bound for
seconds to minutes) never holds the server's threads or its interpreter lock, and the page polls
the row (``GET /api/v1/jobs/{id}``) for the progress bar. One job at a time: starting one while
another is queued or running is refused (:class:`~tillage.errors.Busy`).

What a killed job leaves: the scoring run writes its snapshot in one transaction
(:func:`tillage.store.snapshots.write_snapshot`), an import too, so a job killed at any moment
leaves the store as it was. Its row says ``running`` with the process that ran it
(``runner``, host and process id); :func:`reap` turns such a row into ``failed`` when that
process is gone, so the next job can start and the Data page says what happened.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Callable

from pydantic import BaseModel
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from tillage.config import Settings, settings_environment
from tillage.errors import Busy, NotFoundError
from tillage.services.job_text import failure_parts, failure_sentence, failure_text
from tillage.store.access import Principal
from tillage.store.users import audit
from tillage.store.work import ACTIVE_STATES, Job, active_job, recent_jobs
from tillage.timestamps import LocalTimestamp

__all__ = [
    "JobOut",
    "finish_job",
    "job_list",
    "job_status",
    "launch",
    "queue_job",
    "reap",
    "runner_id",
    "running_job",
    "set_progress",
    "start_rescore",
]

STDERR_KEPT = 2000  # characters of a crashed runner's error output kept as the job's message


class JobOut(BaseModel):
    """A job as the API and the Data page show it: ``state`` queued, running, done or failed;
    ``progress`` the fraction done (0–1); ``step`` the step running (a scoring step of
    :data:`tillage.services.scoring.STEPS`, or ``import``) or, for a failed job, ``None``;
    ``snapshot_id`` the snapshot a finished re-score wrote. A failed job says why in
    ``message``, a sentence in the user's language naming what failed, with ``failure`` the
    step that failed (``import``, ``start``, a scoring step, or ``interrupted`` / ``stopped``
    when its process ended under it) and ``detail`` the error's technical message
    (:mod:`tillage.services.job_text`)."""

    id: int
    kind: str
    state: str
    progress: float
    step: str | None
    message: str | None
    failure: str | None = None
    detail: str | None = None
    created_at: LocalTimestamp
    started_at: LocalTimestamp | None
    finished_at: LocalTimestamp | None
    user: str | None
    snapshot_id: int | None


def _out(job: Job, lang: str) -> JobOut:
    failed = job.state == "failed"
    what, detail = failure_parts(job.message) if failed else (None, None)
    return JobOut(
        id=job.id,
        kind=job.kind,
        state=job.state,
        progress=float(job.progress or 0.0),
        step=None if failed or job.state == "done" else job.message,
        message=failure_sentence(what, lang) if failed else None,
        failure=what,
        detail=detail,
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
        user=job.user_login,
        snapshot_id=job.snapshot_id,
    )


def runner_id(pid: int | None = None) -> str:
    """This host and process (or ``pid``) as a job's ``runner``."""
    return f"{socket.gethostname()}:{pid or os.getpid()}"


def _alive(runner: str | None) -> bool:
    """Whether the process ``runner`` names still runs; a process on another host is taken to
    (only its own host can tell)."""
    if not runner:
        return True
    host, _sep, pid = runner.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process of that number: it runs
        return True
    return True


def reap(session: Session, now: dt.datetime) -> None:
    """Mark ``failed`` the queued or running jobs whose process is gone (killed, or the server
    stopped under it); committed."""
    stale = session.scalars(select(Job).where(Job.state.in_(ACTIVE_STATES))).all()
    for job in stale:
        if not _alive(job.runner):
            job.state = "failed"
            job.finished_at = now
            job.message = failure_text(
                "interrupted", "the process running the job stopped before it finished"
            )
    if stale:
        session.commit()


def queue_job(session: Session, principal: Principal | None, *, kind: str, now: dt.datetime) -> Job:
    """A new ``queued`` job of ``kind`` started by ``principal`` (``None``: the scheduler),
    audit-logged (``job.start``) and committed; :class:`Busy` when one is queued or running."""
    reap(session, now)
    running = active_job(session)
    if running is not None:
        raise Busy(f"job {running.id} ({running.kind}) is {running.state}: wait until it ends")
    job = Job(
        kind=kind,
        state="queued",
        progress=0.0,
        created_at=now,
        user_id=principal.user_id if principal else None,
        user_login=principal.login if principal else None,
        runner=runner_id(),
    )
    session.add(job)
    session.flush()
    audit(
        session,
        "job.start",
        now=now,
        user_id=principal.user_id if principal else None,
        actor=principal.login if principal else "scheduler",
        object_type="job",
        object_id=job.id,
        detail={"kind": kind},
    )
    session.commit()
    return job


def _wait(
    process: subprocess.Popen[bytes], engine: Engine, job_id: int, clock: Callable[[], dt.datetime]
) -> None:
    """Reap the runner process; if it died without recording an end, record its error output."""
    _out_bytes, err = process.communicate()
    if process.returncode == 0:
        return
    tail = err.decode("utf-8", "replace")[-STDERR_KEPT:].strip()
    reason = f"the job process stopped (exit code {process.returncode})"
    detail = f"{reason}: {tail}" if tail else reason
    finish_job(engine, job_id, now=clock(), error=failure_text("stopped", detail))


def launch(
    engine: Engine, settings: Settings, job: Job, clock: Callable[[], dt.datetime]
) -> subprocess.Popen[bytes]:
    """Start the process that runs ``job`` (:mod:`tillage.services.job_runner`) with the
    settings in its environment, record it as the job's runner, and reap it in a daemon thread
    (which records a crash the runner could not)."""
    env = {**os.environ, **settings_environment(settings)}
    env["TILLAGE_DATABASE_URL"] = settings.resolved_database_url
    process = subprocess.Popen(
        [sys.executable, "-m", "tillage.services.job_runner", str(job.id)],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    with engine.begin() as connection:
        connection.execute(
            update(Job).where(Job.id == job.id).values(runner=runner_id(process.pid))
        )
    threading.Thread(
        target=_wait, args=(process, engine, job.id, clock), daemon=True, name=f"job-{job.id}"
    ).start()
    return process


def start_rescore(
    session: Session,
    settings: Settings,
    principal: Principal,
    *,
    now: dt.datetime,
    clock: Callable[[], dt.datetime],
    lang: str = "en",
) -> JobOut:
    """Queue a re-score (admins: the Data page and ``POST /api/v1/jobs``) and start its
    process; :class:`Busy` when a job is queued or running."""
    job = queue_job(session, principal, kind="rescore", now=now)
    launch(session.get_bind(), settings, job, clock)  # type: ignore[arg-type]
    return _out(job, lang)


def set_progress(
    engine: Engine,
    job_id: int,
    *,
    progress: float,
    step: str,
    started_at: dt.datetime | None = None,
) -> None:
    """Record that ``job_id`` is running ``step``, ``progress`` (0–1) done (and, given, when it
    started); committed at once so a poll sees it."""
    values: dict[str, object] = {"state": "running", "progress": progress, "message": step}
    if started_at is not None:
        values["started_at"] = started_at
    with engine.begin() as connection:
        connection.execute(
            update(Job).where(Job.id == job_id, Job.state.in_(ACTIVE_STATES)).values(**values)
        )


def finish_job(
    engine: Engine,
    job_id: int,
    *,
    now: dt.datetime,
    snapshot_id: int | None = None,
    error: str | None = None,
) -> None:
    """Record the end of ``job_id``: ``done`` (with the ``snapshot_id`` written) or ``failed``
    with ``error`` (:func:`~tillage.services.job_text.failure_text`: what failed and why). A job
    already ended keeps its first end."""
    values: dict[str, object] = {"finished_at": now}
    if error is None:
        values.update(state="done", progress=1.0, message=None, snapshot_id=snapshot_id)
    else:
        values.update(state="failed", message=error[:4000])
    with engine.begin() as connection:
        connection.execute(
            update(Job).where(Job.id == job_id, Job.state.in_(ACTIVE_STATES)).values(**values)
        )


def job_status(session: Session, job_id: int, *, now: dt.datetime, lang: str = "en") -> JobOut:
    """The job ``job_id`` (:class:`NotFoundError` when there is none), a failure's sentence in
    ``lang``."""
    reap(session, now)
    job = session.get(Job, job_id)
    if job is None:
        raise NotFoundError(f"no job {job_id}")
    session.refresh(job)
    return _out(job, lang)


def running_job(engine: Engine, lang: str = "en") -> JobOut | None:
    """The job queued or running now, if any (every page's stale banner shows its progress)."""
    with Session(engine) as session:
        job = active_job(session)
        return None if job is None else _out(job, lang)


def job_list(
    session: Session, *, now: dt.datetime, limit: int = 10, lang: str = "en"
) -> list[JobOut]:
    """The newest ``limit`` jobs, newest first (a job whose process is gone: failed), failures'
    sentences in ``lang``."""
    reap(session, now)
    return [_out(job, lang) for job in recent_jobs(session, limit)]
