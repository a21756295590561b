"""The period review and 1on1 agendas as a caller may read them.

**Reviews** are for admins and managers (a rep gets
:class:`~tillage.errors.PermissionDenied`). An admin gets the whole company's review. A manager
gets it over the accounts they may see: migration, plan execution, forecast accuracy and meetings
to retention count only those accounts (:func:`build_review` with ``visible``), and the KPI
rows are the company's plus those of the reps and teams in the manager's reach, as in
:func:`tillage.services.kpis.kpi_rows`.

**1on1 agendas**: a rep may ask for their own, a manager for a rep of their reach, an admin for
anyone; asking about anyone else is :class:`~tillage.errors.NotFoundError`. The agenda lists only
accounts the caller may see.

Both use the strategy in force (:func:`tillage.services.strategy.strategy_in_force`).
:func:`build_review` and :func:`build_agenda` read the store and hand the frames to
:func:`tillage.kpi.review.assemble_review` and :func:`tillage.kpi.agenda.assemble_agenda`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence

import pandas as pd
from ibis.backends import BaseBackend
from sqlalchemy.orm import Session

from tillage.config import Settings
from tillage.errors import PermissionDenied
from tillage.kpi.agenda import AgendaInputs, OneOnOneAgenda, assemble_agenda
from tillage.kpi.data import kpi_backend
from tillage.kpi.period import Period, parse_period, period_containing
from tillage.kpi.review import PeriodReview, ReviewInputs, SnapshotRef, assemble_review
from tillage.services import review_frames as reviews
from tillage.services.page_cache import cached_model, reach_key, strategy_digest
from tillage.services.page_pieces import (
    CELL_FIELDS,
    agenda_pieces_of,
    read_store,
    review_evidence_of,
    review_pieces_of,
)
from tillage.services.reach import rep_in_reach, require_sales
from tillage.services.strategy import strategy_in_force
from tillage.store.access import AccountFilter, Principal, reach_names
from tillage.store.reps import find_rep
from tillage.store.schema import Snapshot
from tillage.store.snapshots import latest_snapshot, snapshot_on_or_before
from tillage.strategy.config import Strategy

REVIEWERS = ("admin", "manager")
"""The roles that may read period reviews (a rep gets 403)."""


def _ref(snapshot: Snapshot | None) -> SnapshotRef | None:
    return None if snapshot is None else SnapshotRef(id=snapshot.id, as_of=snapshot.as_of)


def review_inputs(
    session: Session,
    period: Period,
    visible: AccountFilter | None = None,
    *,
    shared: bool = True,
) -> ReviewInputs:
    """Read from the store what the review of ``period`` needs (:class:`ReviewInputs`), the
    account-level frames limited to ``visible`` (``None``: every account). ``shared=False``
    leaves out the frames of every account that only the shared pieces read (``kpi_scores``,
    ``segment_scores``: :func:`~tillage.services.page_pieces.company_scores` reads them when
    the pieces are computed)."""
    start = snapshot_on_or_before(session, period.first)
    end = snapshot_on_or_before(session, period.last)
    fields = reviews.REVIEW_FIELDS
    start_scores = end_scores = None
    if start is not None:
        start_scores = reviews.snapshot_scores(session, start.id, visible=visible, fields=fields)
    if end is not None:
        end_scores = reviews.snapshot_scores(session, end.id, visible=visible, fields=fields)
    kpi_scores = end_scores if shared else None
    if shared and end is not None and visible is not None:  # the KPIs are the company's
        kpi_scores = reviews.snapshot_scores(session, end.id, fields=fields)
    none = pd.DataFrame()
    actions = activities = contracts = orders = deals = none
    if start is not None:
        # a caller's review counts only the accounts it may see (assemble_review's limited):
        # the actions, activities, contracts and orders of the others are not read
        first, last = period.first, period.last
        actions = reviews.planned_actions(session, start.id, first, last, visible=visible)
        activities = reviews.activities_between(session, first, last, visible=visible)
        contracts = reviews.contracts_running(session, start.as_of, period.close, visible=visible)
        orders = reviews.order_revenue(session, first, last, visible=visible)
        deals = reviews.scored_deals(session, start.id, visible=visible)
    segment_scores = None
    if shared and start is not None:
        segment_scores = reviews.snapshot_scores(session, start.id, fields=fields)
    return ReviewInputs(
        start=_ref(start),
        end=_ref(end),
        start_scores=start_scores,
        end_scores=end_scores,
        kpi_scores=kpi_scores,
        reps=reviews.reps_with_teams(session),
        actions=actions,
        activities=activities,
        contracts=contracts,
        orders=orders,
        start_deals=deals,
        segment_scores=segment_scores,
    )


def build_review(
    database_url: str,
    period: Period | str,
    *,
    strategy: Strategy | None = None,
    by: Sequence[str] = ("all", "team"),
    lang: str = "en",
    currency: str | None = None,
    engine: str = "duckdb",
    visible: AccountFilter | None = None,
    cache: Session | None = None,
    con: BaseBackend | None = None,
) -> PeriodReview:
    """The review of ``period`` (``2026-Q3`` or a :class:`~tillage.kpi.period.Period`) over the
    store at ``database_url``; KPIs for the cuts ``by`` (``all``, ``rep``, ``team``,
    ``segment``) computed on ``engine`` (or on ``con``, a backend the caller holds open).

    ``visible`` (the caller's :func:`tillage.store.access.account_filter`; ``None``: every
    account) limits the account-level parts — migration, plan execution (actions and activities
    of visible accounts), forecast accuracy and meetings to retention — to the accounts it lets
    through. The KPI rows are not filtered: the company row names no account, and a caller
    keeps the rep and team rows of their reach (as :func:`period_review` does). The parts that
    count every account (:func:`review_pieces_of`) are kept in ``cache``'s page cache.
    """
    strategy = strategy or Strategy()
    fiscal = strategy.fiscal_year_start_month
    chosen = parse_period(period, fiscal) if isinstance(period, str) else period
    inputs = read_store(
        database_url,
        lambda session: review_inputs(session, chosen, visible, shared=cache is None),
    )
    if inputs.start is not None:
        evidence = review_evidence_of(database_url, chosen.last, strategy, cache)
        inputs = dataclasses.replace(inputs, effects=evidence.effects, departure=evidence.departure)
    pieces = review_pieces_of(
        database_url,
        chosen,
        inputs,
        strategy=strategy,
        by=by,
        lang=lang,
        engine=engine,
        cache=cache,
        con=con,
    )
    return assemble_review(
        None,
        chosen,
        inputs,
        strategy=strategy,
        by=by,
        lang=lang,
        currency=currency,
        limited=visible is not None,
        pieces=pieces,
    )


def agenda_inputs(
    session: Session,
    rep: str,
    visible: AccountFilter | None = None,
    *,
    period: Period | str | None = None,
    fiscal_start: int = 1,
    own: bool = False,
) -> AgendaInputs:
    """Read from the store what the agenda of ``rep`` (a key or id) needs: the newest complete
    snapshot's scores of the accounts the rep owned when scored (``account_scores.rep_id``, else
    today's owner) and its scored deals, both limited to ``visible`` (``None``: every account);
    for the coaching (:mod:`tillage.kpi.coaching`) the period (``period``, default the fiscal
    quarter of the snapshot's date in the calendar starting in month ``fiscal_start``), every
    scored account's cell, the actions planned for the period and the activities logged in it,
    and the rep's actions of the newest plan. ``own``: read the rep's rows alone (no cells, the
    rep's actions, activities and deals), for an agenda built from the shared
    :class:`~tillage.kpi.agenda.AgendaPieces`."""
    found = find_rep(session, rep)
    snapshot = latest_snapshot(session)
    reps = reviews.reps_with_teams(session)
    teams = reps.set_index("rep_id")
    team = teams.at[found.id, "team"] if found.id in teams.index else None
    label = str(teams.at[found.id, "rep"]) if found.id in teams.index else found.name
    if period is None:
        chosen = period_containing(snapshot.as_of, "quarter", fiscal_start)
    else:
        chosen = parse_period(period, fiscal_start) if isinstance(period, str) else period
    mine = found.id if own else None
    cells = None
    if not own:
        cells = reviews.snapshot_scores(session, snapshot.id, fields=CELL_FIELDS)
        cells = cells.assign(rep_id=cells["rep_id"].fillna(cells["owner_id"]))
        cells = cells[["account_id", "segment", "ltv", "rep_id"]]
    start = snapshot_on_or_before(session, chosen.first)
    planned = pd.DataFrame()
    if start is not None:
        planned = reviews.planned_actions(session, start.id, chosen.first, chosen.last, rep_id=mine)
    month = ((snapshot.models or {}).get("plans") or {}).get("month")
    next_month = dt.date.fromisoformat(str(month)) if month else None
    upcoming = pd.DataFrame()
    if next_month is not None:
        upcoming = reviews.planned_actions(session, snapshot.id, next_month, next_month)
        upcoming = upcoming[upcoming["rep_id"] == found.id] if not upcoming.empty else upcoming
    return AgendaInputs(
        rep_id=found.id,
        rep_key=found.key,
        rep_name=found.name,
        rep_label=label,
        team=None if team is None or pd.isna(team) else str(team),
        snapshot=SnapshotRef(id=snapshot.id, as_of=snapshot.as_of),
        scores=reviews.snapshot_scores(session, snapshot.id, visible=visible, rep_id=found.id),
        deals=reviews.scored_deals(session, snapshot.id, visible=visible, rep_id=mine),
        limited=visible is not None,
        period=chosen,
        cells=cells,
        planned=planned,
        activities=reviews.activities_between(session, chosen.first, chosen.last, rep_id=mine),
        reps=reps,
        next_month=next_month,
        next_actions=upcoming,
    )


def build_agenda(
    database_url: str,
    rep: str,
    *,
    visible: AccountFilter | None = None,
    strategy: Strategy | None = None,
    lang: str = "en",
    period: Period | str | None = None,
    engine: str = "duckdb",
    cache: Session | None = None,
) -> OneOnOneAgenda:
    """The 1on1 agenda of ``rep`` (a rep key or id) from the newest snapshot over the store at
    ``database_url``, limited to the accounts ``visible`` lets through (the caller's
    :func:`tillage.store.access.account_filter`, so a rep never sees another rep's accounts);
    behaviour KPIs of ``period`` (default: the quarter containing the snapshot's as-of date)
    computed on ``engine``: with ``cache`` (a session of the store), the company-wide ones kept
    in its page cache (:func:`~tillage.services.page_pieces.agenda_pieces_of`)."""
    strategy = strategy or Strategy()
    fiscal = strategy.fiscal_year_start_month
    inputs = read_store(
        database_url,
        lambda session: agenda_inputs(
            session, rep, visible, period=period, fiscal_start=fiscal, own=cache is not None
        ),
    )
    if cache is None:
        with kpi_backend(database_url, engine) as held:
            return assemble_agenda(held, inputs, strategy=strategy, lang=lang)
    assert inputs.period is not None
    pieces = agenda_pieces_of(cache, database_url, inputs.period, strategy, engine=engine)
    return assemble_agenda(None, inputs, strategy=strategy, lang=lang, pieces=pieces)


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
    con: BaseBackend | None = None,
) -> PeriodReview:
    """The review of ``period`` (``2026-Q3`` or ``2026-09``) as ``principal`` may read it (see
    the module doc), KPIs for the cuts ``by`` computed on ``engine`` (or on ``con``, a backend
    the caller holds open), with ``strategy`` (default: the one in force): the service behind
    ``/api/v1/reviews/{period}``, the ``/review`` page and ``tillage review``. The parts every
    caller shares are kept in the page cache apart from the caller's review."""
    if principal.role not in REVIEWERS:
        raise PermissionDenied(f"only the roles {', '.join(REVIEWERS)} may read reviews")
    strategy = strategy or strategy_in_force(session, currency=settings.currency)
    params = {
        "period": period.upper(),
        "by": list(by),
        "lang": lang,
        "currency": settings.currency,
        "engine": engine,
        "strategy": strategy_digest(strategy),
        "reach": reach_key(session, principal),
    }
    review = cached_model(
        session,
        "review",
        params,
        PeriodReview,
        lambda: build_review(
            settings.resolved_database_url,
            period.upper(),
            strategy=strategy,
            by=by,
            lang=lang,
            currency=settings.currency,
            engine=engine,
            visible=None if principal.is_admin else visible,
            cache=session,
            con=con,
        ),
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
    ``tillage one-on-one``. Only the sales roles may ask (else PermissionDenied)."""
    require_sales(principal, "1on1 agendas")
    found = rep_in_reach(session, principal, rep)
    strategy = strategy or strategy_in_force(session, currency=settings.currency)
    params = {
        "rep": found.key,
        "lang": lang,
        "period": period,
        "engine": engine,
        "strategy": strategy_digest(strategy),
        "reach": reach_key(session, principal),
    }
    return cached_model(
        session,
        "agenda",
        params,
        OneOnOneAgenda,
        lambda: build_agenda(
            settings.resolved_database_url,
            found.key,
            visible=None if principal.is_admin else visible,
            strategy=strategy,
            lang=lang,
            period=period,
            engine=engine,
            cache=session,
        ),
    )
