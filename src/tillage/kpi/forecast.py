"""Forecast accuracy: what a snapshot predicted for a later period against what happened.

The snapshot is the newest one dated on or before the period's first day (its ``as_of``). Three
forecasts are checked (formulas also in ``docs/review.md``):

* **Retention** — accounts whose *next renewal* at ``as_of`` falls in the period: the active
  contract (``start_date ≤ as_of < end_date``) with the earliest ``end_date``, due when
  ``first < end_date ≤ last + 1 day`` (as for the renewal rate). The forecast is the snapshot's
  ``churn_risk`` (P(churn at the next renewal)); the account *churned* when no contract names
  that contract in ``renewed_from_id``. Compared by
  :func:`~tillage.kpi.accuracy.probability_check`.
* **Revenue** — the snapshot's ``expected_revenue`` covers the 12 months after ``as_of``, the
  window ``W = (as_of, as_of + 12 months]``. Spread evenly over its days, the period's share is
  ``f = |W ∩ period| / |W|`` (days), so the forecast for the period is
  ``expected_revenue × f``. The actual revenue is the revenue *recognised* in the period: for
  each contract and calendar month of the period, ``recurring_amount × days the contract runs in
  the month / days in the month``, plus the orders dated in the period. Accounts without a
  forecast are left out of the comparison; ``actual_all`` is every scored account's revenue.
* **Deal wins** — the snapshot's scored deals (``snapshot_deals``) that closed in the period:
  ``win_probability`` against won (1) or lost (0). Deals still open at the period's end, or
  closed before it began, are left out (counted in ``still_open`` / ``closed_before``).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from pydantic import BaseModel

from tillage.kpi.accuracy import AmountCheck, ProbabilityCheck, amount_check, probability_check
from tillage.kpi.period import Period

FORECAST_MONTHS = 12
"""``expected_revenue`` covers this many months after the snapshot's as-of date."""


def forecast_window(as_of: dt.date) -> tuple[dt.date, dt.date]:
    """The first and last day of ``(as_of, as_of + 12 months]``."""
    end = (pd.Timestamp(as_of) + pd.DateOffset(months=FORECAST_MONTHS)).date()
    return as_of + dt.timedelta(days=1), end


def period_share(as_of: dt.date, period: Period) -> float:
    """``f``: the share of the forecast window's days that lie in ``period`` (0 … 1)."""
    first, last = forecast_window(as_of)
    overlap = (min(last, period.last) - max(first, period.first)).days + 1
    return max(overlap, 0) / ((last - first).days + 1)


def _months(period: Period) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    """``(first day, day after the last)`` of each calendar month of the period."""
    starts = pd.date_range(period.first, period.last, freq="MS")
    return [(s, s + pd.offsets.MonthBegin(1)) for s in starts]


def recognised_revenue(contracts: pd.DataFrame, orders: pd.DataFrame, period: Period) -> pd.Series:
    """Revenue recognised in ``period`` per account (see the module docstring).

    ``contracts``: ``account_id``, ``start_date``, ``end_date`` (first day not running),
    ``recurring_amount`` (per month); ``orders``: ``account_id``, ``revenue`` in the period.
    """
    start = pd.to_datetime(contracts["start_date"])
    end = pd.to_datetime(contracts["end_date"])
    amount = contracts["recurring_amount"].astype(float).to_numpy()
    total = np.zeros(len(contracts))
    for month_first, month_close in _months(period):
        lo = np.maximum(start, month_first)
        hi = np.minimum(end, month_close)
        days = np.clip((hi - lo).dt.days.to_numpy(dtype=float), 0, None)
        total += amount * days / (month_close - month_first).days
    contract = pd.Series(total, index=contracts["account_id"].astype("int64").to_numpy())
    order = pd.Series(
        orders["revenue"].astype(float).to_numpy(),
        index=orders["account_id"].astype("int64").to_numpy(),
    )
    both = pd.concat([contract, order])
    return both.groupby(level=0).sum().rename("revenue").rename_axis("account_id")


