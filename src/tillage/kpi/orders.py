"""Order KPIs: what a company without contracts (a wholesaler, B2B e-commerce, spot orders)
tracks instead of churn and retention — active buyers, repeat purchases, reactivation and
order frequency.

An **order** is an order number of one account (``orders.order_number``; its lines are summed)
whose net amount is positive, dated by its first line: a cancellation invoice (negative lines)
is not an order, and lines cancelled in full leave none. A **buyer** of a period is an account
with at least one order in it. An account is **lapsed** at a period's start when its last
order is more than ``kpi.lapse_days`` (the strategy file's, default 180) days before the first
day. Formulas: ``docs/kpi.md``.

On such a store the contact KPIs watch the **recent buyers** (:func:`watched_accounts`): the
accounts with an order in the ``lapse_days`` days up to the period's last day.
"""

from __future__ import annotations

import datetime as dt

import ibis
from ibis.expr.types import Table

from tillage.features._common import day
from tillage.kpi.period import Period
from tillage.kpi.registry import KPI, LAPSE_DAYS, KpiContext, rows


def _orders(ctx: KpiContext) -> Table:
    """``(account_id, order_number, ordered_on)`` of the orders with a positive net amount."""
    lines = ctx.table("orders")
    grouped = lines.group_by("account_id", "order_number").aggregate(
        ordered_on=lines.order_date.min(), net=lines.amount.cast("float64").sum()
    )
    return grouped.filter(grouped.net > 0).drop("net")


def _between(orders: Table, first: dt.date, last: dt.date) -> Table:
    return orders.filter((orders.ordered_on >= day(first)) & (orders.ordered_on <= day(last)))


def _buyers(orders: Table, period: Period) -> Table:
    """``(account_id, n)``: each buyer of ``period`` with its number of orders."""
    inside = _between(orders, period.first, period.last)
    return inside.group_by("account_id").aggregate(n=inside.count())


def active_buyers(ctx: KpiContext) -> Table:
    buyers = _buyers(_orders(ctx), ctx.period)
    return rows(buyers, ibis.literal(1.0), 0.0)


def repeat_purchase_rate(ctx: KpiContext) -> Table:
    orders = _orders(ctx)
    before = _buyers(orders, ctx.period.previous()).select("account_id")
    now = _buyers(orders, ctx.period).select(again="account_id")
    joined = before.left_join(now, before.account_id == now.again)
    return rows(joined, ibis.ifelse(joined.again.notnull(), 1.0, 0.0), 1.0)


def reactivation_rate(ctx: KpiContext) -> Table:
    orders = _orders(ctx)
    start = ctx.period.first
    earlier = orders.filter(orders.ordered_on < day(start))
    last = earlier.group_by("account_id").aggregate(last=earlier.ordered_on.max())
    lapsed = last.filter(last["last"] < day(start - dt.timedelta(days=ctx.lapse_days)))
    now = _buyers(orders, ctx.period).select(back="account_id")
    joined = lapsed.left_join(now, lapsed.account_id == now.back)
    return rows(joined, ibis.ifelse(joined.back.notnull(), 1.0, 0.0), 1.0)


def watched_accounts(ctx: KpiContext) -> Table:
    """``(account_id)``: the accounts the contact KPIs watch — those with an active contract on
    the period's last day; on a store without contracts, the buyers with an order on one of the
    ``ctx.lapse_days`` days up to and including the last day (not lapsed)."""
    if ctx.has_rows("contracts"):
        return ctx.active.select("account_id")
    last = ctx.period.last
    recent = _between(_orders(ctx), last - dt.timedelta(days=ctx.lapse_days - 1), last)
    return recent.select("account_id").distinct()


def order_frequency(ctx: KpiContext) -> Table:
    buyers = _buyers(_orders(ctx), ctx.period)
    return rows(buyers, buyers.n, float(ctx.period.months))


ORDER_KPIS: tuple[KPI, ...] = (
    KPI(
        "active_buyers",
        "購入顧客数",
        "Active buyers",
        "outcome",
        "count",
        "higher",
        "Accounts with at least one order (net amount > 0) in the period.",
        active_buyers,
        kind="count",
        needs=("orders",),
    ),
    KPI(
        "repeat_purchase_rate",
        "リピート購入率",
        "Repeat-purchase rate",
        "outcome",
        "percent",
        "higher",
        "Buyers of the previous period of the same length who ordered again in the period / "
        "buyers of the previous period.",
        repeat_purchase_rate,
        scale=100.0,
        needs=("orders",),
    ),
    KPI(
        "reactivation_rate",
        "休眠顧客の再購入率",
        "Reactivation rate",
        "outcome",
        "percent",
        "higher",
        "Accounts lapsed at the period's start (an earlier order, none in the kpi.lapse_days "
        f"days before the first day, default {LAPSE_DAYS}) that ordered in the period / those "
        "lapsed accounts.",
        reactivation_rate,
        scale=100.0,
        needs=("orders",),
    ),
    KPI(
        "order_frequency",
        "購入頻度",
        "Order frequency",
        "outcome",
        "per_account_month",
        "higher",
        "Orders in the period / (buyers in the period × months in the period).",
        order_frequency,
        needs=("orders",),
    ),
)
