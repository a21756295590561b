"""A first per-account summary as of a date: trailing revenue, tenure, active recurring revenue.

All amounts are in the company currency; ``revenue_12m`` is order revenue plus contract revenue
(recurring amount × months of the term inside the window) over the 365 days ending ``as_of``;
``mrr`` is the monthly recurring amount of contracts active on ``as_of``; ``tenure_months`` is
``(as_of − customer_since)`` in months of 30.4375 days. Only rows dated on or before ``as_of``
are read, so the summary never looks into the future.
"""

from __future__ import annotations

import datetime as dt

import ibis
import pandas as pd
from ibis.backends import BaseBackend

DAYS_PER_MONTH = 30.4375


def account_summary(con: BaseBackend, as_of: dt.date) -> pd.DataFrame:
    """One row per account: account_id, revenue_12m, order_revenue_12m, contract_revenue_12m,
    mrr, orders_12m, tenure_months."""
    accounts = con.table("accounts")
    orders = con.table("orders")
    contracts = con.table("contracts")
    end = ibis.literal(as_of)
    start = ibis.literal(as_of - dt.timedelta(days=365))

    recent = orders.filter((orders.order_date > start) & (orders.order_date <= end))
    order_rev = recent.group_by("account_id").aggregate(
        order_revenue_12m=recent.amount.cast("float64").sum(),
        orders_12m=recent.order_number.nunique(),
    )

    started = contracts.filter(contracts.start_date <= end)
    lo = ibis.greatest(started.start_date, start)
    hi = ibis.least(started.end_date, end)
    overlap_days = hi.delta(lo, unit="day").clip(lower=0)
    monthly = started.recurring_amount.cast("float64")
    contract_rows = started.mutate(
        window_revenue=monthly * overlap_days.cast("float64") / DAYS_PER_MONTH,
        active_mrr=ibis.ifelse(started.end_date > end, monthly, 0.0),
    )
    contract_rev = contract_rows.group_by("account_id").aggregate(
        contract_revenue_12m=contract_rows.window_revenue.sum(),
        mrr=contract_rows.active_mrr.sum(),
    )

    joined = (
        accounts.select("id", "customer_since")
        .left_join(order_rev, accounts.id == order_rev.account_id)
        .select("id", "customer_since", "order_revenue_12m", "orders_12m")
    )
    joined = joined.left_join(contract_rev, joined.id == contract_rev.account_id).select(
        "id", "customer_since", "order_revenue_12m", "orders_12m", "contract_revenue_12m", "mrr"
    )
    frame = joined.execute()
    frame = frame.rename(columns={"id": "account_id"}).sort_values("account_id")
    for column in ("order_revenue_12m", "contract_revenue_12m", "mrr", "orders_12m"):
        frame[column] = frame[column].astype("float64").fillna(0.0)
    frame["revenue_12m"] = frame["order_revenue_12m"] + frame["contract_revenue_12m"]
    since = pd.to_datetime(frame.pop("customer_since"))
    tenure_days = (pd.Timestamp(as_of) - since).dt.days.clip(lower=0)
    frame["tenure_months"] = (tenure_days / DAYS_PER_MONTH).astype("float64").fillna(0.0)
    return frame.reset_index(drop=True)
