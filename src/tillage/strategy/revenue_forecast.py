"""The scoring run's revenue forecast, chosen by the company's own backtest: the rolling-origin
folds inside the calibration data (:func:`tillage.strategy.folds.inner_folds`) pick per stream
between the model, the run rate and their blends (:func:`tillage.models.forecast.choose_forecast`)
and set the conformal 80 % interval; :func:`forecast_revenue` applies the choice as of a date.
"""

from __future__ import annotations

import copy
import datetime as dt

import numpy as np
import pandas as pd
from ibis.backends import BaseBackend
from numpy.typing import ArrayLike, NDArray

from tillage.features.build import FeatureTables
from tillage.models.account_ltv import AccountLTV
from tillage.models.forecast import interval_groups
from tillage.models.ltv.margins import margin_rates
from tillage.strategy.folds import (
    SCORING_FOLDS,
    STREAMS,
    add_months,
    choice_record,
    choose_streams,
    fold_model,
    history_depth,
    inner_folds,
    renewal_rate_churn,
    window_outcomes,
)
from tillage.strategy.value import ValueInputs

__all__ = ["RUN_RATE_MONTHS", "forecast_revenue", "ltv_band", "run_rate_ltv"]


def forecast_revenue(
    con: BaseBackend,
    as_of: dt.date,
    model: AccountLTV,
    values: pd.DataFrame,
    inputs: ValueInputs,
    *,
    horizon_months: int = 12,
    max_folds: int = SCORING_FOLDS,
    features: FeatureTables | None = None,
) -> tuple[pd.DataFrame, dict[str, object]]:
    """The scoring run's revenue forecast, chosen by the company's own backtest.

    ``values`` (from :func:`~tillage.strategy.value.account_values`, fitted ``model`` and its
    ``inputs``) gets ``expected_revenue`` replaced by the forecast of the next
    ``horizon_months`` chosen per stream by the rolling-origin folds (:func:`inner_folds`,
    :func:`choose_streams`), the model's own forecast kept as ``fitted_revenue``,
    ``expected_revenue_horizon`` scaled by the same ratio (never below the next year's), and the
    conformal 80 % interval ``expected_revenue_low`` / ``expected_revenue_high`` (NaN without
    folds). The LTV interval is widened to at least the same relative band over outcomes:
    ``ltv_low ≤ ltv · low / forecast`` and ``ltv_high ≥ ltv · high / forecast`` where the
    forecast is positive (the purchase and churn noise of one year carried to the LTV as a
    share of it; the bootstrap interval alone is the parameters' uncertainty; where the chosen
    forecast is 0 the share is of the model's own, :func:`ltv_band`). Where the churn
    model lost to the renewal rate in the folds (:func:`~tillage.models.forecast.choose_churn`),
    ``p_churn_horizon`` is the renewal rate's (:func:`renewal_rate_churn`); ``churn_risk``
    stays the model's. Where the purchase model is not fitted (BG/NBD in ``not_fitted_``) the
    orders' part of an account's LTV is the chosen order forecast's (:func:`run_rate_ltv`),
    added to ``ltv``, ``ltv_low`` and ``ltv_high`` of the accounts valued from their own history
    (``ltv_source == "account"``), and the record's ``ltv_basis`` says so. Returns the frame and
    the record of the choice (candidate and reason per stream, the churn probability's and the
    interval's).
    """
    folds = inner_folds(
        con, as_of, horizon_months, fold_model(model), max_folds=max_folds, features=features
    )
    choices, interval = choose_streams(folds)
    near = copy.deepcopy(model)
    near.horizon_months, near.n_draws = horizon_months, 0
    known = values.index
    accounts = inputs.accounts[inputs.accounts["account_id"].isin(known)]
    pred = near.predict(accounts).reindex(known)
    last = window_outcomes(con, add_months(as_of, -horizon_months), as_of)
    last = last.reindex(known).fillna(0.0)
    depth = history_depth(inputs, known).to_numpy()
    part = {
        name: choices[name].apply(pred[STREAMS[name][0]].fillna(0.0), last[name], depth)
        for name in ("contract_revenue", "order_revenue")
    }
    point = part["contract_revenue"] + part["order_revenue"]
    out = values.copy()
    out["fitted_revenue"] = out["expected_revenue"]
    out["expected_revenue"] = point
    if "expected_revenue_horizon" in out:
        # the revenue over the LTV's horizon follows the chosen forecast (the model's path
        # scaled to it), so the next year never exceeds the whole horizon
        fitted = out["fitted_revenue"].to_numpy(dtype=float)
        horizon = out["expected_revenue_horizon"].to_numpy(dtype=float)
        chosen = np.asarray(point, dtype=float)
        ratio = np.divide(chosen, fitted, out=np.ones_like(fitted), where=fitted > 0)
        out["expected_revenue_horizon"] = np.maximum(horizon * ratio, chosen)
    basis = _order_ltv_basis(model, choices["order_revenue"].name)
    if basis is not None and "ltv" in out:
        # no purchase model: the orders' part of the LTV is the chosen forecast's (run rate)
        frame = accounts.set_index("account_id").reindex(known).reset_index()
        rates = margin_rates(frame, inputs.mix, model.margin_by_family, model.margin_rate)
        extra = run_rate_ltv(part["order_revenue"], rates["order"], model.discount_rate)
        mine = (out["ltv_source"] == "account").to_numpy() if "ltv_source" in out else True
        extra = np.where(mine, extra, 0.0)
        for column in ("ltv", "ltv_low", "ltv_high"):
            out[column] = out[column].to_numpy(dtype=float) + extra
    if choices["churn"].name == "renewal rate" and "p_churn_horizon" in out:
        # the model lost to the renewal rate out of time: P(churn within the horizon) is the
        # baseline's (churn_risk, P(churn at the next renewal), stays the model's: priority's)
        out["p_churn_horizon"] = renewal_rate_churn(inputs, known, model.horizon_months)
    if interval is None:
        out["expected_revenue_low"] = out["expected_revenue_high"] = np.nan
    else:
        group = interval_groups(depth)
        low, high = interval.apply(point, group)
        out["expected_revenue_low"], out["expected_revenue_high"] = low, high
        out["ltv_low"], out["ltv_high"] = ltv_band(
            out["ltv"], out["ltv_low"], out["ltv_high"], point, out["fitted_revenue"], low, high
        )
    record = choice_record(choices, interval)
    if basis is not None:
        record["ltv_basis"] = basis
    return out, record


