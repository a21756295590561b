"""Which roles may call a route (:func:`roles`) and reach a page (:data:`PAGE_ROLES`, the table
the menu is drawn from, so the menu shows exactly the pages a user may open); which reps a
caller may name is :func:`tillage.services.reach.rep_in_reach`.

What each role sees inside a page or an answer (which accounts, which KPI rows) is decided by
the services (:mod:`tillage.store.access`); this module only says who may ask at all.
"""

from __future__ import annotations

from typing import Any

from fastapi import Depends

from tillage.errors import PermissionDenied
from tillage.services.departure import SIMULATORS
from tillage.services.reviews import REVIEWERS
from tillage.serving.auth import CurrentUser
from tillage.store.access import SALES, Principal
from tillage.store.schema import ROLES

PAGE_ROLES: dict[str, tuple[str, ...]] = {
    "/portfolio": ROLES,
    "/accounts": ROLES,
    "/renewals": ROLES,
    "/deals": ROLES,
    "/plans": SALES,
    "/kpis": ROLES,
    "/kpis/{kpi}/accounts": ROLES,
    "/review": REVIEWERS,
    "/departure": SIMULATORS,
    "/one-on-one": SALES,
    "/data": ("admin",),
    "/settings": ("admin",),
}
"""The menu's pages, in menu order, and the roles that may open each. Plans and 1on1 agendas are
per-rep coaching data: the sales roles only (not success, marketing or finance). A path with a
parameter (the KPI drill-down) is reached from its page, not from the menu."""


def menu_for(role: str) -> list[str]:
    """The paths of the menu's pages ``role`` may open, in menu order."""
    return [path for path, allowed in PAGE_ROLES.items() if role in allowed and "{" not in path]


def roles(*allowed: str) -> Any:
    """A route dependency: only callers with one of the ``allowed`` roles (else 403)."""

    async def check(principal: CurrentUser) -> Principal:
        if principal.role not in allowed:
            raise PermissionDenied(f"only the roles {', '.join(allowed)} may do this")
        return principal

    return Depends(check)


def page_roles(path: str) -> Any:
    """The route dependency of the page ``path`` of :data:`PAGE_ROLES` (and of its JSON twin)."""
    return roles(*PAGE_ROLES[path])
