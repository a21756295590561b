"""Behaviour KPIs: regular meetings, expansion proposals and their win rate, NPS, success
stories, contact frequency.

Activities count on the day they occurred (timestamps before the midnight that ends the day), as
in :mod:`tillage.features.engagement`, whose meeting types (meeting, visit, QBR) are reused.
"Active accounts" are those with an active contract on the period's last day; on a store without
contracts, the buyers with an order in the ``kpi.lapse_days`` days up to it
(:func:`tillage.kpi.orders.watched_accounts`). Formulas: ``docs/kpi.md``.
"""

from __future__ import annotations

import datetime as dt

import ibis
from ibis.expr.types import Table

from tillage.features._common import count_if, day, end_of, stamp_in_window
from tillage.features.engagement import MEETING_TYPES
from tillage.features.opportunities import EXPANSION_TYPES
from tillage.kpi.orders import watched_accounts
from tillage.kpi.registry import KPI, MEETING_DAYS, KpiContext, rows

PROMOTER_MIN = 9
"""NPS answers of 9 or 10 are promoters."""
DETRACTOR_MAX = 6
"""NPS answers of 0–6 are detractors."""


def regular_meeting_rate(ctx: KpiContext) -> Table:
    watched = watched_accounts(ctx)
    if ctx.priority_accounts is not None:
        watched = ctx.priority_accounts.select("account_id").distinct()
    acts = ctx.table("activities")
    met = acts.filter(
        acts.type.isin(MEETING_TYPES)
        & stamp_in_window(acts.occurred_at, ctx.period.last, ctx.meeting_days)
    )
    met = met.select(met_id="account_id").distinct()
    joined = watched.left_join(met, watched.account_id == met.met_id)
    return rows(joined, ibis.ifelse(joined.met_id.notnull(), 1.0, 0.0), 1.0)


def _in_period(column: ibis.Value, ctx: KpiContext) -> ibis.Value:
    return (column >= day(ctx.period.first)) & (column <= day(ctx.period.last))


def proposals(ctx: KpiContext) -> Table:
    opps = ctx.table("opportunities")
    made = opps.filter(opps.type.isin(EXPANSION_TYPES) & _in_period(opps.created_date, ctx))
    per_account = made.group_by("account_id").aggregate(n=made.count())
    return rows(per_account, per_account.n, 0.0)


def proposal_win_rate(ctx: KpiContext) -> Table:
    opps = ctx.table("opportunities")
    closed = opps.filter(
        opps.type.isin(EXPANSION_TYPES) & opps.is_closed & _in_period(opps.close_date, ctx)
    )
    per_account = closed.group_by("account_id").aggregate(
        won=count_if(closed.is_won), closed=closed.count()
    )
    return rows(per_account, per_account.won, per_account.closed)


def nps(ctx: KpiContext) -> Table:
    answers = ctx.table("nps_responses")
    inside = answers.filter(_in_period(answers.responded_on, ctx))
    per_account = inside.group_by("account_id").aggregate(
        net=count_if(inside.score >= PROMOTER_MIN) - count_if(inside.score <= DETRACTOR_MAX),
        answers=inside.count(),
    )
    return rows(per_account, per_account.net, per_account.answers)


def success_stories(ctx: KpiContext) -> Table:
    stories = ctx.table("success_stories")
    inside = stories.filter(_in_period(stories.published_on, ctx))
    per_account = inside.group_by("account_id").aggregate(n=inside.count())
    return rows(per_account, per_account.n, 0.0)


def contact_frequency(ctx: KpiContext) -> Table:
    acts = ctx.table("activities")
    inside = acts.filter(
        (acts.occurred_at >= end_of(ctx.period.first - dt.timedelta(days=1)))
        & (acts.occurred_at < end_of(ctx.period.last))
    )
    touches = inside.group_by("account_id").aggregate(n=inside.count())
    a = watched_accounts(ctx)
    joined = a.left_join(touches, "account_id").drop("account_id_right")
    return rows(joined, joined.n.fill_null(0), float(ctx.period.months))


BEHAVIOUR_KPIS: tuple[KPI, ...] = (
    KPI(
        "regular_meeting_rate",
        "定例訪問率",
        "Regular-meeting rate",
        "behaviour",
        "percent",
        "higher",
        "Priority accounts (default: active accounts; without contracts, recent buyers) with a "
        f"meeting, visit or QBR in the {MEETING_DAYS} days up to the last day / priority "
        "accounts.",
        regular_meeting_rate,
        scale=100.0,
        needs=("activities",),
        needs_any=("contracts", "orders"),
    ),
    KPI(
        "expansion_proposals",
        "アップセル・クロスセル提案数",
        "Upsell/cross-sell proposals",
        "behaviour",
        "count",
        "higher",
        "Upsell and cross-sell opportunities created in the period.",
        proposals,
        kind="count",
        needs=("opportunities",),
    ),
    KPI(
        "proposal_win_rate",
        "提案受注率",
        "Proposal win rate",
        "behaviour",
        "percent",
        "higher",
        "Upsell and cross-sell opportunities won / closed, closed in the period.",
        proposal_win_rate,
        scale=100.0,
        needs=("opportunities",),
    ),
    KPI(
        "nps",
        "NPS",
        "NPS",
        "behaviour",
        "score",
        "higher",
        "(Promoters (9–10) − detractors (0–6)) / answers × 100, answers given in the period.",
        nps,
        scale=100.0,
        needs=("nps_responses",),
    ),
    KPI(
        "success_stories",
        "成功事例数",
        "Success stories",
        "behaviour",
        "count",
        "higher",
        "Success stories published in the period.",
        success_stories,
        kind="count",
        needs=("success_stories",),
    ),
    KPI(
        "contact_frequency",
        "接触頻度",
        "Contact frequency",
        "behaviour",
        "per_account_month",
        "higher",
        "Activities with active accounts (without contracts, recent buyers) in the period / "
        "(those accounts × months in the period).",
        contact_frequency,
        needs=("activities",),
        needs_any=("contracts", "orders"),
    ),
)
