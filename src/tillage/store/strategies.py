"""Saved versions of the strategy file: the newest row of ``strategy_versions`` is in force.

The store keeps the TOML text as written (comments included) with its SHA-256, who saved it and
why; validating the text is the caller's job (:mod:`tillage.strategy.config` sits above the
store). Saving appends a row, never edits one, so the table is the edit history, and each save is
audit-logged (``strategy.update``) in the caller's transaction. Times are naive UTC; nothing
here reads the clock.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from tillage.errors import NotFoundError
from tillage.store.access import Principal
from tillage.store.schema import StrategyVersion, User
from tillage.store.users import audit


@dataclass(frozen=True)
class StrategyInfo:
    """One saved version: ``sha256`` of its text (what a snapshot's ``strategy_hash`` names),
    when (UTC) and by whom (login; ``None`` for the command line) it was saved, and why."""

    id: int
    created_at: dt.datetime
    created_by: str | None
    sha256: str
    comment: str | None
    text: str


def text_hash(text: str) -> str:
    """SHA-256 (hex) of the strategy text's UTF-8 bytes."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _select():  # type: ignore[no-untyped-def]
    return select(StrategyVersion, User.login).outerjoin(
        User, User.id == StrategyVersion.created_by
    )


def _info(version: StrategyVersion, login: str | None) -> StrategyInfo:
    return StrategyInfo(
        id=version.id,
        created_at=version.created_at,
        created_by=login,
        sha256=version.sha256,
        comment=version.comment,
        text=version.text,
    )


def save_strategy(
    session: Session,
    text: str,
    *,
    now: dt.datetime,
    by: Principal | None = None,
    comment: str | None = None,
    client: str | None = None,
) -> StrategyInfo:
    """Append ``text`` (already validated) as the strategy in force, and audit-log it."""
    version = StrategyVersion(
        created_at=now,
        created_by=by.user_id if by else None,
        sha256=text_hash(text),
        text=text,
        comment=comment,
    )
    session.add(version)
    session.flush()
    audit(
        session,
        "strategy.update",
        now=now,
        user_id=by.user_id if by else None,
        actor=by.login if by else None,
        client=client,
        object_type="strategy_version",
        object_id=version.id,
        detail={"sha256": version.sha256, "comment": comment},
    )
    return _info(version, by.login if by and by.user_id is not None else None)


def current_strategy(session: Session) -> StrategyInfo | None:
    """The newest saved version, or ``None`` while none was saved (the defaults apply)."""
    row = session.execute(_select().order_by(StrategyVersion.id.desc()).limit(1)).first()
    return None if row is None else _info(*row)


def strategy_versions(session: Session, *, limit: int = 100) -> list[StrategyInfo]:
    """Saved versions, newest first."""
    rows = session.execute(_select().order_by(StrategyVersion.id.desc()).limit(limit))
    return [_info(*row) for row in rows]


def strategy_version(session: Session, version_id: int) -> StrategyInfo:
    """One saved version; :class:`NotFoundError` when there is none with that id."""
    row = session.execute(_select().where(StrategyVersion.id == version_id)).first()
    if row is None:
        raise NotFoundError(f"strategy version {version_id} does not exist")
    return _info(*row)
