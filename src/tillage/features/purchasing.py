"""Purchasing features from order lines: the RFM summary, trailing revenue and margin, order gaps.

Columns (amounts in the company currency; windows are ``(as_of − N days, as_of]``):

* ``rfm_frequency``, ``rfm_recency``, ``rfm_t``, ``rfm_monetary_value`` — the RFM summary of
  :func:`tillage.features.rfm.rfm_summary_expr` over purchase days on or before ``as_of``
  (recency and T in ``period`` units);
* ``revenue_90d``, ``revenue_365d``, ``margin_90d``, ``margin_365d``, ``orders_90d``,
  ``orders_365d`` (distinct order numbers); ``revenue_prev_365d``, the revenue of the year before
  (``(as_of − 730, as_of − 365]``), so ``revenue_365d / revenue_prev_365d − 1`` is the order
  trend;
* ``days_since_last_order``, ``order_gap_mean_days``, ``order_gap_sd_days``,
  ``order_gap_max_days`` — over the gaps between consecutive purchase days (null with fewer than
  two purchase days; the standard deviation needs three).
"""

from __future__ import annotations

import datetime as dt

import ibis
from ibis.backends import BaseBackend
from ibis.expr.types import Table

from tillage.features._common import AsOf, day, days_between, in_window, money, sum_if
from tillage.features.rfm import Period, rfm_summary_expr

WINDOWS = (90, 365)
PREVIOUS_DAYS = 365


def purchasing_features(con: BaseBackend, as_of: AsOf, *, period: Period = "week") -> Table:
    """One row per account with an order on or before ``as_of``."""
    orders = con.table("orders")
    known = orders.filter(orders.order_date <= day(as_of))

    rfm = rfm_summary_expr(
        known.select("account_id", "order_date", amount=money(known.amount)),
        customer="account_id",
        date="order_date",
        amount="amount",
        period=period,
        calibration_end=as_of,
    )
    rfm = rfm.select(
        account_id=rfm.customer,
        rfm_frequency=rfm.frequency,
        rfm_recency=rfm.recency,
        rfm_t=rfm["T"],
        rfm_monetary_value=rfm.monetary_value,
    )

    # trailing windows: only the last two years' lines are scanned
    year = known.filter(in_window(known.order_date, as_of, 2 * PREVIOUS_DAYS))
    margin = money(year.margin).fill_null(0.0)
    amount = money(year.amount)
    metrics = {}
    for days in WINDOWS:
        inside = in_window(year.order_date, as_of, days)
        metrics[f"revenue_{days}d"] = sum_if(inside, amount)
        metrics[f"margin_{days}d"] = sum_if(inside, margin)
        metrics[f"orders_{days}d"] = year.order_number.nunique(where=inside)
    before = in_window(year.order_date, as_of - dt.timedelta(days=PREVIOUS_DAYS), PREVIOUS_DAYS)
    metrics["revenue_prev_365d"] = sum_if(before, amount)
    windows = year.group_by("account_id").aggregate(**metrics)

    days = known.select("account_id", "order_date").distinct()
    days = days.mutate(
        previous=days.order_date.lag().over(
            ibis.window(group_by="account_id", order_by="order_date")
        )
    )
    days = days.mutate(gap=days_between(days.order_date, days.previous))
    gaps = days.group_by("account_id").aggregate(
        last_order=days.order_date.max(),
        order_gap_mean_days=days.gap.mean(),
        order_gap_sd_days=days.gap.std(how="sample"),
        order_gap_max_days=days.gap.max(),
    )
    gaps = gaps.select(
        "account_id",
        days_since_last_order=days_between(day(as_of), gaps.last_order),
        order_gap_mean_days=gaps.order_gap_mean_days,
        order_gap_sd_days=gaps.order_gap_sd_days,
        order_gap_max_days=gaps.order_gap_max_days,
    )

    out = rfm.join(gaps, "account_id").left_join(windows, "account_id").drop("account_id_right")
    fills = {c: out[c].fill_null(0) for c in windows.columns if c != "account_id"}
    out = out.mutate(**fills)
    return out.select(
        "account_id",
        "rfm_frequency",
        "rfm_recency",
        "rfm_t",
        "rfm_monetary_value",
        *(f"{m}_{d}d" for d in WINDOWS for m in ("revenue", "margin", "orders")),
        "revenue_prev_365d",
        "days_since_last_order",
        "order_gap_mean_days",
        "order_gap_sd_days",
        "order_gap_max_days",
    )
