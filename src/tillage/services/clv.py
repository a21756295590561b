"""CLV on a transaction log: summarise per customer (:func:`tillage.features.rfm.rfm_summary`),
fit BG/NBD, Pareto/NBD and Gamma-Gamma, and predict each customer's probability of being alive,
expected purchases, expected spend per purchase and discounted CLV over the horizon
(:func:`tillage.models.clv.customer_lifetime_value`, driven by BG/NBD and Gamma-Gamma). The
annual discount rate ``R`` becomes a rate per period, ``(1 + R) ** (days / 365.25) - 1``.

The service behind ``tillage clv`` (which reads the file and renders) and :func:`tillage.fit_clv`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from tillage.errors import ConvergenceError, DataValidationError
from tillage.features.rfm import PERIOD_DAYS, rfm_summary
from tillage.models import BetaGeoModel, GammaGammaModel, ParetoNBDModel
from tillage.models.base import BaseModel
from tillage.models.clv import customer_lifetime_value, per_period_rate
from tillage.models.gamma_gamma import IndependenceCheck

STEPS = ("summary", "BG/NBD", "Pareto/NBD", "Gamma-Gamma", "predict")
"""The steps of :func:`clv_of_log`, in order (``progress`` is called with each)."""


@dataclass(frozen=True)
class ClvResult:
    """Per-customer predictions (``frame``: the RFM summary with ``p_alive``,
    ``expected_purchases``, ``expected_avg_value`` and ``clv`` in the log's currency), the
    fitted models, the parameters as a JSON-ready record, and the spend model's independence
    check. ``pareto`` is ``None`` when Pareto/NBD did not converge (``params`` says why)."""

    frame: pd.DataFrame
    calibration_end: dt.date
    bgnbd: BetaGeoModel
    spend: GammaGammaModel
    pareto: ParetoNBDModel | None
    params: dict[str, Any]
    check: IndependenceCheck


def model_params(model: BaseModel) -> dict[str, Any]:
    """A fitted model's parameters, log-likelihood and standard errors (a JSON-ready record)."""
    out: dict[str, Any] = dict(model.params_)
    out["log_likelihood"] = model.log_likelihood_
    out["standard_errors"] = dict(model.standard_errors_)
    return out


def clv_of_log(
    log: pd.DataFrame,
    *,
    period: str = "week",
    calibration_end: dt.date | None = None,
    horizon: int = 52,
    discount_rate: float = 0.1,
    source: str = "the log",
    progress: Callable[[str], None] | None = None,
) -> ClvResult:
    """CLV of every customer of ``log`` (columns ``customer``, ``date``, ``amount``), fitted on
    the transactions up to ``calibration_end`` (default: the last one) in ``period`` units
    (day, week, month); ``horizon`` periods ahead, discounted at the annual ``discount_rate``.
    ``source`` names the log in messages."""
    step = progress or (lambda _name: None)
    if period not in PERIOD_DAYS:
        raise DataValidationError(
            f"--period must be one of {', '.join(PERIOD_DAYS)}, not {period!r}"
        )
    if log.empty:
        raise DataValidationError(f"{source}: no transactions")
    end = calibration_end or log["date"].max().date()
    step("summary")
    summary = rfm_summary(
        log,
        customer="customer",
        date="date",
        amount="amount",
        period=period,  # type: ignore[arg-type]
        calibration_end=end,
    )
    if summary.empty:
        raise DataValidationError(f"{source}: no transactions on or before {end}")
    step("BG/NBD")
    bgnbd = BetaGeoModel().fit(summary)
    step("Pareto/NBD")
    pareto_model: ParetoNBDModel | None
    try:
        pareto_model = ParetoNBDModel().fit(summary)
        pareto: dict[str, Any] = model_params(pareto_model)
    except ConvergenceError as exc:
        pareto_model, pareto = None, {"error": str(exc)}
    step("Gamma-Gamma")
    if (summary["frequency"] > 0).sum() < 3:
        raise DataValidationError(
            f"{source}: fewer than 3 customers with repeat purchases before {end}; "
            "the spend model cannot be fitted"
        )
    spend = GammaGammaModel().fit(summary)
    step("predict")
    rate = per_period_rate(discount_rate, PERIOD_DAYS[period])
    result = summary.copy()
    result["p_alive"] = bgnbd.conditional_probability_alive(summary)
    result["expected_purchases"] = bgnbd.conditional_expected_purchases(float(horizon), summary)
    result["expected_avg_value"] = spend.conditional_expected_average_profit(summary)
    result["clv"] = customer_lifetime_value(
        bgnbd, spend, summary, horizon=horizon, discount_rate=rate
    )
    check = spend.frequency_monetary_correlation(summary)
    params = {
        "period": period,
        "calibration_end": end.isoformat(),
        "horizon": horizon,
        "annual_discount_rate": discount_rate,
        "discount_rate_per_period": rate,
        "n_customers": len(summary),
        "bgnbd": model_params(bgnbd),
        "pareto_nbd": pareto,
        "gamma_gamma": {**model_params(spend), "frequency_monetary_correlation": check.correlation},
    }
    return ClvResult(result, end, bgnbd, spend, pareto_model, params, check)
