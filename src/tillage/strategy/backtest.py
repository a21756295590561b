"""Backtest of the account value models: fit as of a calibration end, predict the holdout.

:func:`backtest` reads the store only up to ``calibration_end`` to fit and predict, then reads
what happened in the holdout ``(calibration_end, calibration_end + horizon months]``:

* per-account **revenue** (order lines + contract MRR × months of each term inside the window)
  and **orders** (distinct order numbers): MAE, RMSE, total predicted vs actual;
* **churn**: P(no contract left at the end of the holdout) for the accounts with a contract on
  ``calibration_end`` against what happened; **P(order)**: P(at least one order in the holdout)
  for the accounts who bought before, against whether they did (BG/NBD's P(alive) is not
  observable; this is its observable consequence). Brier score and a reliability table by decile;
* **ranking**: Spearman correlation with the realised revenue and the share of the realised
  revenue captured by the top decile.

Only accounts that were customers by ``calibration_end`` (an order, an active contract or a
past renewal) are scored: customers acquired in the holdout are not predictable per account.
Every metric sits next to two naive baselines: **last period** (the revenue and orders of the
``horizon`` months before ``calibration_end`` carried forward; for probabilities, whether the
account ordered in that window, and the historical churn rate per renewal turned into a horizon
rate) and **cohort average** (the mean of the last period over the accounts of the same cohort:
contract holder or not × buyer or not × tenure in quarters, up to 3 years; for probabilities,
the cohort's rate).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import ibis
import numpy as np
import pandas as pd
from ibis.backends import BaseBackend

from tillage.features._common import (
    DAYS_PER_MONTH,
    as_date,
    count_if,
    day,
    days_between,
    money,
)
from tillage.features.engine import execute_arrow
from tillage.models.account_ltv import AccountLTV
from tillage.models.evaluation import (
    brier_score,
    errors,
    reliability_table,
    spearman,
    top_decile_capture,
)
from tillage.strategy.value import value_inputs

__all__ = ["BacktestResult", "backtest", "evaluate", "predict_holdout", "window_outcomes"]

MODELS = ("model", "last_period", "cohort_average")


@dataclass
class BacktestResult:
    """``accounts``: one row per account with predictions (``<model>_<quantity>``) and
    outcomes (``actual_<quantity>``); ``metrics``: metric × model; ``reliability``: a table per
    probability and model; ``settings``: the dates and horizon."""

    accounts: pd.DataFrame
    metrics: pd.DataFrame
    reliability: dict[str, pd.DataFrame] = field(default_factory=dict)
    settings: dict[str, object] = field(default_factory=dict)


def _add_months(date: dt.date, months: int) -> dt.date:
    return (pd.Timestamp(date) + pd.DateOffset(months=months)).date()


def window_outcomes(con: BaseBackend, start: dt.date, end: dt.date) -> pd.DataFrame:
    """Per account, over the days ``(start, end]``: ``revenue`` (orders + contracts),
    ``order_revenue``, ``contract_revenue``, ``orders``, ``ordered`` (0/1), ``had_contract``
    (a contract active on ``start``, or ending then and renewed) and ``churned`` (had one then
    and none running past ``end``: a contract that ends on ``end`` counts as running when it
    was renewed, or its successor starts the next day — the decision on the last day belongs
    to the window)."""
    accounts = con.table("accounts").select(account_id="id")
    orders = con.table("orders")
    window = orders.filter((orders.order_date > day(start)) & (orders.order_date <= day(end)))
    sales = window.group_by("account_id").aggregate(
        order_revenue=money(window.amount).sum(), orders=window.order_number.nunique()
    )
    contracts = con.table("contracts")
    overlap = days_between(
        ibis.least(contracts.end_date, day(end)), ibis.greatest(contracts.start_date, day(start))
    ).clip(lower=0)
    renewed_on = (contracts.status == "renewed") & (contracts.end_date == day(start))
    active_start = (
        (contracts.start_date <= day(start)) & (contracts.end_date > day(start))
    ) | renewed_on
    after = day(end + dt.timedelta(days=1))
    active_end = ((contracts.start_date <= after) & (contracts.end_date > day(end))) | (
        (contracts.end_date == day(end)) & (contracts.status == "renewed")
    )
    recurring = contracts.group_by("account_id").aggregate(
        contract_revenue=(money(contracts.recurring_amount) * overlap / DAYS_PER_MONTH).sum(),
        active_start=count_if(active_start),
        active_end=count_if(active_end),
    )
    out = accounts.left_join(sales, "account_id").drop("account_id_right")
    out = out.left_join(recurring, "account_id").drop("account_id_right")
    frame = execute_arrow(con, out).to_pandas().fillna(0)
    frame["account_id"] = frame["account_id"].astype("int64")
    frame["revenue"] = frame["order_revenue"] + frame["contract_revenue"]
    frame["ordered"] = (frame["orders"] > 0).astype(float)
    frame["had_contract"] = frame["active_start"] > 0
    frame["churned"] = np.where(frame["had_contract"], (frame["active_end"] == 0) * 1.0, np.nan)
    columns = ["revenue", "order_revenue", "contract_revenue", "orders", "ordered"]
    return frame.set_index("account_id")[[*columns, "had_contract", "churned"]].sort_index()


def predict_holdout(
    con: BaseBackend,
    calibration_end: dt.date | str,
    horizon_months: int,
    *,
    model: AccountLTV | None = None,
) -> pd.DataFrame:
    """Predictions for the holdout from the model and the two baselines, one row per account."""
    cal = as_date(calibration_end, "calibration_end")
    inputs = value_inputs(con, cal)
    model = model or AccountLTV(n_draws=0, discount_rate=0.0)
    model.horizon_months = horizon_months  # the holdout is the model's horizon
    model.fit(inputs.accounts, inputs.decisions, mix=inputs.mix)
    # only accounts that were customers by the calibration end can be predicted
    known = (
        (inputs.accounts["mrr"].fillna(0) > 0)
        | inputs.accounts["T"].notna()
        | inputs.accounts["account_id"].isin(inputs.decisions["account_id"])
    )
    pred = model.predict(inputs.accounts[known])
    prior = window_outcomes(con, _add_months(cal, -horizon_months), cal)
    acc = inputs.accounts.set_index("account_id")
    out = pd.DataFrame(index=pred.index)
    out["model_revenue"] = pred["expected_revenue"]
    out["model_orders"] = pred["expected_orders"]
    out["model_ltv"] = pred["ltv"]
    out["model_p_churn"] = pred["p_churn_horizon"]
    out["model_p_order"] = pred["p_order_in_horizon"]
    last = prior.reindex(out.index).fillna(0.0)
    holder = (acc["mrr"].reindex(out.index).fillna(0) > 0).to_numpy()
    buyer = acc["T"].reindex(out.index).notna().to_numpy()
    out["last_period_revenue"] = last["revenue"]
    out["last_period_orders"] = last["orders"]
    out["last_period_ltv"] = last["revenue"]
    # historical churn per renewal, turned into P(churn within the horizon) by the renewals due
    decisions = inputs.decisions
    rate = float(decisions["churned"].mean()) if len(decisions) else 0.0
    months = acc["months_to_renewal"].reindex(out.index).to_numpy(dtype=float)
    term = acc["term_months"].reindex(out.index).fillna(12.0).clip(lower=1).to_numpy(dtype=float)
    due = np.clip(np.floor((horizon_months - np.nan_to_num(months, nan=0.0)) / term) + 1, 0, None)
    out["last_period_p_churn"] = np.where(holder, 1.0 - (1.0 - rate) ** due, np.nan)
    out["last_period_p_order"] = np.where(buyer, last["ordered"], np.nan)
    tenure_band = np.floor(acc["tenure_months"].reindex(out.index).fillna(0.0) / 3.0).clip(upper=12)
    cohort = pd.Series(
        [f"{int(h)}{int(b)}{int(y)}" for h, b, y in zip(holder, buyer, tenure_band, strict=True)],
        index=out.index,
    )
    for quantity, source in (
        ("revenue", last["revenue"]),
        ("orders", last["orders"]),
        ("ltv", last["revenue"]),
        ("p_order", out["last_period_p_order"]),
    ):
        out[f"cohort_average_{quantity}"] = source.groupby(cohort).transform("mean")
    # cohort churn rate: the decisions' churn rate by term type (monthly or not)
    monthly = decisions["term_months"] == 1 if len(decisions) else pd.Series(dtype=bool)
    rates = {
        True: float(decisions.loc[monthly, "churned"].mean()) if monthly.any() else rate,
        False: float(decisions.loc[~monthly, "churned"].mean()) if (~monthly).any() else rate,
    }
    per_term = np.where(term == 1, rates[True], rates[False])
    out["cohort_average_p_churn"] = np.where(holder, 1.0 - (1.0 - per_term) ** due, np.nan)
    out.attrs["model"] = model
    return out


def evaluate(frame: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """Metrics (rows) × models (columns) from ``<model>_<quantity>`` and ``actual_<quantity>``
    columns; and the reliability tables, keyed ``"<probability>/<model>"``."""
    rows: dict[str, dict[str, float]] = {}
    tables: dict[str, pd.DataFrame] = {}
    for name in MODELS:
        col: dict[str, float] = {}
        for quantity in ("revenue", "orders"):
            for key, value in errors(
                frame[f"{name}_{quantity}"], frame[f"actual_{quantity}"]
            ).items():
                col[f"{quantity}_{key}"] = value
        for quantity, outcome in (("p_churn", "actual_churned"), ("p_order", "actual_ordered")):
            col[f"{quantity}_brier"] = brier_score(frame[f"{name}_{quantity}"], frame[outcome])
            table = reliability_table(frame[f"{name}_{quantity}"], frame[outcome])
            tables[f"{quantity}/{name}"] = table
            col[f"{quantity}_max_decile_gap"] = (
                float(table["gap"].abs().max()) if len(table) else np.nan
            )
        col["spearman_revenue"] = spearman(frame[f"{name}_revenue"], frame["actual_revenue"])
        col["top_decile_capture"] = top_decile_capture(
            frame[f"{name}_ltv"], frame["actual_revenue"]
        )
        rows[name] = col
    metrics = pd.DataFrame(rows)
    metrics.loc["top_decile_capture_oracle", :] = top_decile_capture(
        frame["actual_revenue"], frame["actual_revenue"]
    )
    return metrics, tables


def backtest(
    con: BaseBackend,
    calibration_end: dt.date | str,
    horizon_months: int,
    *,
    model: AccountLTV | None = None,
    actuals: pd.DataFrame | None = None,
) -> BacktestResult:
    """Fit as of ``calibration_end``, predict ``horizon_months`` ahead, compare with what
    happened. ``actuals`` (indexed by account, columns ``revenue``, ``orders``, ``ordered``,
    ``churned``) replaces the store's holdout, e.g. with the demo generator's true futures."""
    cal = as_date(calibration_end, "calibration_end")
    frame = predict_holdout(con, cal, horizon_months, model=model)
    fitted = frame.attrs.pop("model")
    if actuals is None:
        actuals = window_outcomes(con, cal, _add_months(cal, horizon_months))
    for name in ("revenue", "orders", "ordered", "churned"):
        frame[f"actual_{name}"] = actuals[name].reindex(frame.index).astype(float)
    frame["actual_revenue"] = frame["actual_revenue"].fillna(0.0)
    frame["actual_orders"] = frame["actual_orders"].fillna(0.0)
    metrics, tables = evaluate(frame)
    settings = {
        "calibration_end": cal.isoformat(),
        "holdout_end": _add_months(cal, horizon_months).isoformat(),
        "horizon_months": horizon_months,
        "accounts": len(frame),
        "model": fitted.params(),
    }
    return BacktestResult(frame, metrics, tables, settings)
