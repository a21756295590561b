"""Account notes: what a user wrote about an account, shared by everyone who may see it.

A note belongs to an account and its author (user id, and the login as it was when written, so a
deleted user's notes still say who wrote them). Notes are never deleted by tillage; every
addition and change is in the audit log (``note.add``, ``note.edit``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tillage.store.access import AccountFilter
from tillage.store.records import AccountNote
from tillage.store.schema import Account

__all__ = ["AccountNote", "latest_notes", "notes_of", "visible_account"]


def visible_account(session: Session, visible: AccountFilter, account_id: int) -> Account | None:
    """The account ``account_id`` if ``visible`` lets it through, else None."""
    return session.scalars(select(Account).where(visible, Account.id == account_id)).first()


def notes_of(session: Session, account_id: int) -> Sequence[AccountNote]:
    """Every note of ``account_id``, newest first."""
    query = (
        select(AccountNote)
        .where(AccountNote.account_id == account_id)
        .order_by(AccountNote.created_at.desc(), AccountNote.id.desc())
    )
    return session.scalars(query).all()


def latest_notes(
    session: Session, account_ids: Iterable[int], *, per_account: int
) -> tuple[dict[int, list[AccountNote]], dict[int, int]]:
    """The newest ``per_account`` notes of each of ``account_ids`` (newest first) and each
    account's number of notes, for lists that show a few notes per account."""
    ids = sorted(set(account_ids))
    if not ids:
        return {}, {}
    rank = (
        func.row_number()
        .over(
            partition_by=AccountNote.account_id,
            order_by=(AccountNote.created_at.desc(), AccountNote.id.desc()),
        )
        .label("rank")
    )
    counts: dict[int, int] = {}
    newest: dict[int, list[AccountNote]] = {}
    for chunk in range(0, len(ids), 900):  # SQLite's bound-parameter limit
        part = ids[chunk : chunk + 900]
        ranked = (
            select(AccountNote.id, rank, func.count().over(partition_by=AccountNote.account_id))
            .where(AccountNote.account_id.in_(part))
            .subquery()
        )
        rows = session.execute(
            select(AccountNote, ranked.c[2])
            .join(ranked, ranked.c.id == AccountNote.id)
            .where(ranked.c.rank <= per_account)
            .order_by(AccountNote.account_id, ranked.c.rank)
        ).all()
        for note, count in rows:
            newest.setdefault(note.account_id, []).append(note)
            counts[note.account_id] = int(count)
    return newest, counts
