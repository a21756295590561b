"""CLV on a transaction log: summarise per customer (:func:`tillage.features.rfm.rfm_summary`),
fit the purchase model(s) and the spend model, and predict each customer's probability of being
alive, expected purchases, expected spend per purchase and discounted CLV over the horizon
(:func:`tillage.models.clv.forecast_clv`: ``model`` ``bgnbd``, ``pareto`` or ``auto``, the
higher likelihood of the two, with a note for every model that failed, fell back or left
customers out). The annual discount rate ``R`` becomes a rate per period,
``(1 + R) ** (days / 365.25) - 1``.

The service behind ``tillage clv`` (which reads the file and renders) and :func:`tillage.fit_clv`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from tillage.errors import DataValidationError, ParameterError
from tillage.features.rfm import PERIOD_DAYS, rfm_summary
from tillage.models.clv import PURCHASE_MODELS, ClvForecast, forecast_clv, per_period_rate

STEPS = ("summary", "fit")
"""The steps of :func:`clv_of_log`, in order (``progress`` is called with each)."""


@dataclass(frozen=True)
class ClvResult:
    """Per-customer predictions (``frame``: the RFM summary with ``p_alive``,
    ``expected_purchases``, ``expected_avg_value``, ``clv`` in the log's currency and ``note``,
    the code of why a value is blank), the summary they were fitted on, the calibration end,
    the forecast with its fitted models and notes, and the parameters as a JSON-ready record
    (``model``: the purchase model used)."""

    frame: pd.DataFrame
    summary: pd.DataFrame
    calibration_end: dt.date
    forecast: ClvForecast
    params: dict[str, Any]


def check_clv_options(period: str, model: str) -> None:
    """Refuse (:class:`ParameterError`) a ``period`` other than day, week or month and a
    ``model`` other than a purchase model or ``auto``: a caller may check before it reads
    the log."""
    if period not in PERIOD_DAYS:
        raise ParameterError(f"--period must be one of {', '.join(PERIOD_DAYS)}, not {period!r}")
    if model not in (*PURCHASE_MODELS, "auto"):
        raise ParameterError(
            f"--model must be one of {', '.join(PURCHASE_MODELS)}, auto; not {model!r}"
        )


def clv_of_log(
    log: pd.DataFrame,
    *,
    period: str = "week",
    calibration_end: dt.date | None = None,
    horizon: int = 52,
    discount_rate: float = 0.1,
    model: str = "auto",
    source: str = "the log",
    rows_without_customer: int = 0,
    progress: Callable[[str], None] | None = None,
) -> ClvResult:
    """CLV of every customer of ``log`` (columns ``customer``, ``date``, ``amount``), fitted on
    the transactions up to ``calibration_end`` (default: the last one) in ``period`` units
    (day, week, month); ``horizon`` periods ahead, discounted at the annual ``discount_rate``.
    ``source`` names the log in messages; ``rows_without_customer`` (lines the reader left out)
    is carried into the parameters."""
    step = progress or (lambda _name: None)
    check_clv_options(period, model)
    if log.empty:
        raise DataValidationError(f"{source}: no transactions with a customer id")
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
    step("fit")
    rate = per_period_rate(discount_rate, PERIOD_DAYS[period])
    forecast = forecast_clv(
        summary,
        model=model,  # type: ignore[arg-type]
        horizon=horizon,
        discount_rate=rate,
    )
    params = {
        "period": period,
        "calibration_end": end.isoformat(),
        "horizon": horizon,
        "annual_discount_rate": discount_rate,
        "discount_rate_per_period": rate,
        "n_customers": len(summary),
        "rows_without_customer": rows_without_customer,
        "model": forecast.chosen,
        "bgnbd": forecast.fits.get("bgnbd"),
        "pareto_nbd": forecast.fits.get("pareto"),
        "gamma_gamma": forecast.fits.get("gamma_gamma"),
    }
    return ClvResult(forecast.frame, summary, end, forecast, params)
