"""Product-usage features: level and trend per metric.

For each metric m (default ``active_users`` and ``logins``): ``usage_<m>_90d`` is the mean value
of the measurements dated in ``(as_of − 90, as_of]``; ``usage_<m>_prev_90d`` the mean in
``(as_of − 180, as_of − 90]``; ``usage_<m>_trend`` the relative change ``last / previous − 1``
(null when either is missing or the previous mean is 0). Units are the metric's own.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import ibis
from ibis.backends import BaseBackend
from ibis.expr.types import Table

from tillage.features._common import AsOf, day, in_window

METRICS: tuple[str, ...] = ("active_users", "logins")
WINDOW_DAYS = 90


def usage_features(con: BaseBackend, as_of: AsOf, *, metrics: Sequence[str] = METRICS) -> Table:
    """One row per account with a usage measurement in the last 180 days."""
    usage = con.table("usage")
    previous_end = as_of - dt.timedelta(days=WINDOW_DAYS)
    recent = usage.filter(
        (usage.date <= day(as_of))
        & usage.metric.isin(list(metrics))
        & in_window(usage.date, as_of, 2 * WINDOW_DAYS)
    )
    value = recent.value.cast("float64")
    last = in_window(recent.date, as_of, WINDOW_DAYS)
    prev = in_window(recent.date, previous_end, WINDOW_DAYS)
    aggs = {}
    for metric in metrics:
        is_metric = recent.metric == metric
        aggs[f"usage_{metric}_90d"] = value.mean(where=is_metric & last)
        aggs[f"usage_{metric}_prev_90d"] = value.mean(where=is_metric & prev)
    out = recent.group_by("account_id").aggregate(**aggs)
    trends = {}
    for metric in metrics:
        now, before = out[f"usage_{metric}_90d"], out[f"usage_{metric}_prev_90d"]
        trends[f"usage_{metric}_trend"] = ibis.ifelse(before != 0, now / before - 1.0, None)
    return out.mutate(**trends)
