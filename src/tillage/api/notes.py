"""/api/v1/accounts/{account_id}/notes and /activities: the notes on an account
(:mod:`tillage.services.notes` — who may read and write them) and activities logged from tillage
(:mod:`tillage.services.activities`). Everyone who may see the account reads its notes; every
role but finance adds them; a note is changed by its author or an admin; the sales roles and
customer success log activities; each change is audit-logged."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import Path, Request
from pydantic import BaseModel, Field

from tillage.services.activities import ActivityOut, log_activity
from tillage.services.notes import MAX_LENGTH, NoteOut, account_notes, add_note, edit_note
from tillage.serving.auth import CurrentUser, VisibleAccounts, client_address, protected_router
from tillage.serving.deps import SessionDep
from tillage.serving.errors import ErrorResponse
from tillage.store.users import utcnow

router = protected_router(prefix="/api/v1/accounts", tags=["notes"])
NOT_FOUND = {404: {"model": ErrorResponse, "description": "No such account that you may see"}}
AccountId = Annotated[int, Path(ge=1, le=2**31 - 1)]


class NoteIn(BaseModel):
    """A note's text (1 to 4,000 characters; surrounding spaces are dropped)."""

    text: str = Field(min_length=1, max_length=MAX_LENGTH)


@router.get("/{account_id}/notes", responses=NOT_FOUND)
def get_notes(
    session: SessionDep, visible: VisibleAccounts, account_id: AccountId
) -> list[NoteOut]:
    """The account's notes, newest first."""
    return account_notes(session, visible, account_id)


@router.post("/{account_id}/notes", status_code=201, responses=NOT_FOUND)
def post_note(
    request: Request,
    session: SessionDep,
    principal: CurrentUser,
    account_id: AccountId,
    body: NoteIn,
) -> NoteOut:
    """Add a note to an account the caller may see (not finance: read-only)."""
    return add_note(
        session, principal, account_id, body.text, now=utcnow(), client=client_address(request)
    )


@router.patch("/{account_id}/notes/{note_id}", responses=NOT_FOUND)
def patch_note(
    request: Request,
    session: SessionDep,
    principal: CurrentUser,
    account_id: AccountId,
    note_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    body: NoteIn,
) -> NoteOut:
    """Change a note's text (its author or an admin)."""
    return edit_note(
        session,
        principal,
        account_id,
        note_id,
        body.text,
        now=utcnow(),
        client=client_address(request),
    )


class ActivityIn(BaseModel):
    """An activity to log: its type, when it happened (business-local time), minutes, subject."""

    type: Literal["meeting", "call", "email", "visit", "qbr"]
    occurred_at: dt.datetime
    duration_minutes: float | None = Field(default=None, ge=0, le=1440)
    subject: str | None = Field(default=None, max_length=300)


@router.post("/{account_id}/activities", status_code=201, responses=NOT_FOUND)
def post_activity(
    request: Request,
    session: SessionDep,
    principal: CurrentUser,
    account_id: AccountId,
    body: ActivityIn,
) -> ActivityOut:
    """Log a call, meeting, e-mail, visit or business review on an account the caller may see
    (admin, manager, rep, customer success)."""
    return log_activity(
        session,
        principal,
        account_id,
        type=body.type,
        occurred_at=body.occurred_at.replace(tzinfo=None),
        subject=body.subject,
        duration_minutes=body.duration_minutes,
        now=utcnow(),
        client=client_address(request),
    )
