"""Outcome KPIs: churn, retention (GRR/NRR), ARPU, renewals, expansion, LTV/CAC, CAC payback.

Recurring revenue comes from :func:`tillage.features.contracts.contract_features` (MRR of the
contracts active on a day). The **start cohort** of a period is the accounts with MRR on its
first day; their MRR at the **close** (contracts running into the day after the last day, so that
one period's close is the next period's start) decides expansion, contraction and churn.
Accounts acquired during the period are not in the cohort. Formulas: ``docs/kpi.md``.
"""

from __future__ import annotations

import ibis
from ibis.expr.types import Table

from tillage.features._common import count_if, day, money
from tillage.kpi.registry import KPI, KpiContext, rows


def _churned(t: Table) -> ibis.Value:
    return t.mrr_close <= 0


def logo_churn(ctx: KpiContext) -> Table:
    c = ctx.cohort
    return rows(c, ibis.ifelse(_churned(c), 1.0, 0.0), 1.0)


def revenue_churn(ctx: KpiContext) -> Table:
    c = ctx.cohort
    lost = ibis.greatest(c.mrr_first - c.mrr_close, 0.0)  # churn (all of it) or contraction
    return rows(c, lost, c.mrr_first)


def grr(ctx: KpiContext) -> Table:
    c = ctx.cohort
    return rows(c, ibis.least(c.mrr_first, c.mrr_close), c.mrr_first)


def nrr(ctx: KpiContext) -> Table:
    c = ctx.cohort
    return rows(c, c.mrr_close, c.mrr_first)


def arpu(ctx: KpiContext) -> Table:
    a = ctx.active
    return rows(a, a.mrr_last, 1.0)


def renewal_rate(ctx: KpiContext) -> Table:
    contracts = ctx.table("contracts")
    # due: the contract's last day lies in the period (end_date is the first day it no longer runs)
    due = contracts.filter(
        (contracts.end_date > day(ctx.period.first)) & (contracts.end_date <= day(ctx.period.close))
    )
    successors = (
        contracts.filter(contracts.renewed_from_id.notnull())
        .select(successor_of=contracts.renewed_from_id)
        .distinct()
    )
    joined = due.left_join(successors, due.id == successors.successor_of)
    per_account = joined.group_by("account_id").aggregate(
        renewed=count_if(joined.successor_of.notnull()), due=joined.count()
    )
    return rows(per_account, per_account.renewed, per_account.due)


def _won_in_period(ctx: KpiContext, kind: str) -> Table:
    opps = ctx.table("opportunities")
    won = opps.filter(
        (opps.type == kind)
        & opps.is_closed
        & opps.is_won
        & (opps.close_date >= day(ctx.period.first))
        & (opps.close_date <= day(ctx.period.last))
    )
    return won.group_by("account_id").aggregate(won=won.count())


def _per_active(ctx: KpiContext, counts: Table, column: str) -> Table:
    """``counts.column`` over every account, with a denominator of 1 per active account."""
    a = ctx.active.select("account_id", is_active=ibis.literal(1.0))
    joined = counts.outer_join(a, "account_id")
    account = ibis.coalesce(joined.account_id, joined.account_id_right)
    out = joined.select(
        account_id=account,
        num=joined[column].fill_null(0).cast("float64"),
        den=joined.is_active.fill_null(0.0),
    )
    return out


def upsell_rate(ctx: KpiContext) -> Table:
    return _per_active(ctx, _won_in_period(ctx, "upsell"), "won")


def cross_sell_rate(ctx: KpiContext) -> Table:
    return _per_active(ctx, _won_in_period(ctx, "cross_sell"), "won")


def _with_cac(ctx: KpiContext) -> Table:
    accounts = ctx.table("accounts")
    known = accounts.filter(accounts.acquisition_cost.notnull() & (accounts.acquisition_cost > 0))
    known = known.select(account_id=known.id, cac=money(known.acquisition_cost))
    a = ctx.active
    return a.inner_join(known, "account_id")


def ltv_to_cac(ctx: KpiContext) -> Table:
    if ctx.ltv is None:
        empty = _with_cac(ctx).limit(0)
        return rows(empty, empty.cac, empty.cac)
    t = _with_cac(ctx)
    ltv = ctx.ltv.select("account_id", ltv=ctx.ltv.ltv.cast("float64"))
    t = t.inner_join(ltv.filter(ltv.ltv.notnull()), "account_id")
    return rows(t, t.ltv, t.cac)


def cac_payback(ctx: KpiContext) -> Table:
    t = _with_cac(ctx)
    return rows(t, t.cac, t.mrr_last)


OUTCOME_KPIS: tuple[KPI, ...] = (
    KPI(
        "logo_churn_rate",
        "顧客解約率",
        "Logo churn rate",
        "outcome",
        "percent",
        "lower",
        "Accounts of the start cohort with no MRR at the close / accounts of the start cohort.",
        logo_churn,
        needs=("contracts",),
        scale=100.0,
    ),
    KPI(
        "revenue_churn_rate",
        "収益解約率",
        "Revenue churn rate",
        "outcome",
        "percent",
        "lower",
        "(Churned MRR + contraction MRR of the start cohort) / start MRR (= 100 % − GRR).",
        revenue_churn,
        needs=("contracts",),
        scale=100.0,
    ),
    KPI(
        "grr",
        "GRR（売上総維持率）",
        "Gross revenue retention",
        "outcome",
        "percent",
        "higher",
        "(Start MRR − contraction − churn) / start MRR, over the start cohort.",
        grr,
        needs=("contracts",),
        scale=100.0,
    ),
    KPI(
        "nrr",
        "NRR（売上純維持率）",
        "Net revenue retention",
        "outcome",
        "percent",
        "higher",
        "(Start MRR + expansion − contraction − churn) / start MRR, over the start cohort.",
        nrr,
        needs=("contracts",),
        scale=100.0,
    ),
    KPI(
        "arpu",
        "ARPU（顧客当たり月次売上）",
        "ARPU",
        "outcome",
        "currency",
        "higher",
        "MRR on the last day / accounts with an active contract on the last day.",
        arpu,
        needs=("contracts",),
    ),
    KPI(
        "renewal_rate",
        "更新率",
        "Renewal rate",
        "outcome",
        "percent",
        "higher",
        "Contracts due in the period that were renewed / contracts due in the period.",
        renewal_rate,
        needs=("contracts",),
        scale=100.0,
    ),
    KPI(
        "upsell_rate",
        "アップセル率",
        "Upsell rate",
        "outcome",
        "percent",
        "higher",
        "Upsell deals won in the period / accounts active on the last day.",
        upsell_rate,
        needs=("contracts",),
        scale=100.0,
    ),
    KPI(
        "cross_sell_rate",
        "クロスセル率",
        "Cross-sell rate",
        "outcome",
        "percent",
        "higher",
        "Cross-sell deals won in the period / accounts active on the last day.",
        cross_sell_rate,
        needs=("contracts",),
        scale=100.0,
    ),
    KPI(
        "ltv_to_cac",
        "LTV/CAC",
        "LTV/CAC",
        "outcome",
        "ratio",
        "higher",
        "Σ LTV / Σ acquisition cost over active accounts with both known.",
        ltv_to_cac,
        needs=("contracts",),
    ),
    KPI(
        "cac_payback_months",
        "CAC回収期間",
        "CAC payback",
        "outcome",
        "months",
        "lower",
        "Σ acquisition cost / Σ MRR on the last day over active accounts with a known cost.",
        cac_payback,
        needs=("contracts",),
    ),
)
