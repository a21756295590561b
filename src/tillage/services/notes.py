"""Notes on an account (``/api/v1/accounts/{id}/notes``, the account page, the account 360 and
the departure handover).

A note is shared: everyone who may see the account (:func:`tillage.store.access.account_filter`)
reads its notes, whatever their role — the relationship should not live in one person's head.
Who may write:

- any user whose role holds the ``write`` scope (admin, manager, rep, success, marketing) may add
  a note to an account they may see; another account is :class:`~tillage.errors.NotFoundError`,
  as if it did not exist;
- finance / executive users are read-only (:class:`~tillage.errors.PermissionDenied`);
- a note is changed only by its author or an admin.

Every addition and change is written to the audit log (``note.add``, ``note.edit``, with the
text before and after), in the same transaction as the note.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from tillage.errors import NotFoundError, ParameterError, PermissionDenied
from tillage.store.access import AccountFilter, Principal, account_filter
from tillage.store.audit import audit_by
from tillage.store.notes import AccountNote, latest_notes, notes_of, visible_account
from tillage.store.schema import User
from tillage.timestamps import UtcTimestamp

__all__ = [
    "MAX_LENGTH",
    "NoteOut",
    "account_notes",
    "add_note",
    "edit_note",
    "handover_notes",
    "notes_list",
]

MAX_LENGTH = 4000
"""The longest note, in characters."""


class NoteOut(BaseModel):
    """A note on an account: its text, its author's login, and when it was written and last
    changed (UTC)."""

    id: int
    account_id: int
    author: str
    """The author's login as it was when they wrote the note."""
    author_name: str
    """The author's display name now (their login when the user is gone)."""
    text: str
    created_at: UtcTimestamp
    updated_at: UtcTimestamp
    edited: bool


def author_names(session: Session, notes: Iterable[AccountNote]) -> dict[int, str]:
    """The display names of the authors of ``notes`` still in the store, by user id."""
    ids = {n.author_id for n in notes if n.author_id is not None}
    if not ids:
        return {}
    rows = session.execute(select(User.id, User.display_name).where(User.id.in_(ids))).all()
    return {int(i): str(name) for i, name in rows if name}


def note_out(note: AccountNote, names: dict[int, str] | None = None) -> NoteOut:
    """``note`` as the API shows it; ``names``: authors' display names by user id."""
    return NoteOut(
        id=note.id,
        account_id=note.account_id,
        author=note.author_login,
        author_name=(names or {}).get(note.author_id or -1, note.author_login),
        text=note.text,
        created_at=note.created_at,
        updated_at=note.updated_at,
        edited=note.updated_at != note.created_at,
    )


def _writer(principal: Principal) -> None:
    if "write" not in principal.scopes:
        raise PermissionDenied(
            f"a {principal.role} user (or a read-only token) may read notes but not write them"
        )


def _text(text: str) -> str:
    clean = (text or "").strip()
    if not clean:
        raise ParameterError("a note needs some text")
    if len(clean) > MAX_LENGTH:
        raise ParameterError(f"a note is at most {MAX_LENGTH} characters (this one {len(clean)})")
    return clean


def _seen(session: Session, visible: AccountFilter, account_id: int) -> None:
    if visible_account(session, visible, account_id) is None:
        raise NotFoundError(f"no account with id {account_id} that you may see")


def account_notes(session: Session, visible: AccountFilter, account_id: int) -> list[NoteOut]:
    """The notes of ``account_id``, newest first (NotFoundError outside the caller's reach)."""
    _seen(session, visible, account_id)
    return notes_list(session, account_id)


def notes_list(session: Session, account_id: int) -> list[NoteOut]:
    """Every note of ``account_id``, newest first, with their authors' names (no reach check:
    the caller has checked the account is visible)."""
    notes = notes_of(session, account_id)
    names = author_names(session, notes)
    return [note_out(n, names) for n in notes]


def add_note(
    session: Session,
    principal: Principal,
    account_id: int,
    text: str,
    *,
    now: dt.datetime,
    client: str | None = None,
) -> NoteOut:
    """Add a note with ``text`` to ``account_id`` as ``principal``; audited and committed.
    Refusals: a read-only caller (PermissionDenied), an account out of reach (NotFoundError),
    an empty or too long text (ParameterError)."""
    _writer(principal)
    _seen(session, account_filter(principal), account_id)
    clean = _text(text)
    note = AccountNote(
        account_id=account_id,
        author_id=principal.user_id,
        author_login=principal.login,
        text=clean,
        created_at=now,
        updated_at=now,
    )
    session.add(note)
    session.flush()
    audit_by(
        session,
        principal,
        "note.add",
        now=now,
        client=client,
        object_type="account",
        object_id=account_id,
        detail={"note_id": note.id, "text": clean},
    )
    session.commit()
    return note_out(note, author_names(session, [note]))


def edit_note(
    session: Session,
    principal: Principal,
    account_id: int,
    note_id: int,
    text: str,
    *,
    now: dt.datetime,
    client: str | None = None,
) -> NoteOut:
    """Replace the text of note ``note_id`` of ``account_id``: its author or an admin only
    (another user's note: PermissionDenied; a note of an account out of reach: NotFoundError);
    audited with the text before and after, and committed."""
    _writer(principal)
    _seen(session, account_filter(principal), account_id)
    note = session.get(AccountNote, note_id)
    if note is None or note.account_id != account_id:
        raise NotFoundError(f"account {account_id} has no note {note_id}")
    mine = principal.user_id is not None and note.author_id == principal.user_id
    if not (mine or principal.is_admin):
        raise PermissionDenied("only a note's author or an admin may change it")
    clean = _text(text)
    before = note.text
    note.text, note.updated_at = clean, now
    audit_by(
        session,
        principal,
        "note.edit",
        now=now,
        client=client,
        object_type="account",
        object_id=account_id,
        detail={"note_id": note.id, "before": before, "text": clean},
    )
    session.commit()
    return note_out(note, author_names(session, [note]))


def handover_notes(
    session: Session, account_ids: list[int], *, per_account: int = 3
) -> tuple[dict[int, list[NoteOut]], dict[int, int]]:
    """The newest ``per_account`` notes of each account (for a handover list) and each
    account's number of notes; the caller has already limited ``account_ids`` to what it may
    see."""
    newest, counts = latest_notes(session, account_ids, per_account=per_account)
    names = author_names(session, [n for ns in newest.values() for n in ns])
    return {a: [note_out(n, names) for n in ns] for a, ns in newest.items()}, counts
