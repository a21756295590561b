"""Outcome labels for backtests: what happened in ``(as_of, as_of + horizon]``.

These read rows dated *after* ``as_of`` on purpose; they are never features.

Columns: ``label_churned`` — 1 when the account had recurring revenue on ``as_of`` (an active
contract) and none on ``as_of + horizon``, 0 when it still had some, null when it had none on
``as_of`` (not at risk); ``label_revenue`` / ``label_margin`` — order revenue and margin dated in
the window; ``label_orders`` — distinct orders in the window.
"""

from __future__ import annotations

import datetime as dt

import ibis
from ibis.backends import BaseBackend
from ibis.expr.types import Table

from tillage.features._common import AsOf, count_if, day, money


def label_features(con: BaseBackend, as_of: AsOf, horizon_days: int) -> Table:
    """One row per account (all accounts), labels over the ``horizon_days`` after ``as_of``."""
    end = as_of + dt.timedelta(days=horizon_days)
    accounts = con.table("accounts").select(account_id="id")

    contracts = con.table("contracts")
    active_then = (contracts.start_date <= day(as_of)) & (contracts.end_date > day(as_of))
    active_end = (contracts.start_date <= day(end)) & (contracts.end_date > day(end))
    status = contracts.group_by("account_id").aggregate(
        active_now=count_if(active_then), active_end=count_if(active_end)
    )

    orders = con.table("orders")
    window = orders.filter((orders.order_date > day(as_of)) & (orders.order_date <= day(end)))
    sales = window.group_by("account_id").aggregate(
        label_revenue=money(window.amount).sum(),
        label_margin=money(window.margin).fill_null(0.0).sum(),
        label_orders=window.order_number.nunique(),
    )
    out = accounts.left_join(status, "account_id").drop("account_id_right")
    out = out.left_join(sales, "account_id").drop("account_id_right")
    churned = ibis.ifelse(out.active_end.fill_null(0) > 0, 0, 1)
    return out.select(
        "account_id",
        label_churned=ibis.ifelse(out.active_now.fill_null(0) > 0, churned, None),
        label_revenue=out.label_revenue.fill_null(0.0),
        label_margin=out.label_margin.fill_null(0.0),
        label_orders=out.label_orders.fill_null(0),
    )
