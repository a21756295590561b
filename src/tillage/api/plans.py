"""/api/v1/deals and /api/v1/plans: a snapshot's scored open deals and its account plans.

Deals are those of the accounts the caller may see. A plan is asked for by month and rep: a rep
gets their own plan (naming another rep answers 404); a manager any rep of their reach, or
without ``rep`` the team view (every rep of the reach); an admin any rep or everyone. The
allocation's figures come from the snapshot's ``models["plans"]``: per rep the planned and
available hours and the expected uplift against the naive allocation's; for the reps shown
their totals; for managers and admins also the optimality gap of the whole allocation (the LP
bound's, one figure for the company).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

from tillage.services.plans import (
    CADENCE_PER_PAGE,
    MAX_CADENCE,
    DealPage,
    PlanOut,
    deal_page,
    month_plan,
)
from tillage.serving.auth import CurrentUser, VisibleAccounts, protected_router
from tillage.serving.deps import LanguageDep, SessionDep
from tillage.serving.errors import ErrorResponse
from tillage.serving.params import MONTH_PATTERN
from tillage.serving.scope import page_roles

router = protected_router(prefix="/api/v1", tags=["plans"])
NOT_FOUND = {404: {"model": ErrorResponse, "description": "No such snapshot, plan or rep"}}
SnapshotParam = Annotated[
    int | None, Query(ge=1, le=2**31 - 1, description="Snapshot id (default: the newest)")
]


@router.get("/deals", responses=NOT_FOUND)
def get_deals(
    session: SessionDep,
    visible: VisibleAccounts,
    snapshot: SnapshotParam = None,
    zone: Annotated[str | None, Query(pattern="^[ABC]$")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> DealPage:
    """The open deals of the caller's accounts scored in a snapshot, by expected value."""
    return deal_page(session, visible, snapshot=snapshot, zone=zone, limit=limit, offset=offset)


@router.get("/plans", responses=NOT_FOUND, dependencies=[page_roles("/plans")])
def get_plans(
    session: SessionDep,
    lang: LanguageDep,
    principal: CurrentUser,
    visible: VisibleAccounts,
    month: Annotated[
        str | None,
        Query(
            pattern=MONTH_PATTERN,
            description="Month of the plan (2026-10; default: the newest snapshot's plan month)",
        ),
    ] = None,
    rep: Annotated[
        str | None,
        Query(min_length=1, max_length=128, description="Rep key or id (default: see above)"),
    ] = None,
    page: Annotated[
        int,
        Query(ge=1, le=10_000, description="Page of reps, ten a page (past the last: the last)"),
    ] = 1,
    cadence_limit: Annotated[
        int, Query(ge=1, le=MAX_CADENCE, description="Accounts due of the page's cadence list")
    ] = CADENCE_PER_PAGE,
    cadence_offset: Annotated[
        int, Query(ge=0, le=10_000_000, description="Accounts due before them")
    ] = 0,
) -> PlanOut:
    """The account plans of a month for one rep or for every rep the caller reaches (a rep:
    only their own), ten reps a page: ``rep_actions`` and ``total_actions`` count every
    page's; ``cadence`` holds ``cadence_limit`` of the page's accounts due for their contact
    from ``cadence_offset``, ``cadence_total`` counts them."""
    return month_plan(
        session,
        principal,
        visible,
        month=month,
        rep=rep,
        lang=lang,
        page=page,
        cadence_limit=cadence_limit,
        cadence_offset=cadence_offset,
    )
