"""The walking skeleton's per-account summary, now a view of the feature table.

``revenue_12m`` is order revenue plus contract revenue (recurring amount × months of the term
inside the window) over the 365 days ending ``as_of`` (``revenue_365d + contract_revenue_365d``
of :mod:`tillage.features.build`); ``mrr`` is the monthly recurring amount of contracts active on
``as_of``; ``tenure_months`` is ``(as_of − customer_since)`` in months of 30.4375 days. Only rows
dated on or before ``as_of`` are read, so the summary never looks into the future.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
from ibis.backends import BaseBackend

from tillage.features._common import DAYS_PER_MONTH
from tillage.features.build import FeatureTables, features_expr
from tillage.features.engine import execute_arrow

__all__ = ["DAYS_PER_MONTH", "account_summary"]


def account_summary(
    con: BaseBackend, as_of: dt.date, *, features: FeatureTables | None = None
) -> pd.DataFrame:
    """One row per account: account_id, revenue_12m, order_revenue_12m, contract_revenue_12m,
    mrr, orders_12m, tenure_months. ``con`` is a backend of
    :func:`tillage.features.engine.feature_backend`; ``features`` the feature tables already
    computed (:func:`~tillage.features.build.features_expr`'s ``tables``)."""
    table = features_expr(con, as_of, tables=features)
    expr = table.select(
        account_id=table.account_id,
        order_revenue_12m=table.revenue_365d,
        orders_12m=table.orders_365d.cast("float64"),
        contract_revenue_12m=table.contract_revenue_365d,
        mrr=table.mrr,
        tenure_months=table.tenure_months,
    )
    frame = execute_arrow(con, expr).to_pandas()
    frame["revenue_12m"] = frame["order_revenue_12m"] + frame["contract_revenue_12m"]
    frame = frame.sort_values("account_id").reset_index(drop=True)
    frame["account_id"] = frame["account_id"].astype("int64")
    return frame[
        [
            "account_id",
            "order_revenue_12m",
            "orders_12m",
            "contract_revenue_12m",
            "mrr",
            "revenue_12m",
            "tenure_months",
        ]
    ]
