"""/api/v1/accounts/{account_id}/notes: the notes on an account (:mod:`tillage.services.notes` —
who may read and write them). Everyone who may see the account reads its notes; every role but
finance adds them; a note is changed by its author or an admin; each change is audit-logged."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Request
from pydantic import BaseModel, Field

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
