"""Which reps a caller may ask about, and which roles may call a route.

A rep-scoped route (a plan, a 1on1 agenda, a departure) names a rep by key or id. An admin may
name any rep, a manager the reps in their reach (:func:`tillage.store.access.reach_ids`), a rep
only themselves; naming anyone else answers **404**, exactly like a rep that does not exist, so
the answer never tells who exists outside the caller's reach.
"""

from __future__ import annotations

from typing import Any

from fastapi import Depends
from sqlalchemy.orm import Session

from tillage.api.auth import CurrentUser
from tillage.errors import NotFoundError, PermissionDenied
from tillage.store.access import Principal, reach_ids
from tillage.store.plans import find_rep
from tillage.store.schema import Rep


def rep_in_reach(session: Session, principal: Principal, rep: str) -> Rep:
    """The rep ``rep`` (key, or id when a number) if ``principal`` may ask about them, else
    :class:`NotFoundError` (the same answer as for a rep that does not exist)."""
    try:
        found = find_rep(session, rep)
    except NotFoundError:
        found = None
    reach = reach_ids(session, principal)
    if found is None or (reach is not None and found.id not in reach):
        raise NotFoundError(f"no rep with key or id {rep!r} that you may see")
    return found


def roles(*allowed: str) -> Any:
    """A route dependency: only callers with one of the ``allowed`` roles (else 403)."""

    async def check(principal: CurrentUser) -> Principal:
        if principal.role not in allowed:
            raise PermissionDenied(f"only the roles {', '.join(allowed)} may do this")
        return principal

    return Depends(check)
