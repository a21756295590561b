"""The imports log (``imports``): one row per import that wrote data, newest first."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from tillage.store.schema import Import


def list_imports(session: Session, *, limit: int = 100, offset: int = 0) -> Sequence[Import]:
    """Logged imports, newest first."""
    return session.scalars(
        select(Import).order_by(Import.id.desc()).limit(limit).offset(offset)
    ).all()
