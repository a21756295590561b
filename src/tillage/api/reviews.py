"""/api/v1/reviews/{period} and /api/v1/one-on-one/{rep}: the period review and 1on1 agendas.

**Reviews** are for admins and managers (a rep gets 403). An admin gets the whole company's
review. A manager gets it over the accounts they may see: migration, plan execution, forecast
accuracy and meetings to retention count only those accounts
(:func:`tillage.kpi.review.build_review` with ``visible``), and the KPI rows are the company's
plus those of the reps and teams in the manager's reach, as in ``/api/v1/kpis``.

**1on1 agendas**: a rep may ask for their own, a manager for a rep of their reach, an admin for
anyone; asking about anyone else answers 404. The agenda lists only accounts the caller may see.

Both use the strategy in force (the newest saved version, else the defaults) and ``?lang=``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Path
from sqlalchemy.orm import Session

from tillage.api.auth import CurrentUser, VisibleAccounts, protected_router
from tillage.api.deps import LanguageDep, SessionDep, SettingsDep
from tillage.api.errors import ErrorResponse
from tillage.api.scope import rep_in_reach, roles
from tillage.config import Settings
from tillage.errors import PermissionDenied
from tillage.kpi.agenda import OneOnOneAgenda, build_agenda
from tillage.kpi.review import PeriodReview, build_review
from tillage.store.access import AccountFilter, Principal, reach_names
from tillage.strategy.config import Strategy
from tillage.strategy.scoring import resolve_strategy

router = protected_router(prefix="/api/v1", tags=["reviews"])
PERIOD_PATTERN = r"^\d{4}-([Qq][1-4]|(0[1-9]|1[0-2]))$"
"""A month (2026-09) or a quarter (2026-Q3, 2026-q3)."""
NOT_FOUND = {404: {"model": ErrorResponse, "description": "No snapshot, or no such rep"}}


def strategy_in_force(session: Session) -> Strategy:
    """The strategy the scoring uses: the newest saved version, else the defaults."""
    strategy, _hash, _source = resolve_strategy(session.get_bind())  # type: ignore[arg-type]
    return strategy


REVIEWERS = ("admin", "manager")
"""The roles that may read period reviews (a rep gets 403)."""


def period_review(
    session: Session,
    settings: Settings,
    lang: str,
    principal: Principal,
    visible: AccountFilter,
    period: str,
) -> PeriodReview:
    """The review of ``period`` (``2026-Q3`` or ``2026-09``) as ``principal`` may read it (see
    the module doc): the service behind ``/api/v1/reviews/{period}`` and the ``/review`` page."""
    if principal.role not in REVIEWERS:
        raise PermissionDenied(f"only the roles {', '.join(REVIEWERS)} may read reviews")
    review = build_review(
        settings.resolved_database_url,
        period.upper(),
        strategy=strategy_in_force(session),
        lang=lang,
        currency=settings.currency,
        visible=None if principal.is_admin else visible,
    )
    reach = reach_names(session, principal)
    if reach is not None:
        reps, teams = reach
        review.kpis = [
            k
            for k in review.kpis
            if k.cut == "all"
            or (k.cut == "rep" and k.cut_value in reps)
            or (k.cut == "team" and k.cut_value in teams)
        ]
    return review


def rep_agenda(
    session: Session,
    settings: Settings,
    lang: str,
    principal: Principal,
    visible: AccountFilter,
    rep: str,
) -> OneOnOneAgenda:
    """The 1on1 agenda of ``rep`` (key or id) if ``principal`` may ask about them, else
    :class:`~tillage.errors.NotFoundError`: the service behind ``/api/v1/one-on-one/{rep}`` and
    the ``/one-on-one/{rep}`` page."""
    found = rep_in_reach(session, principal, rep)
    return build_agenda(
        settings.resolved_database_url,
        found.key,
        visible=None if principal.is_admin else visible,
        strategy=strategy_in_force(session),
        lang=lang,
    )


@router.get(
    "/reviews/{period}",
    dependencies=[roles(*REVIEWERS)],
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


@router.get("/one-on-one/{rep}", responses=NOT_FOUND)
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
