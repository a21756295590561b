"""What the users do from the pages beside the scoring: background jobs (a re-score or a
scheduled import started from the Data page or by ``tillage worker``) and the marks a rep puts on
a planned action (done, or skipped with a note).

A **job** moves ``queued`` → ``running`` → ``done`` or ``failed``; ``progress`` is the fraction
done (0–1), ``message`` the step running or, for a failed job, why it failed. Times are the
business time zone's wall clock, like the import log's. At most one job is queued or running at a
time (:func:`active_job`): a second request is refused.

A **mark** belongs to a planned action as the plans name it — the account, the month and the
action — not to one snapshot's row, so a mark made on one snapshot's plan still counts when the
account is re-scored and the plan of the month is written again. One mark per action: a new mark
replaces the old one (the audit log keeps every change).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import (
    ColumnElement,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    select,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from tillage.store.base import Base, account_fk
from tillage.store.records import SnapshotAction

JOB_KINDS: tuple[str, ...] = ("rescore", "scheduled")
"""``rescore``: a scoring run started by a user; ``scheduled``: the worker's import and re-score."""
JOB_STATES: tuple[str, ...] = ("queued", "running", "done", "failed")
ACTIVE_STATES: tuple[str, ...] = ("queued", "running")
MARKS: tuple[str, ...] = ("done", "skipped")


class Job(Base):
    """A background job and how far it got (``progress`` a fraction 0–1)."""

    __tablename__ = "jobs"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    state: Mapped[str] = mapped_column(String(20), index=True)
    progress: Mapped[float] = mapped_column(Float, server_default="0")
    message: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    started_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    user_login: Mapped[str | None] = mapped_column(String(320))
    runner: Mapped[str | None] = mapped_column(String(300))
    """The host and process id running the job (``host:pid``)."""
    snapshot_id: Mapped[int | None] = mapped_column(Integer)
    """The snapshot a finished re-score wrote (not a foreign key: a snapshot may be deleted)."""


class ActionMark(Base):
    """A planned action marked ``done`` or ``skipped`` (with a ``note``) by ``marked_by``."""

    __tablename__ = "action_marks"
    __table_args__ = (UniqueConstraint("account_id", "month", "action"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = account_fk()
    month: Mapped[dt.date] = mapped_column(Date)
    action: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(10))
    note: Mapped[str | None] = mapped_column(Text)
    marked_at: Mapped[dt.datetime] = mapped_column(DateTime)
    marked_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    marked_by_login: Mapped[str] = mapped_column(String(320))


def mark_of_action() -> ColumnElement[bool]:
    """The join condition of a planned action (``snapshot_actions``) and its mark."""
    return (
        (ActionMark.account_id == SnapshotAction.account_id)
        & (ActionMark.month == SnapshotAction.month)
        & (ActionMark.action == SnapshotAction.action)
    )


def active_job(session: Session) -> Job | None:
    """The job queued or running now, if any."""
    query = select(Job).where(Job.state.in_(ACTIVE_STATES)).order_by(Job.id).limit(1)
    return session.scalars(query).first()


def recent_jobs(session: Session, limit: int = 10) -> Sequence[Job]:
    """The newest ``limit`` jobs, newest first."""
    return session.scalars(select(Job).order_by(Job.id.desc()).limit(limit)).all()


def marks_between(
    session: Session, first: dt.date, last: dt.date, account_ids: Sequence[int] | None = None
) -> Sequence[ActionMark]:
    """The marks of the actions planned for the months ``first`` … ``last`` (of
    ``account_ids`` when given)."""
    query = select(ActionMark).where(ActionMark.month >= first, ActionMark.month <= last)
    if account_ids is not None:
        query = query.where(ActionMark.account_id.in_(list(account_ids)))
    return session.scalars(query).all()


__all__ = [
    "ACTIVE_STATES",
    "JOB_KINDS",
    "JOB_STATES",
    "MARKS",
    "ActionMark",
    "Job",
    "active_job",
    "mark_of_action",
    "marks_between",
    "recent_jobs",
]
