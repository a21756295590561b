"""Rolling-origin folds inside the calibration data: the forecasts they choose and the
interval they fit.

Every fold is an origin ``o`` before the calibration end, the models fitted as of ``o``, their
forecast of ``(o, o + h]`` beside the naive run rate (the ``h`` months before ``o`` carried
forward) and what happened (:func:`window_outcomes`). :func:`choose_streams` picks per stream
(:data:`STREAMS`) with :func:`tillage.models.forecast.choose_forecast`, the churn probability
with :func:`tillage.models.forecast.choose_churn`, and fits the revenue's conformal interval;
the backtest (:mod:`tillage.strategy.backtest`) and the scoring run
(:mod:`tillage.strategy.revenue_forecast`) use the same choice.
"""

from __future__ import annotations

import copy
import datetime as dt

import ibis
import numpy as np
import pandas as pd
from ibis.backends import BaseBackend
from numpy.typing import NDArray

from tillage.errors import ConvergenceError, DataValidationError
from tillage.features._common import (
    DAYS_PER_MONTH,
    count_if,
    day,
    days_between,
    money,
)
from tillage.features.build import FeatureTables
from tillage.features.engine import execute_arrow
from tillage.models.account_ltv import AccountLTV
from tillage.models.forecast import (
    ChosenForecast,
    Fold,
    IntervalTable,
    choose_churn,
    choose_forecast,
    fit_interval,
    honour_total,
    interval_groups,
)
from tillage.strategy.value import ValueInputs, value_inputs

__all__ = [
    "FOLD_SLACK",
    "MAX_FOLDS",
    "REVENUE_STREAMS",
    "SCORING_FOLDS",
    "STREAMS",
    "add_months",
    "choice_record",
    "choose_streams",
    "first_record",
    "fit_predict",
    "fitted_pieces",
    "fold_model",
    "fold_months",
    "history_depth",
    "inner_folds",
    "renewal_rate_churn",
    "window_outcomes",
]

#: Rolling origins inside the calibration data that choose the forecast.
MAX_FOLDS = 2
#: Folds of the scoring run's choice (each is one more fit of the models: the run's time).
SCORING_FOLDS = 1
#: Days a fold's run-rate window may start before the first record (month ends of unequal
#: length: three months before 28 February is 28 November).
FOLD_SLACK = dt.timedelta(days=7)


def add_months(date: dt.date, months: int) -> dt.date:
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


