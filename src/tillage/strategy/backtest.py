"""Backtest of the account value models: fit as of a calibration end, predict the holdout.

:func:`backtest` reads the store only up to ``calibration_end`` to fit and predict, then reads
what happened in the holdout ``(calibration_end, calibration_end + horizon months]``:

* per-account **revenue** (order lines + contract MRR × months of each term inside the window)
  and **orders** (distinct order numbers): MAE, RMSE, total predicted vs actual, and the
  coverage of the 80 % interval. tillage's forecast is the candidate chosen by rolling-origin
  folds inside the calibration data (:func:`inner_folds`, :mod:`tillage.models.forecast`);
  the probabilistic models' own is ``fitted_*``;
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

import copy
import datetime as dt
from dataclasses import dataclass, field

import ibis
import numpy as np
import pandas as pd
from ibis.backends import BaseBackend

from tillage.errors import ConvergenceError, DataValidationError
from tillage.features._common import (
    DAYS_PER_MONTH,
    as_date,
    count_if,
    day,
    days_between,
    money,
)
from tillage.features.build import FeatureTables
from tillage.features.engine import execute_arrow
from tillage.models.account_ltv import AccountLTV
from tillage.models.evaluation import (
    brier_score,
    errors,
    interval_coverage,
    reliability_table,
    spearman,
    top_decile_capture,
)
from tillage.models.forecast import (
    ChosenForecast,
    Fold,
    IntervalTable,
    choose_forecast,
    fit_interval,
)
from tillage.strategy.value import ValueInputs, value_inputs

__all__ = [
    "BacktestResult",
    "backtest",
    "choose_streams",
    "evaluate",
    "first_record",
    "fold_months",
    "inner_folds",
    "predict_holdout",
    "window_outcomes",
]

MODELS = ("model", "last_period", "cohort_average")
#: Rolling origins inside the calibration data that choose the forecast.
MAX_FOLDS = 2
#: Folds of the scoring run's choice (each is one more fit of the models: the run's time).
SCORING_FOLDS = 1
#: Days a fold's run-rate window may start before the first record (month ends of unequal
#: length: three months before 28 February is 28 November).
FOLD_SLACK = dt.timedelta(days=7)


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


def first_record(con: BaseBackend) -> dt.date | None:
    """The day of the first order or contract start in the store (None when it has neither)."""
    orders = con.table("orders")
    contracts = con.table("contracts")
    days = [
        # nullable: the minimum of an empty table is NULL (PostgreSQL's NOT NULL column is not)
        execute_arrow(con, table.aggregate(d=column.min().cast("date"))).to_pandas()["d"].iloc[0]
        for table, column in ((orders, orders.order_date), (contracts, contracts.start_date))
    ]
    known = [pd.Timestamp(d).date() for d in days if d is not None and not pd.isna(d)]
    return min(known) if known else None


def _fit_predict(
    con: BaseBackend,
    origin: dt.date,
    horizon_months: int,
    model: AccountLTV,
    features: FeatureTables | None = None,
) -> tuple[ValueInputs, pd.DataFrame, pd.DataFrame]:
    """Fit ``model`` as of ``origin`` and predict ``horizon_months`` for the accounts that were
    customers then; with the last period's outcomes (the naive run rate)."""
    inputs = value_inputs(con, origin, features=features)
    model.horizon_months = horizon_months  # the holdout is the model's horizon
    model.fit(inputs.accounts, inputs.decisions, mix=inputs.mix, returns=inputs.returns)
    # only accounts that were customers by the origin can be predicted
    known = (
        (inputs.accounts["mrr"].fillna(0) > 0)
        | inputs.accounts["T"].notna()
        | inputs.accounts["account_id"].isin(inputs.decisions["account_id"])
    )
    pred = model.predict(inputs.accounts[known])
    prior = window_outcomes(con, _add_months(origin, -horizon_months), origin)
    return inputs, pred, prior.reindex(pred.index).fillna(0.0)


def _depth(inputs: ValueInputs, index: pd.Index) -> pd.Series:
    """History depth per account: orders in the last year (the shrinkage weight's ``o``)."""
    acc = inputs.accounts.set_index("account_id")
    return acc["orders_365d"].reindex(index).fillna(0.0).astype(float)


#: The streams whose forecasts are chosen, with the model's column and whether the candidates
#: are scaled to the run rate's total (orders: yes, their level moves with the season; contract
#: revenue: no, its renewals are scheduled and modelled).
STREAMS: dict[str, tuple[str, bool]] = {
    "contract_revenue": ("expected_contract_revenue", False),
    "order_revenue": ("expected_order_revenue", True),
    "orders": ("expected_orders", True),
}


def fold_months(con: BaseBackend, calibration_end: dt.date, horizon_months: int) -> int:
    """The folds' horizon: ``H``, or where the history is shorter than two horizons the
    longest ``h`` whose fold (run-rate window and outcome window) fits inside it; 0 when not
    even one month fits."""
    first = first_record(con)
    if first is None:
        return 0
    for h in range(horizon_months, 0, -1):
        if first <= _add_months(calibration_end, -2 * h) + FOLD_SLACK:
            return h
    return 0


