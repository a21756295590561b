"""The plans page: each rep's monthly plan and capacity use; for managers and admins the team.

The plan comes from :func:`tillage.services.plans.month_plan`, the function behind
``/api/v1/plans``, so the page and the API show the same actions, hours and uplifts to the same
user: a rep their own plan only (naming another rep is a 404), a manager any rep of their team
or the team view, an admin anyone. The team view sets each rep's hours against their capacity
and the plan's expected uplift against the naive allocation's (largest revenue first), both as
stored by the scoring run.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import urlencode

from fastapi import Query, Request
from fastapi.responses import HTMLResponse, Response

from tillage.errors import NotFoundError
from tillage.report.crm_tasks import Layout, task_file
from tillage.services.crm_tasks import plan_for_crm
from tillage.services.marks import MARKERS
from tillage.services.plan_months import planned_months
from tillage.services.plans import REPS_PER_PAGE, PlannedAction, PlanOut, RepActions, month_plan
from tillage.serving.auth import CurrentUser, VisibleAccounts, protected_router
from tillage.serving.deps import LanguageDep, SessionDep, SettingsDep
from tillage.serving.scope import page_roles
from tillage.store.access import reach_reps
from tillage.strategy.action_labels import action_label
from tillage.web.accounts import KEY
from tillage.web.charts import capacity_chart
from tillage.web.render import PageTable, data_links, data_response, page, table_response

router = protected_router(include_in_schema=False)
MONTH = Query(pattern=r"^(\d{4}-(0[1-9]|1[0-2]))?$")


@dataclass(frozen=True)
class RepRow:
    """One rep of a plan: hours planned of those available (``use`` = planned / capacity, a
    fraction), the expected uplift of the plan and of the naive allocation and their difference
    (``gain``, company currency), and the rep's planned actions, highest uplift first."""

    rep_id: int | None
    name: str
    planned_hours: float | None
    capacity_hours: float | None
    use: float | None
    uplift: float | None
    naive_uplift: float | None
    gain: float | None
    actions: list[PlannedAction]
    action_count: int = 0
    """The rep's planned actions over every page (``actions`` holds those of this page)."""


def _summary(plan: PlanOut) -> list[RepActions]:
    """``plan.rep_actions``, or for a plan without them (written out by hand) the same from
    its actions."""
    if plan.rep_actions:
        return plan.rep_actions
    summary: dict[int | None, RepActions] = {}
    for a in plan.actions:
        rep = summary.setdefault(
            a.rep_id, RepActions(rep_id=a.rep_id, rep=a.rep, actions=0, hours=0.0, uplift=0.0)
        )
        rep.actions += 1
        rep.hours += a.hours
        rep.uplift += a.expected_uplift or 0.0
    return list(summary.values())


def rep_rows(plan: PlanOut) -> list[RepRow]:
    """The reps of ``plan`` in its order, each with their actions on this page; a rep holding
    actions but no allocation figures comes last. A rep the store has no name for is shown as
    ``#id``."""
    by_rep: dict[int | None, list[PlannedAction]] = {}
    for action in plan.actions:
        by_rep.setdefault(action.rep_id, []).append(action)
    counts = {r.rep_id: r for r in _summary(plan)}
    allocated = {r.rep_id for r in plan.reps}
    rows = []
    for rep in plan.reps:
        use = None
        if rep.planned_hours is not None and rep.capacity_hours:
            use = rep.planned_hours / rep.capacity_hours
        gain = None
        if rep.uplift is not None and rep.naive_uplift is not None:
            gain = rep.uplift - rep.naive_uplift
        rows.append(
            RepRow(
                rep_id=rep.rep_id,
                name=rep.rep or f"#{rep.rep_id}",
                planned_hours=rep.planned_hours,
                capacity_hours=rep.capacity_hours,
                use=use,
                uplift=rep.uplift,
                naive_uplift=rep.naive_uplift,
                gain=gain,
                actions=by_rep.get(rep.rep_id, []),
                action_count=counts[rep.rep_id].actions if rep.rep_id in counts else 0,
            )
        )
    for extra in counts.values():
        if extra.rep_id in allocated:
            continue
        rows.append(
            RepRow(
                rep_id=extra.rep_id,
                name=extra.rep or f"#{extra.rep_id}",
                planned_hours=extra.hours,
                capacity_hours=None,
                use=None,
                uplift=extra.uplift,
                naive_uplift=None,
                gain=None,
                actions=by_rep.get(extra.rep_id, []),
                action_count=extra.actions,
            )
        )
    return rows


def uplift_gain(plan: PlanOut) -> float | None:
    """How much more the plan is expected to add than the naive allocation, as a fraction of
    the naive allocation's uplift (``None`` when that is zero)."""
    if not plan.naive_uplift:
        return None
    return (plan.uplift - plan.naive_uplift) / plan.naive_uplift


@dataclass(frozen=True)
class TeamGroup:
    """The reps of one team on this page of the team view, in the plan's order."""

    team: str | None
    reps: list[RepRow]


