"""The inputs of the organisational-risk scores, one row per account as of a date.

Key-person dependency is measured over the activities on the days ``(as_of − window_days,
as_of]`` (:func:`tillage.features.engagement.touch_breadth`): ``touches``, ``rep_touches``
(those naming a rep), ``reps_touching``, ``contacts_touched``, ``departments_touched``,
``rep_concentration`` (Herfindahl index of the reps' shares), ``top_rep_share`` and
``top_rep_id`` (null without an activity naming a rep). Counts are 0 for an account without
activities in the window.

The silent-churn inputs are columns of the feature table (``docs/features.md``), read as they
are: ``days_since_last_meeting``, ``tickets_unresolved_30d``, ``nps_latest``,
``usage_active_users_trend``, ``revenue_365d`` and ``revenue_prev_365d``.

``active`` says whether the account is still a customer on ``as_of``: it holds a contract running
then (``start_date <= as_of < end_date``, or ending on ``as_of`` and renewed: its status is
``renewed`` or a later contract names it in ``renewed_from_id``), or it ordered in the last 365
days. An account that is not active has already churned (or lapsed), and is not scored for silent
churn.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
from ibis.backends import BaseBackend
from ibis.expr.types import Table

from tillage.errors import DataValidationError
from tillage.features._common import as_date, day
from tillage.features.build import FeatureTables, features_expr
from tillage.features.engagement import CONCENTRATION_DAYS, touch_breadth
from tillage.features.engine import execute_arrow

__all__ = [
    "BREADTH_COLUMNS",
    "BREADTH_TABLES",
    "SILENT_COLUMNS",
    "breadth_inputs",
    "risk_inputs",
    "running_contracts",
]

#: Who touches the account, over the window.
BREADTH_COLUMNS: tuple[str, ...] = (
    "touches",
    "rep_touches",
    "reps_touching",
    "contacts_touched",
    "departments_touched",
    "rep_concentration",
    "top_rep_share",
    "top_rep_id",
)
#: Feature-table columns the silent-churn signals read.
SILENT_COLUMNS: tuple[str, ...] = (
    "days_since_last_meeting",
    "tickets_unresolved_30d",
    "nps_latest",
    "usage_active_users_trend",
    "revenue_365d",
    "revenue_prev_365d",
)
_COUNTS = ("touches", "rep_touches", "reps_touching", "contacts_touched", "departments_touched")


def running_contracts(con: BaseBackend, as_of: dt.date) -> Table:
    """``(account_id, running_contracts)``: the contracts an account holds on ``as_of`` — running
    then, or ending on ``as_of`` and renewed (the successor may start the next day and not be in
    the store yet). One row per account with at least one."""
    contracts = con.table("contracts")
    renewed = (
        contracts.filter(contracts.renewed_from_id.notnull())
        .select(predecessor="renewed_from_id")
        .distinct()
    )
    rows = contracts.left_join(renewed, contracts.id == renewed.predecessor)
    running = (rows.start_date <= day(as_of)) & (rows.end_date > day(as_of))
    renewed_today = (rows.end_date == day(as_of)) & (
        (rows.status == "renewed") | rows.predecessor.notnull()
    )
    held = rows.filter(running | renewed_today)
    return held.group_by("account_id").aggregate(running_contracts=held.count())


def risk_inputs(
    con: BaseBackend,
    as_of: dt.date | str,
    *,
    window_days: int = CONCENTRATION_DAYS,
    features: FeatureTables | None = None,
) -> pd.DataFrame:
    """:data:`BREADTH_COLUMNS` over the last ``window_days`` days, :data:`SILENT_COLUMNS` and
    ``active`` (bool), indexed by ``account_id`` (every account of the store, sorted).
    ``top_rep_id`` is a nullable integer; the other columns are float64 (NaN where a statistic
    needs data). ``features``: the feature tables already computed, by date."""
    as_of = as_date(as_of)
    if window_days <= 0:
        raise DataValidationError(f"window_days must be positive, got {window_days}")
    table = features_expr(con, as_of, tables=features)
    table = table.select("account_id", "orders_365d", *SILENT_COLUMNS)
    breadth = touch_breadth(con, as_of, window_days)
    expr = table.left_join(breadth, "account_id").drop("account_id_right")
    expr = expr.left_join(running_contracts(con, as_of), "account_id").drop("account_id_right")
    frame = execute_arrow(con, expr.order_by("account_id")).to_pandas()
    frame["active"] = (pd.to_numeric(frame["running_contracts"]).fillna(0) > 0) | (
        pd.to_numeric(frame["orders_365d"]).fillna(0) > 0
    )
    for column in SILENT_COLUMNS:
        frame[column] = pd.to_numeric(frame[column]).astype("float64")
    frame = _typed_breadth(frame)
    return frame.set_index("account_id")[[*BREADTH_COLUMNS, *SILENT_COLUMNS, "active"]]


#: The tables and columns :func:`breadth_inputs` reads (a backend holding only these will do).
BREADTH_TABLES: dict[str, tuple[str, ...]] = {
    "activities": ("account_id", "occurred_at", "contact_id", "rep_id"),
    "contacts": ("id", "department"),
}


def breadth_inputs(
    con: BaseBackend, as_of: dt.date | str, *, window_days: int = CONCENTRATION_DAYS
) -> pd.DataFrame:
    """:data:`BREADTH_COLUMNS` as :func:`risk_inputs` gives them, for the accounts with an
    activity in the window only (an account without one has none to count), indexed by
    ``account_id``: what key-person risk reads, without the feature table's work."""
    as_of = as_date(as_of)
    if window_days <= 0:
        raise DataValidationError(f"window_days must be positive, got {window_days}")
    expr = touch_breadth(con, as_of, window_days).order_by("account_id")
    frame = _typed_breadth(execute_arrow(con, expr).to_pandas())
    return frame.set_index("account_id")[list(BREADTH_COLUMNS)]


def _typed_breadth(frame: pd.DataFrame) -> pd.DataFrame:
    """The account id and :data:`BREADTH_COLUMNS` of ``frame`` typed: counts float64 (0 where
    null), shares float64, ``top_rep_id`` a nullable integer."""
    frame["account_id"] = frame["account_id"].astype("int64")
    for column in _COUNTS:
        frame[column] = pd.to_numeric(frame[column]).fillna(0).astype("float64")
    for column in ("rep_concentration", "top_rep_share"):
        frame[column] = pd.to_numeric(frame[column]).astype("float64")
    frame["top_rep_id"] = pd.to_numeric(frame["top_rep_id"]).astype("Int64")
    return frame
