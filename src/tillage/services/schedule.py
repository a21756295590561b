"""Scheduled import and re-scoring (``tillage worker``) on the strategy file's ``[schedule]``.

A scheduled run is **due** (:func:`next_run`) at the first ``schedule.at_hour`` o'clock
(business time zone) at or after the moment the scores became stale
(:mod:`tillage.services.freshness`): ``rescore_every_days`` after the newest snapshot was
written, or when an import came after it; at once when there is no snapshot. A run that failed
is tried again :data:`RETRY_AFTER` later at the earliest, not in a loop.

A run is a ``scheduled`` job (:mod:`tillage.services.jobs`): the ``schedule_import`` setting's
file or folder imported (when set), then every account scored, its progress and failure on the
Data page like a re-score started there. A failed run is mailed (:func:`mail_failure`) when
``smtp_host`` and ``notify_to`` are set; the password comes from ``TILLAGE_SMTP_PASSWORD``.

The loop is a plain one (:func:`run_worker`): one check a minute, one job at a time, nothing to
persist but the jobs table — a scheduling library would add a dependency for a single rule.
"""

from __future__ import annotations

import datetime as dt
import smtplib
import socket
import threading
from collections.abc import Callable
from email.message import EmailMessage

from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from tillage.config import Settings
from tillage.errors import Busy
from tillage.services.freshness import freshness
from tillage.services.job_runner import run_job
from tillage.services.job_text import failure_text
from tillage.services.jobs import JobOut, job_status, queue_job
from tillage.services.strategy import strategy_in_force
from tillage.store.work import Job

__all__ = ["RETRY_AFTER", "mail_failure", "next_run", "run_due", "run_worker"]

RETRY_AFTER = dt.timedelta(hours=1)
"""How long after a failed scheduled run the next one may start."""
POLL_SECONDS = 60.0


def _at_hour(moment: dt.datetime, hour: int) -> dt.datetime:
    """The first ``hour`` o'clock at or after ``moment``."""
    slot = moment.replace(hour=hour, minute=0, second=0, microsecond=0)
    return slot if slot >= moment else slot + dt.timedelta(days=1)


def next_run(engine: Engine, now: dt.datetime) -> dt.datetime:
    """When the next scheduled run is due (``now`` or earlier: it is due now); see the module
    doc. Business time zone, like ``now``."""
    fresh = freshness(engine, now)
    schedule = strategy_in_force(engine).schedule
    if fresh.scored_at is None:
        due = now
    else:
        stale_from = fresh.scored_at + dt.timedelta(days=schedule.rescore_every_days)
        if fresh.imported_at is not None and fresh.imported_at > fresh.scored_at:
            stale_from = min(stale_from, fresh.imported_at)
        due = _at_hour(stale_from, schedule.at_hour)
    with Session(engine) as session:
        failed = session.scalar(
            select(Job.finished_at)
            .where(Job.kind == "scheduled", Job.state == "failed")
            .order_by(Job.id.desc())
            .limit(1)
        )
    if failed is not None and failed + RETRY_AFTER > due:
        due = failed + RETRY_AFTER
    return due


def mail_failure(settings: Settings, job: JobOut) -> bool:
    """Mail the failure of ``job`` to ``settings.notify_to`` through ``settings.smtp_host``
    (STARTTLS and login when set); ``False`` when no mail server or recipient is configured."""
    if not settings.smtp_host or not settings.notify_to:
        return False
    recipients = [a.strip() for a in settings.notify_to.split(",") if a.strip()]
    message = EmailMessage()
    message["Subject"] = f"[tillage] scheduled job {job.id} failed"
    message["From"] = settings.mail_from or f"tillage@{socket.getfqdn()}"
    message["To"] = ", ".join(recipients)
    message.set_content(
        f"The scheduled import and re-score (job {job.id}) failed at {job.finished_at}.\n\n"
        f"{job.message}\n{job.detail or ''}\n\n"
        "The pages keep showing the last scores. The Data page lists the job; fix the cause and "
        "re-score there, or wait for the next scheduled run.\n"
    )
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=30) as smtp:
        if settings.smtp_starttls:
            smtp.starttls()
        if settings.smtp_user:
            password = settings.smtp_password.get_secret_value() if settings.smtp_password else ""
            smtp.login(settings.smtp_user, password)
        smtp.send_message(message)
    return True


def run_due(engine: Engine, settings: Settings, clock: Callable[[], dt.datetime]) -> JobOut | None:
    """Run the scheduled import and re-score if it is due (in this process, waiting for its
    end) and mail its failure; the job, or ``None`` when nothing was due or a job runs."""
    now = clock()
    if next_run(engine, now) > now:
        return None
    with Session(engine) as session:
        try:
            job_id = queue_job(session, None, kind="scheduled", now=now).id
        except Busy:
            return None
    run_job(engine, settings, job_id, clock=clock)
    with Session(engine) as session:
        job = job_status(session, job_id, now=clock(), lang=settings.language)
    if job.state == "failed":
        try:
            mail_failure(settings, job)
        except (OSError, smtplib.SMTPException) as exc:  # the failure stays on the Data page
            detail = f"{job.detail}\n(the failure mail could not be sent: {exc})"
            note = failure_text(job.failure, detail) if job.failure else detail
            with engine.begin() as connection:
                connection.execute(update(Job).where(Job.id == job_id).values(message=note))
            job = job.model_copy(update={"detail": detail})
    return job


def run_worker(
    engine: Engine,
    settings: Settings,
    clock: Callable[[], dt.datetime],
    *,
    stop: threading.Event,
    poll_seconds: float = POLL_SECONDS,
    report: Callable[[JobOut], None] | None = None,
) -> None:
    """Check every ``poll_seconds`` whether a scheduled run is due and run it, until ``stop``
    is set; ``report`` is told of every run."""
    while not stop.is_set():
        job = run_due(engine, settings, clock)
        if job is not None and report is not None:
            report(job)
        stop.wait(poll_seconds)