def team_groups(rows: list[RepRow], teams: dict[int, str | None]) -> list[TeamGroup]:
    """``rows`` grouped by the team of each rep (``teams``: rep id → team name), teams in order
    of their first rep, reps without a team last."""
    groups: dict[str | None, list[RepRow]] = {}
    for row in rows:
        groups.setdefault(teams.get(row.rep_id) if row.rep_id is not None else None, []).append(row)
    ordered = sorted(groups.items(), key=lambda item: item[0] is None)
    return [TeamGroup(team, reps) for team, reps in ordered]


def _no_plan(
    request: Request, lang: str, principal: CurrentUser, months: list[dt.date], month: str
) -> HTMLResponse:
    """The plans page for a month without a plan: says so and offers the months with one."""
    response = page(
        request,
        lang,
        "plans_none.html",
        principal,
        month=month,
        months=[m.strftime("%Y-%m") for m in months],
    )
    response.status_code = 404
    return response


@router.get("/plans", response_class=HTMLResponse, dependencies=[page_roles("/plans")])
def plans_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    lang: LanguageDep,
    principal: CurrentUser,
    visible: VisibleAccounts,
    month: Annotated[str | None, MONTH] = None,
    rep: Annotated[str | None, KEY] = None,
    page_number: Annotated[int, Query(alias="page", ge=1, le=10_000)] = 1,
    format: PageTable = "html",
) -> Response:
    """A rep's plan of a month, or the team's (twin of /api/v1/plans; ``?format=json`` its
    answer, ``?format=csv`` its actions). The month picker offers the months with a plan; the
    team view groups the actions by team and rep, ten reps a page."""
    months = planned_months(session)
    try:
        plan = month_plan(
            session,
            principal,
            visible,
            month=month or None,
            rep=rep or None,
            lang=lang,
            page=None if format == "csv" else page_number,  # the CSV: every page's actions
            with_cadence=format == "json",  # the page does not show it; its JSON does
        )
    except NotFoundError:
        if format != "html" or not month or rep:
            raise
        return _no_plan(request, lang, principal, months, month)
    if format == "json":
        return data_response(plan)
    if format == "csv":
        return table_response(plan.actions, PlannedAction, f"plans-{plan.month:%Y-%m}.csv")
    rows = rep_rows(plan)
    team_view = principal.role != "rep" and plan.rep is None
    figure = None
    if rows:
        figure = capacity_chart(
            [r.name for r in rows],
            [r.planned_hours for r in rows],
            [r.capacity_hours for r in rows],
            lang,
        )
    reach = reach_reps(session, principal) if principal.role != "rep" else []
    pages = plan.pages
    shown = rows[(plan.page - 1) * REPS_PER_PAGE : plan.page * REPS_PER_PAGE]
    chosen_month = plan.month.strftime("%Y-%m")

    def page_url(number: int) -> str:
        return "/plans?" + urlencode({"month": chosen_month, "rep": rep or "", "page": number})

    return page(
        request,
        lang,
        "plans.html",
        principal,
        plan=plan,
        rows=rows,
        team_view=team_view,
        month=chosen_month,
        months=sorted({chosen_month, *(m.strftime("%Y-%m") for m in months)}, reverse=True),
        groups=team_groups(shown, {r.id: r.team for r in reach}),
        page=plan.page,
        pages=pages,
        reps_per_page=REPS_PER_PAGE,
        page_url=page_url,
        chosen_rep=rep or "",
        reps=reach,
        gain=uplift_gain(plan),
        # the LP bound is never below the plan: a negative gap is rounding (-2e-16), shown as 0
        optimality_gap=None if plan.gap is None else max(plan.gap, 0.0),
        capacity_figure=figure,
        planned_hours=sum(r.planned_hours or 0.0 for r in rows),
        capacity_hours=sum(r.capacity_hours or 0.0 for r in rows),
        action_label=lambda a: action_label(a, lang),
        currency=settings.currency,
        data=data_links(request, table=True),
        tasks_query=urlencode({"month": chosen_month, "rep": plan.rep or ""}),
        can_mark=principal.role in MARKERS,
        back_url=page_url(plan.page) + "#planned-actions",
    )


@router.get("/plans/tasks.csv", response_class=Response, dependencies=[page_roles("/plans")])
def plan_tasks(
    session: SessionDep,
    settings: SettingsDep,
    lang: LanguageDep,
    principal: CurrentUser,
    visible: VisibleAccounts,
    layout: Annotated[Layout, Query()],
    month: Annotated[str | None, MONTH] = None,
    rep: Annotated[str | None, KEY] = None,
) -> Response:
    """The plan shown on the page (same month, rep and reach) as a task import file for
    Salesforce (Data Loader, Task) or HubSpot (:mod:`tillage.report.crm_tasks`); rows without
    the CRM's ids say so in their last column."""
    plan, ids = plan_for_crm(
        session, principal, visible, month=month or None, rep=rep or None, lang=lang
    )
    made = task_file(plan, ids, layout, lang, settings.currency)
    name = f"{layout}-{plan.month:%Y-%m}{'-' + plan.rep if plan.rep else ''}.csv"
    return Response(
        made.text,
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "X-Tillage-Rows-Without-Ids": str(len(made.warnings)),
        },
    )