def inner_folds(
    con: BaseBackend,
    calibration_end: dt.date,
    horizon_months: int,
    model: AccountLTV,
    *,
    max_folds: int = MAX_FOLDS,
    features: FeatureTables | None = None,
) -> dict[str, list[Fold]]:
    """Rolling-origin folds inside the calibration data, per stream of :data:`STREAMS` and for
    the ``revenue`` as a whole (whose realised values fit the interval).

    The fold horizon ``h`` is :func:`fold_months`; the origins are ``calibration_end − j·h``
    (``j = 1 … max_folds``) whose run-rate window ``(o − h, o]`` lies after the first order or
    contract start (within :data:`FOLD_SLACK`). A fold whose model cannot be fitted is left
    out. ``features``: the feature tables already computed, by date."""
    h = fold_months(con, calibration_end, horizon_months)
    out: dict[str, list[Fold]] = {name: [] for name in (*STREAMS, "revenue")}
    if h == 0:
        return out
    first = first_record(con)
    for j in range(1, max_folds + 1):
        origin = _add_months(calibration_end, -j * h)
        if first is None or first > _add_months(origin, -h) + FOLD_SLACK:
            break  # the run rate of this origin would cover days before the first record
        try:
            inputs, pred, prior = _fit_predict(con, origin, h, copy.deepcopy(model), features)
        except (ConvergenceError, DataValidationError):
            continue
        if not len(pred):
            continue
        actual = window_outcomes(con, origin, _add_months(origin, h))
        actual = actual.reindex(pred.index).fillna(0.0)
        depth = _depth(inputs, pred.index).to_numpy()
        for name, (column, _level) in {**STREAMS, "revenue": ("expected_revenue", True)}.items():
            out[name].append(
                Fold(
                    pred[column].to_numpy(),
                    prior[name].to_numpy(),
                    depth,
                    actual[name].to_numpy(),
                    origin.isoformat(),
                )
            )
    return out


def choose_streams(
    folds: dict[str, list[Fold]],
) -> tuple[dict[str, ChosenForecast], IntervalTable | None]:
    """The forecast chosen per stream (:func:`~tillage.models.forecast.choose_forecast`) and
    the conformal interval of the revenue (contract + order) fitted on the same folds."""
    choices = {
        name: choose_forecast(folds[name], level=level) for name, (_c, level) in STREAMS.items()
    }
    realised = folds["revenue"]
    if not realised:
        return choices, None
    forecast = np.concatenate(
        [
            sum(
                choices[name].apply(fold.model, fold.naive, fold.orders)
                for name, fold in (
                    ("contract_revenue", folds["contract_revenue"][k]),
                    ("order_revenue", folds["order_revenue"][k]),
                )
            )
            for k in range(len(realised))
        ]
    )
    actual = np.concatenate([fold.actual for fold in realised])
    return choices, fit_interval(forecast, actual)


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
    folds = inner_folds(con, cal, horizon_months, model, max_folds=max_folds)
    choices, interval = choose_streams(folds)
    inputs, pred, last = _fit_predict(con, cal, horizon_months, model)
    acc = inputs.accounts.set_index("account_id")
    depth = _depth(inputs, pred.index).to_numpy()
    point = {
        name: choices[name].apply(pred[column], last[name], depth)
        for name, (column, _level) in STREAMS.items()
    }
    out = pd.DataFrame(index=pred.index)
    out["fitted_revenue"] = pred["expected_revenue"]
    out["fitted_orders"] = pred["expected_orders"]
    out["model_revenue"] = point["contract_revenue"] + point["order_revenue"]
    low, high = (
        interval.apply(out["model_revenue"])
        if interval is not None
        else (np.full(len(out), np.nan), np.full(len(out), np.nan))
    )
    out["model_revenue_low"] = low
    out["model_revenue_high"] = high
    out["model_orders"] = point["orders"]
    record: dict[str, object] = {name: c.record() for name, c in choices.items()}
    if interval is not None:
        record["interval"] = {"nominal": interval.nominal, "coverage_in_folds": interval.coverage}
    out["model_ltv"] = pred["ltv"]
    out["model_p_churn"] = pred["p_churn_horizon"]
    out["model_p_order"] = pred["p_order_in_horizon"]
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
                frame[f"{name}_revenue_low"], frame[f"{name}_revenue_high"], frame["actual_revenue"]
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
        "forecast": forecast,
    }
    return BacktestResult(frame, metrics, tables, settings)


def _fold_model(model: AccountLTV) -> AccountLTV:
    """A copy of ``model`` for the folds (no bootstrap draws: only the point forecast counts)."""
    fold = copy.deepcopy(model)
    fold.n_draws = 0
    return fold
