"""Which roles may call a route (:func:`roles`); which reps a caller may name is
:func:`tillage.services.reach.rep_in_reach`."""

from __future__ import annotations

from typing import Any

from fastapi import Depends

from tillage.errors import PermissionDenied
from tillage.serving.auth import CurrentUser
from tillage.store.access import Principal


def roles(*allowed: str) -> Any:
    """A route dependency: only callers with one of the ``allowed`` roles (else 403)."""

    async def check(principal: CurrentUser) -> Principal:
        if principal.role not in allowed:
            raise PermissionDenied(f"only the roles {', '.join(allowed)} may do this")
        return principal

    return Depends(check)