def fit_predict(
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
    prior = window_outcomes(con, add_months(origin, -horizon_months), origin)
    return inputs, pred, prior.reindex(pred.index).fillna(0.0)


def history_depth(inputs: ValueInputs, index: pd.Index) -> pd.Series:
    """History depth per account: orders in the last year (the shrinkage weight's ``o``)."""
    acc = inputs.accounts.set_index("account_id")
    return acc["orders_365d"].reindex(index).fillna(0.0).astype(float)


def renewal_rate_churn(
    inputs: ValueInputs, index: pd.Index, horizon_months: int, *, by_term: bool = False
) -> NDArray[np.float64]:
    r"""The naive P(churn within ``horizon_months``) per account of ``index``: the churn rate per
    renewal decision so far :math:`\bar c` over the :math:`d_i` renewals due in the horizon,
    :math:`1 - (1 - \bar c)^{d_i}`, with :math:`d_i = \lfloor (H - m_i) / \tau_i \rfloor + 1`
    (``m_i`` months to the next renewal, ``τ_i`` the term in months); NaN where the account has
    no contract. ``by_term``: :math:`\bar c` separately for monthly terms and longer ones (the
    cohort baseline)."""
    acc = inputs.accounts.set_index("account_id")
    decisions = inputs.decisions
    rate = float(decisions["churned"].mean()) if len(decisions) else 0.0
    holder = (acc["mrr"].reindex(index).fillna(0) > 0).to_numpy()
    months = acc["months_to_renewal"].reindex(index).to_numpy(dtype=float)
    term = acc["term_months"].reindex(index).fillna(12.0).clip(lower=1).to_numpy(dtype=float)
    due = np.clip(np.floor((horizon_months - np.nan_to_num(months, nan=0.0)) / term) + 1, 0, None)
    per_term = np.full(len(index), rate)
    if by_term and len(decisions):
        monthly = (decisions["term_months"] == 1).to_numpy()
        for is_monthly, pick in ((True, monthly), (False, ~monthly)):
            if pick.any():
                per_term[(term == 1) == is_monthly] = float(decisions.loc[pick, "churned"].mean())
    return np.where(holder, 1.0 - (1.0 - per_term) ** due, np.nan)


#: The streams whose forecasts are chosen, with the model's column and whether the candidates
#: are scaled to the run rate's total (orders: yes, their level moves with the season; contract
#: revenue: no, its renewals are scheduled and modelled).
STREAMS: dict[str, tuple[str, bool]] = {
    "contract_revenue": ("expected_contract_revenue", False),
    "order_revenue": ("expected_order_revenue", True),
    "orders": ("expected_orders", True),
}

#: The streams whose sum is the revenue forecast (:func:`~tillage.models.forecast.honour_total`).
REVENUE_STREAMS: tuple[str, ...] = ("contract_revenue", "order_revenue")


def fold_months(con: BaseBackend, calibration_end: dt.date, horizon_months: int) -> int:
    """The folds' horizon: ``H``, or where the history is shorter than two horizons the
    longest ``h`` whose fold (run-rate window and outcome window) fits inside it; 0 when not
    even one month fits."""
    first = first_record(con)
    if first is None:
        return 0
    for h in range(horizon_months, 0, -1):
        if first <= add_months(calibration_end, -2 * h) + FOLD_SLACK:
            return h
    return 0


def fitted_pieces(model: AccountLTV) -> set[str]:
    """The pieces of a fitted ``model`` (``renewal_churn``, ``bg_nbd``, ``gamma_gamma``) that
    were fitted; the empty set before :meth:`~AccountLTV.fit`."""
    if not hasattr(model, "not_fitted_"):
        return set()
    return {"renewal_churn", "bg_nbd", "gamma_gamma"} - set(model.not_fitted_)


def inner_folds(
    con: BaseBackend,
    calibration_end: dt.date,
    horizon_months: int,
    model: AccountLTV,
    *,
    max_folds: int = MAX_FOLDS,
    features: FeatureTables | None = None,
) -> dict[str, list[Fold]]:
    """Rolling-origin folds inside the calibration data, per stream of :data:`STREAMS`, for
    the ``revenue`` as a whole (whose realised values fit the interval) and for ``churn`` (the
    accounts with a contract at the origin: the model's ``p_churn_horizon`` against the
    renewal-rate baseline :func:`renewal_rate_churn` and whether they churned).

    The fold horizon ``h`` is :func:`fold_months`; the origins are ``calibration_end − j·h``
    (``j = 1 … max_folds``) whose run-rate window ``(o − h, o]`` lies after the first order or
    contract start (within :data:`FOLD_SLACK`). A fold whose model cannot be fitted is left
    out. Where some folds' models have every piece (:func:`fitted_pieces`) that ``model``, when
    fitted, has, the folds whose models lack one are left out: they backtest another forecast
    than the one in use (early in a history, before any renewal decision, the contract piece
    forecasts no renewal and its folds' levels say so, not how the fitted model errs). Where no
    fold is like it (a young history) the others are kept, the nearest to a check there is."""
    h = fold_months(con, calibration_end, horizon_months)
    out: dict[str, list[Fold]] = {name: [] for name in (*STREAMS, "revenue", "churn")}
    if h == 0:
        return out
    first = first_record(con)
    in_use = fitted_pieces(model)
    like: list[bool] = []  # per fold kept: has every piece the model in use has
    for j in range(1, max_folds + 1):
        origin = add_months(calibration_end, -j * h)
        if first is None or first > add_months(origin, -h) + FOLD_SLACK:
            break  # the run rate of this origin would cover days before the first record
        fold = copy.deepcopy(model)
        # a fold reads expected values, never the LTV interval: no bootstrap draws (each is a
        # full evaluation of every account)
        fold.n_draws = 0
        try:
            inputs, pred, prior = fit_predict(con, origin, h, fold, features)
        except (ConvergenceError, DataValidationError):
            continue
        if not len(pred):
            continue
        like.append(in_use <= fitted_pieces(fold))
        actual = window_outcomes(con, origin, add_months(origin, h))
        actual = actual.reindex(pred.index).fillna(0.0)
        depth = history_depth(inputs, pred.index).to_numpy()
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
        held = actual["had_contract"].astype(bool).to_numpy() & actual["churned"].notna().to_numpy()
        base = renewal_rate_churn(inputs, pred.index, h)
        held &= np.isfinite(base) & pred["p_churn_horizon"].notna().to_numpy()
        out["churn"].append(
            Fold(
                pred["p_churn_horizon"].to_numpy()[held],
                base[held],
                np.zeros(int(held.sum())),
                actual["churned"].to_numpy()[held],
                origin.isoformat(),
            )
        )
    if any(like) and not all(like):  # the folds like the forecast in use, where there are any
        out = {
            name: [f for f, ok in zip(folds, like, strict=True) if ok]
            for name, folds in out.items()
        }
    return out


def choose_streams(
    folds: dict[str, list[Fold]],
) -> tuple[dict[str, ChosenForecast], IntervalTable | None]:
    """The forecast chosen per stream (:func:`~tillage.models.forecast.choose_forecast`; the
    revenue streams' level such that their sum keeps the rule,
    :func:`~tillage.models.forecast.honour_total`), the churn probability's (``"churn"``,
    :func:`~tillage.models.forecast.choose_churn`) and the conformal interval of the revenue
    (contract + order) fitted on the same folds."""
    choices = {
        name: choose_forecast(folds[name], level=level) for name, (_c, level) in STREAMS.items()
    }
    # the revenue is the streams' sum: the rule on total error and MAE is checked on it too
    revenue = {name: folds[name] for name in REVENUE_STREAMS}
    choices.update(honour_total(choices, revenue, folds["revenue"]))
    choices["churn"] = choose_churn(folds.get("churn", []))
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
    labels = np.concatenate([np.full(len(fold.actual), k) for k, fold in enumerate(realised)])
    group = interval_groups(np.concatenate([fold.orders for fold in realised]))
    interval = fit_interval(forecast, actual, fold=labels, group=group)
    return choices, interval


def choice_record(
    choices: dict[str, ChosenForecast], interval: IntervalTable | None
) -> dict[str, object]:
    """The record of the choice per stream and of the interval (nominal level, the randomised
    coverage reached in the folds, the level band :math:`e^{s}`, and the same per Mondrian
    group), JSON-able."""
    record: dict[str, object] = {name: c.record() for name, c in choices.items()}
    if interval is not None:
        record["interval"] = {
            "nominal": interval.nominal,
            "coverage_in_folds": interval.coverage,
            "level_band": interval.band,
            "fold_levels": interval.levels,
            "coverage": "randomised at the atom 0",
            # Mondrian by history depth: each group's own table (tillage.models.forecast)
            "groups": {
                name: {
                    "accounts": table.positives + table.zeros,
                    "coverage_in_folds": table.coverage,
                    "level_band": table.band,
                    "fold_levels": table.levels,
                }
                for name, table in interval.groups.items()
            },
        }
    return record


def fold_model(model: AccountLTV) -> AccountLTV:
    """A copy of ``model`` for the folds (no bootstrap draws: only the point forecast counts)."""
    fold = copy.deepcopy(model)
    fold.n_draws = 0
    return fold
