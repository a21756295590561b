"""Which reps a caller may ask about.

A rep-scoped question (a plan, a 1on1 agenda, a departure) names a rep by key or id
(:func:`~tillage.store.reps.find_rep`, the one lookup). An admin may name any rep, a manager the
reps in their reach (:func:`tillage.store.access.reach_ids`), a rep only themselves; naming anyone
else answers :class:`~tillage.errors.NotFoundError`, exactly like a rep that does not exist, so the
answer never tells who exists outside the caller's reach. Per-rep work and coaching data (plans,
1on1 agendas) are for the sales roles only (:func:`require_sales`): customer success, marketing
and finance users get :class:`~tillage.errors.PermissionDenied`.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from tillage.errors import NotFoundError, PermissionDenied
from tillage.store.access import SALES, Principal, reach_ids
from tillage.store.reps import find_rep
from tillage.store.schema import Rep

__all__ = ["OPERATOR", "find_rep", "rep_in_reach", "require_sales"]

OPERATOR = Principal(
    user_id=None,
    login="cli",
    display_name="operator",
    role="admin",
    rep_key=None,
    scopes=frozenset({"read", "write", "admin"}),
    via="cli",
)
"""The operator at the command line: sees everything, as an admin does."""


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


def require_sales(principal: Principal, what: str) -> None:
    """PermissionDenied unless ``principal`` has a sales role (:data:`SALES`): ``what`` (e.g.
    "plans") is per-rep work or coaching data."""
    if principal.role not in SALES:
        raise PermissionDenied(f"{what} are for the roles {', '.join(SALES)} only")