def next_renewals(contracts: pd.DataFrame, as_of: dt.date) -> pd.DataFrame:
    """Each account's next renewal at ``as_of``: ``account_id``, ``contract_id``, ``end_date``,
    ``renewed`` (the contract running on ``as_of`` with the earliest end; ties by id)."""
    start = pd.to_datetime(contracts["start_date"])
    end = pd.to_datetime(contracts["end_date"])
    day = pd.Timestamp(as_of)
    running = contracts[(start <= day) & (end > day)].assign(end_date=end)
    running = running.sort_values(["account_id", "end_date", "id"])
    first = running.drop_duplicates("account_id")
    return first.rename(columns={"id": "contract_id"})[
        ["account_id", "contract_id", "end_date", "renewed"]
    ].reset_index(drop=True)


class RevenueCheck(AmountCheck):
    """The revenue forecast for the period against the revenue recognised in it."""

    share: float
    n_all: int
    actual_all: float


class DealCheck(ProbabilityCheck):
    """Win probabilities of the deals that closed in the period against their outcome."""

    still_open: int
    closed_before: int
    predicted_value: float
    won_value: float


class ForecastAccuracy(BaseModel):
    """The three checks of one snapshot's forecasts for one period."""

    snapshot_id: int
    as_of: dt.date
    retention: ProbabilityCheck
    revenue: RevenueCheck
    deals: DealCheck


def retention_check(
    scores: pd.DataFrame, contracts: pd.DataFrame, as_of: dt.date, period: Period
) -> tuple[ProbabilityCheck, pd.DataFrame]:
    """Churn forecasts of the accounts whose next renewal falls in ``period``; also returns the
    rows compared (``account_id``, ``contract_id``, ``churn_risk``, ``churned``)."""
    due = next_renewals(contracts, as_of)
    inside = (due["end_date"] > pd.Timestamp(period.first)) & (
        due["end_date"] <= pd.Timestamp(period.close)
    )
    due = due[inside]
    forecast = scores.loc[scores["churn_risk"].notna(), ["account_id", "churn_risk"]]
    rows = due.merge(forecast, on="account_id", how="inner")
    rows = rows.assign(churned=(~rows["renewed"].astype(bool)).astype(int))
    rows = rows[["account_id", "contract_id", "churn_risk", "churned"]]
    return probability_check(rows["churn_risk"], rows["churned"]), rows


def revenue_check(
    scores: pd.DataFrame, revenue: pd.Series, as_of: dt.date, period: Period
) -> RevenueCheck:
    """``expected_revenue × share`` per account against the recognised ``revenue``."""
    share = period_share(as_of, period)
    ids = scores["account_id"].astype("int64")
    actual = ids.map(revenue).fillna(0.0).to_numpy(dtype=float)
    has = scores["expected_revenue"].notna().to_numpy()
    predicted = scores["expected_revenue"].astype(float).to_numpy()[has] * share
    check = amount_check(predicted, actual[has])
    return RevenueCheck(
        **check.model_dump(), share=share, n_all=len(scores), actual_all=float(actual.sum())
    )


def deal_check(deals: pd.DataFrame, period: Period) -> DealCheck:
    """Win probabilities of the deals closed in ``period`` against won / lost."""
    closed = deals["is_closed"].astype(bool)
    close = pd.to_datetime(deals["close_date"])
    inside = closed & (close >= pd.Timestamp(period.first)) & (close <= pd.Timestamp(period.last))
    before = closed & (close < pd.Timestamp(period.first))
    rows = deals[inside & deals["win_probability"].notna()]
    won = rows["is_won"].astype(bool)
    prob = rows["win_probability"].astype(float)
    amount = rows["amount"].astype(float).fillna(0.0)
    check = probability_check(prob, won.astype(int))
    return DealCheck(
        **check.model_dump(),
        still_open=int((~inside & ~before).sum()),
        closed_before=int(before.sum()),
        predicted_value=float((amount * prob).sum()),
        won_value=float(amount[won].sum()),
    )