def ltv_band(
    ltv: ArrayLike,
    ltv_low: ArrayLike,
    ltv_high: ArrayLike,
    forecast: ArrayLike,
    fitted: ArrayLike,
    low: ArrayLike,
    high: ArrayLike,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    r"""The LTV interval widened to at least the next year's band over outcomes, as a share:
    :math:`[\min(\ell_i, v_i\,a_i / b_i),\ \max(h_i, v_i\,c_i / b_i)]` with ``v`` the LTV,
    ``[ℓ, h]`` its bootstrap interval, ``[a, c]`` the conformal interval of the next year's
    revenue (currency) and ``b`` the chosen forecast of it — or, where that is 0 (no revenue in
    the run rate's window), the model's own forecast ``fitted``, which the LTV is built on: a
    zero forecast's interval is in amounts, and without it such an account kept the
    parameters' few per cent. Unchanged where both forecasts are 0."""
    v = np.asarray(ltv, dtype=float)
    f = np.nan_to_num(np.asarray(forecast, dtype=float))
    base = np.where(f > 0, f, np.nan_to_num(np.asarray(fitted, dtype=float)))
    ok = base > 0
    share_low = np.where(ok, np.asarray(low, dtype=float) / np.where(ok, base, 1.0), 1.0)
    share_high = np.where(ok, np.asarray(high, dtype=float) / np.where(ok, base, 1.0), 1.0)
    # + 0.0: a negative LTV (cost to serve above the margin) times a share of 0 is -0.0,
    # printed "-0"
    spread = np.sort(np.stack([v * share_low, v * share_high]), axis=0) + 0.0
    return (
        np.minimum(np.asarray(ltv_low, dtype=float), spread[0]) + 0.0,
        np.maximum(np.asarray(ltv_high, dtype=float), spread[1]) + 0.0,
    )


#: Months of the run rate an LTV counts where no purchase model is fitted (the forecast's own
#: horizon: no retention beyond it could be estimated).
RUN_RATE_MONTHS = 12


def _order_ltv_basis(model: AccountLTV, chosen: str) -> dict[str, str] | None:
    """Why the orders' part of the LTV is the run rate's (:func:`run_rate_ltv`), or None when
    the purchase model is fitted and values the orders itself."""
    why = getattr(model, "not_fitted_", {}).get("bg_nbd")
    if why is None:
        return None
    return {
        "code": "run_rate_ltv",
        "forecast": chosen,
        "months": str(RUN_RATE_MONTHS),
        "reason": f"the purchase model is not fitted ({why}); the orders' part of the LTV is "
        f"the chosen forecast ({chosen}) of the next {RUN_RATE_MONTHS} months × margin, "
        "discounted, and nothing beyond them",
    }


def run_rate_ltv(
    forecast: NDArray[np.float64] | pd.Series,
    margin: NDArray[np.float64],
    discount_rate: float,
    months: int = RUN_RATE_MONTHS,
) -> NDArray[np.float64]:
    r"""The orders' part of the LTV from a forecast of the next 12 months' order revenue
    :math:`C_i` (currency) where no purchase model is fitted: the forecast spread evenly over
    its months and discounted, :math:`m_i \, (C_i / 12) \sum_{t=1}^{M} (1 + d)^{-t/12}` with
    ``M = months`` (the forecast's own 12 by default: with no drop-out model, no retention
    beyond the backtested horizon is claimed), ``m_i`` the order margin rate and ``d`` the
    annual discount rate. Never negative."""
    t = np.arange(1, int(months) + 1, dtype=float)
    annuity = float(np.sum((1.0 + discount_rate) ** (-t / 12.0)))
    c = np.clip(np.nan_to_num(np.asarray(forecast, dtype=float)), 0.0, None)
    return np.asarray(margin, dtype=float) * c / 12.0 * annuity
