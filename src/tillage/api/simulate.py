"""/api/v1/simulate/departure: what a rep's departure puts at risk, and who takes over.

Managers (for the reps of their reach) and admins (anyone); reps get 403, a rep outside the
manager's reach 404. A manager sees only the affected accounts they may see, and the totals
over those (:func:`tillage.services.departure.rep_departure`). The formula is
:mod:`tillage.strategy.departure`'s (``docs/strategy.md``).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import Query

from tillage.services.departure import SIMULATORS, DepartureOut, rep_departure
from tillage.serving.auth import CurrentUser, VisibleAccounts, protected_router
from tillage.serving.deps import SessionDep
from tillage.serving.errors import ErrorResponse
from tillage.serving.etag import SnapshotETag
from tillage.serving.scope import roles

router = protected_router(prefix="/api/v1/simulate", tags=["simulate"])


@router.get(
    "/departure",
    dependencies=[roles(*SIMULATORS), SnapshotETag],
    responses={
        403: {"model": ErrorResponse, "description": "Reps may not simulate departures"},
        404: {"model": ErrorResponse, "description": "No snapshot, or no such rep"},
    },
)
def get_departure(
    session: SessionDep,
    principal: CurrentUser,
    visible: VisibleAccounts,
    rep: Annotated[str, Query(min_length=1, max_length=128, description="Rep key or id")],
    as_of: Annotated[
        dt.date | None, Query(description="Day of the departure (default: the snapshot's)")
    ] = None,
) -> DepartureOut:
    """The accounts a rep's departure affects, the LTV at risk and the handover plan."""
    return rep_departure(session, principal, visible, rep, as_of=as_of)
