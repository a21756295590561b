"""/api/v1/reviews/{period} and /api/v1/one-on-one/{rep}: the period review and 1on1 agendas.

Both are :mod:`tillage.services.reviews`' answers. **Reviews** are for admins and managers (a
rep gets 403). An admin gets the whole company's review. A manager gets it over the accounts
they may see: migration, plan execution, forecast accuracy and meetings to retention count only
those accounts (:func:`tillage.services.reviews.build_review` with ``visible``), and the KPI
rows are the company's plus those of the reps and teams in the manager's reach, as in
``/api/v1/kpis``.

**1on1 agendas**: a rep may ask for their own, a manager for a rep of their reach, an admin for
anyone; asking about anyone else answers 404. The agenda lists only accounts the caller may see.

Both use the strategy in force (the newest saved version, else the defaults) and ``?lang=``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Request
from pydantic import BaseModel, Field

from tillage.kpi.agenda import OneOnOneAgenda
from tillage.kpi.review import PeriodReview
from tillage.services.reviews import REVIEWERS, period_review, rep_agenda
from tillage.services.strategy_changes import AcceptedChanges, accept_recommendations
from tillage.serving.auth import CurrentUser, VisibleAccounts, client_address, protected_router
from tillage.serving.deps import LanguageDep, SessionDep, SettingsDep
from tillage.serving.errors import ErrorResponse
from tillage.serving.etag import SnapshotETag
from tillage.serving.params import PERIOD_PATTERN
from tillage.serving.scope import page_roles, roles

router = protected_router(prefix="/api/v1", tags=["reviews"])
NOT_FOUND = {404: {"model": ErrorResponse, "description": "No snapshot, or no such rep"}}


@router.get(
    "/reviews/{period}",
    dependencies=[roles(*REVIEWERS), SnapshotETag],
    responses={403: {"model": ErrorResponse, "description": "Reps may not read reviews"}},
)
def get_review(
    session: SessionDep,
    settings: SettingsDep,
    lang: LanguageDep,
    principal: CurrentUser,
    visible: VisibleAccounts,
    period: Annotated[
        str,
        Path(pattern=PERIOD_PATTERN, description="2026-Q3 or 2026-09"),
    ],
) -> PeriodReview:
    """The review of a month or quarter: KPIs against the previous period and targets,
    migration, plan execution, forecast accuracy, meetings to retention."""
    return period_review(session, settings, lang, principal, visible, period)


class AcceptBody(BaseModel):
    """The recommendations to accept by ``key`` (default: all of them)."""

    keys: list[str] | None = Field(default=None, max_length=100)


@router.post(
    "/reviews/{period}/accept",
    dependencies=[roles("admin")],
    responses={
        403: {"model": ErrorResponse, "description": "Only admins change the strategy"},
        422: {"model": ErrorResponse, "description": "No such recommendation"},
    },
)
def post_accept(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    lang: LanguageDep,
    principal: CurrentUser,
    visible: VisibleAccounts,
    period: Annotated[
        str,
        Path(pattern=PERIOD_PATTERN, description="2026-Q3 or 2026-09"),
    ],
    body: AcceptBody | None = None,
) -> AcceptedChanges:
    """Accept the review's recommended changes to the strategy file as a new strategy version
    (admins); the review is recomputed, so only what its evidence still says is saved."""
    return accept_recommendations(
        session,
        settings,
        lang,
        principal,
        visible,
        period,
        keys=None if body is None else body.keys,
        client=client_address(request),
    )


@router.get(
    "/one-on-one/{rep}",
    responses=NOT_FOUND,
    dependencies=[page_roles("/one-on-one"), SnapshotETag],
)
def get_one_on_one(
    session: SessionDep,
    settings: SettingsDep,
    lang: LanguageDep,
    principal: CurrentUser,
    visible: VisibleAccounts,
    rep: Annotated[str, Path(min_length=1, max_length=128, description="Rep key or id")],
) -> OneOnOneAgenda:
    """The 1on1 agenda of a rep: top accounts and why, accounts at risk, open deals, behaviour
    KPIs against the team's and the company's, and coaching questions."""
    return rep_agenda(session, settings, lang, principal, visible, rep)
