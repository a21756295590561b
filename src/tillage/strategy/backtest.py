"""Backtest of the account value models: fit as of a calibration end, predict the holdout.

:func:`backtest` reads the store only up to ``calibration_end`` to fit and predict, then reads
what happened in the holdout ``(calibration_end, calibration_end + horizon months]``:

* per-account **revenue** (order lines + contract MRR × months of each term inside the window)
  and **orders** (distinct order numbers): MAE, RMSE, total predicted vs actual, and the
  coverage of the 80 % interval (randomised at the atom 0: a realised 0 counts as the
  interval's probability ``model_revenue_zero_inclusion`` of including it). tillage's forecast
  is the candidate chosen by rolling-origin folds inside the calibration data
  (:func:`~tillage.strategy.folds.inner_folds`, :mod:`tillage.models.forecast`); the
  probabilistic models' own is ``fitted_*``;
* **churn**: P(no contract left at the end of the holdout) for the accounts with a contract on
  ``calibration_end`` against what happened — tillage's is the model's or, where the model
  lost to it out of time in the folds (Brier score and log loss), the renewal-rate baseline's
  (:func:`~tillage.models.forecast.choose_churn`); **P(order)**: P(at least one order in the
  holdout) for the accounts who bought before, against whether they did (BG/NBD's P(alive) is
  not observable; this is its observable consequence). Brier score and a reliability table by
  decile;
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

import numpy as np
import pandas as pd
from ibis.backends import BaseBackend

from tillage.features._common import (
    as_date,
)
from tillage.models.account_ltv import AccountLTV
from tillage.models.evaluation import (
    brier_score,
    errors,
    interval_coverage,
    reliability_table,
    spearman,
    top_decile_capture,
)
from tillage.models.forecast import interval_groups
from tillage.strategy.folds import (
    MAX_FOLDS,
    STREAMS,
    add_months,
    choice_record,
    choose_streams,
    fit_predict,
    history_depth,
    inner_folds,
    renewal_rate_churn,
    window_outcomes,
)

__all__ = [
    "BacktestResult",
    "backtest",
    "evaluate",
    "predict_holdout",
]

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


def predict_holdout(
    con: BaseBackend,
    calibration_end: dt.date | str,
    horizon_months: int,
    *,
    model: AccountLTV | None = None,
    max_folds: int = MAX_FOLDS,
) -> pd.DataFrame:
    """Predictions for the holdout from tillage and the two baselines, one row per account.

    tillage's revenue and orders (``model_revenue``, ``model_orders``) are the candidates
    chosen per stream by the rolling-origin folds inside the calibration data
    (:func:`~tillage.models.forecast.choose_forecast`, :func:`inner_folds`), with the
    conformal 80 % interval ``model_revenue_low`` / ``model_revenue_high`` (NaN without
    folds); the probabilistic model's own forecast is ``fitted_revenue`` / ``fitted_orders``.
    ``attrs["forecast"]`` holds the choice per stream (candidate, reason, fold scores).
    """
    cal = as_date(calibration_end, "calibration_end")
    model = model or AccountLTV(n_draws=0, discount_rate=0.0)
    inputs, pred, last = fit_predict(con, cal, horizon_months, model)
    # the folds backtest the fitted model: one lacking a piece it has is left out
    folds = inner_folds(con, cal, horizon_months, model, max_folds=max_folds)
    choices, interval = choose_streams(folds)
    acc = inputs.accounts.set_index("account_id")
    depth = history_depth(inputs, pred.index).to_numpy()
    point = {
        name: choices[name].apply(pred[column], last[name], depth)
        for name, (column, _level) in STREAMS.items()
    }
    out = pd.DataFrame(index=pred.index)
    out["fitted_revenue"] = pred["expected_revenue"]
    out["fitted_orders"] = pred["expected_orders"]
    out["model_revenue"] = point["contract_revenue"] + point["order_revenue"]
    group = interval_groups(depth)
    low, high = (
        interval.apply(out["model_revenue"], group)
        if interval is not None
        else (np.full(len(out), np.nan), np.full(len(out), np.nan))
    )
    out["model_revenue_low"] = low
    out["model_revenue_high"] = high
    # the probability that a realised 0 counts as inside (the interval randomised at the atom 0)
    out["model_revenue_zero_inclusion"] = (
        interval.zero_inclusion(out["model_revenue"], group) if interval is not None else np.nan
    )
    out["model_orders"] = point["orders"]
    record = choice_record(choices, interval)
    out["model_ltv"] = pred["ltv"]
    baseline_churn = renewal_rate_churn(inputs, out.index, horizon_months)
    # the churn probability chosen out of time: the model's, or the renewal rate where it lost
    out["model_p_churn"] = (
        pred["p_churn_horizon"] if choices["churn"].name == "model" else baseline_churn
    )
    out["model_p_order"] = pred["p_order_in_horizon"]
    holder = (acc["mrr"].reindex(out.index).fillna(0) > 0).to_numpy()
    buyer = acc["T"].reindex(out.index).notna().to_numpy()
    out["last_period_revenue"] = last["revenue"]
    out["last_period_orders"] = last["orders"]
    out["last_period_ltv"] = last["revenue"]
    # historical churn per renewal, turned into P(churn within the horizon) by the renewals due
    out["last_period_p_churn"] = baseline_churn
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
    out["cohort_average_p_churn"] = renewal_rate_churn(
        inputs, out.index, horizon_months, by_term=True
    )
    out.attrs["model"] = model
    out.attrs["forecast"] = record
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
        if f"{name}_revenue_low" in frame.columns:
            col["revenue_interval_coverage"] = interval_coverage(
                frame[f"{name}_revenue_low"],
                frame[f"{name}_revenue_high"],
                frame["actual_revenue"],
                frame.get(f"{name}_revenue_zero_inclusion"),
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
    forecast = frame.attrs.pop("forecast")
    if actuals is None:
        actuals = window_outcomes(con, cal, add_months(cal, horizon_months))
    for name in ("revenue", "orders", "ordered", "churned"):
        frame[f"actual_{name}"] = actuals[name].reindex(frame.index).astype(float)
    frame["actual_revenue"] = frame["actual_revenue"].fillna(0.0)
    frame["actual_orders"] = frame["actual_orders"].fillna(0.0)
    metrics, tables = evaluate(frame)
    settings = {
        "calibration_end": cal.isoformat(),
        "holdout_end": add_months(cal, horizon_months).isoformat(),
        "horizon_months": horizon_months,
        "accounts": len(frame),
        "model": fitted.params(),
        "forecast": forecast,
    }
    return BacktestResult(frame, metrics, tables, settings)
