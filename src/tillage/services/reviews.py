"""The period review and 1on1 agendas as a caller may read them.

**Reviews** are for admins and managers (a rep gets
:class:`~tillage.errors.PermissionDenied`). An admin gets the whole company's review. A manager
gets it over the accounts they may see: migration, plan execution, forecast accuracy and meetings
to retention count only those accounts (:func:`tillage.kpi.review.build_review` with
``visible``), and the KPI rows are the company's plus those of the reps and teams in the
manager's reach, as in :func:`tillage.services.kpis.kpi_rows`.

**1on1 agendas**: a rep may ask for their own, a manager for a rep of their reach, an admin for
anyone; asking about anyone else is :class:`~tillage.errors.NotFoundError`. The agenda lists only
accounts the caller may see.

Both use the strategy in force (:func:`tillage.services.strategy.strategy_in_force`).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from tillage.config import Settings
from tillage.errors import PermissionDenied
from tillage.kpi.agenda import OneOnOneAgenda, build_agenda
from tillage.kpi.review import PeriodReview, build_review
from tillage.services.reach import rep_in_reach
from tillage.services.strategy import strategy_in_force
from tillage.store.access import AccountFilter, Principal, reach_names
from tillage.strategy.config import Strategy

REVIEWERS = ("admin", "manager")
"""The roles that may read period reviews (a rep gets 403)."""


def period_review(
    session: Session,
    settings: Settings,
    lang: str,
    principal: Principal,
    visible: AccountFilter,
    period: str,
    *,
    by: Sequence[str] = ("all", "team"),
    engine: str = "duckdb",
    strategy: Strategy | None = None,
) -> PeriodReview:
    """The review of ``period`` (``2026-Q3`` or ``2026-09``) as ``principal`` may read it (see
    the module doc), KPIs for the cuts ``by`` computed on ``engine``, with ``strategy``
    (default: the one in force): the service behind ``/api/v1/reviews/{period}``, the
    ``/review`` page and ``tillage review``."""
    if principal.role not in REVIEWERS:
        raise PermissionDenied(f"only the roles {', '.join(REVIEWERS)} may read reviews")
    review = build_review(
        settings.resolved_database_url,
        period.upper(),
        strategy=strategy or strategy_in_force(session, currency=settings.currency),
        by=by,
        lang=lang,
        currency=settings.currency,
        engine=engine,
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
    *,
    period: str | None = None,
    engine: str = "duckdb",
    strategy: Strategy | None = None,
) -> OneOnOneAgenda:
    """The 1on1 agenda of ``rep`` (key or id) if ``principal`` may ask about them, else
    :class:`~tillage.errors.NotFoundError`; behaviour KPIs of ``period`` (default: the
    snapshot's quarter) on ``engine``, with ``strategy`` (default: the one in force): the
    service behind ``/api/v1/one-on-one/{rep}``, the ``/one-on-one/{rep}`` page and
    ``tillage one-on-one``."""
    found = rep_in_reach(session, principal, rep)
    return build_agenda(
        settings.resolved_database_url,
        found.key,
        visible=None if principal.is_admin else visible,
        strategy=strategy or strategy_in_force(session, currency=settings.currency),
        lang=lang,
        period=period,
        engine=engine,
    )
