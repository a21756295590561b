r"""Customer lifetime value over a finite horizon from a purchase model and a spend model.

For a customer with history ``(x, t_x, T)``, a repeat-purchase model (BG/NBD or Pareto/NBD) gives
the expected number of purchases in ``(T, T + k]``, :math:`E[Y(k)]`; a spend model (Gamma-Gamma)
gives the expected value per purchase, :math:`E[Z]`. The value over ``H`` periods, discounted at
rate ``d`` per period with each period's purchases discounted to the end of that period, is

.. math:: \mathrm{CLV}_H = E[Z] \sum_{k=1}^{H} \frac{E[Y(k)] - E[Y(k - 1)]}{(1 + d)^k}.

This is revenue: multiply by a margin (and subtract the cost to serve) for a value in profit
terms. It is the discrete-time form used by lifetimes' ``customer_lifetime_value``.

:func:`forecast_clv` is the whole pipeline on an RFM summary: it fits the purchase models asked
for (``"auto"`` fits BG/NBD and Pareto/NBD and keeps the one with the higher log-likelihood; both
have four parameters), and the Gamma-Gamma spend model where the data allow. Spend-free forecasts
(P(alive), expected purchases) need no spend model; a model that fails is reported in
:attr:`ClvForecast.notes` and the run goes on with the others. No value is invented: a customer
the spend model cannot use (mean repeat spend zero or negative, e.g. returns exceeding the repeat
orders) gets a blank ``expected_avg_value`` and ``clv`` and the reason in ``note``.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from tillage.errors import (
    BoundaryWarning,
    ConvergenceError,
    DataValidationError,
    DataWarning,
    ParameterError,
)
from tillage.models.beta_geo import BetaGeoModel
from tillage.models.gamma_gamma import GammaGammaModel
from tillage.models.pareto_nbd import ParetoNBDModel

__all__ = [
    "MODEL_LABELS",
    "PURCHASE_MODELS",
    "ClvForecast",
    "ClvNote",
    "customer_lifetime_value",
    "forecast_clv",
    "per_period_rate",
]


def per_period_rate(annual_rate: float, period_days: float) -> float:
    """Convert an annual discount rate into the rate per period of ``period_days`` days:
    ``(1 + annual_rate) ** (period_days / 365.25) - 1``."""
    if annual_rate <= -1:
        raise DataValidationError(f"the discount rate must be above -100 %, got {annual_rate!r}")
    return float((1.0 + annual_rate) ** (period_days / 365.25) - 1.0)


def customer_lifetime_value(
    purchases: BetaGeoModel | ParetoNBDModel,
    spend: GammaGammaModel,
    frame: pd.DataFrame,
    *,
    horizon: int,
    discount_rate: float,
) -> pd.Series:
    """Discounted expected revenue over ``horizon`` periods per customer (see module docstring).

    ``frame`` has ``frequency``, ``recency``, ``T`` and ``monetary_value``; ``discount_rate`` is
    per period. Returns a Series named ``clv`` indexed like ``frame``.
    """
    if horizon < 0 or int(horizon) != horizon:
        raise DataValidationError(f"horizon must be a whole number of periods >= 0, got {horizon}")
    value = spend.conditional_expected_average_profit(frame).to_numpy()
    total = np.zeros(len(frame))
    previous = np.zeros(len(frame))
    for k in range(1, int(horizon) + 1):  # one vectorized prediction per period of the horizon
        cumulative = purchases.conditional_expected_purchases(float(k), frame).to_numpy()
        total += (cumulative - previous) / (1.0 + discount_rate) ** k
        previous = cumulative
    return pd.Series(total * value, index=frame.index, name="clv")


ModelChoice = Literal["bgnbd", "pareto", "auto"]

#: The purchase models ``forecast_clv`` can use, by the name the CLI takes.
PURCHASE_MODELS: dict[str, type[BetaGeoModel] | type[ParetoNBDModel]] = {
    "bgnbd": BetaGeoModel,
    "pareto": ParetoNBDModel,
}

#: Display names of the models (proper names, the same in every language).
MODEL_LABELS = {"bgnbd": "BG/NBD", "pareto": "Pareto/NBD", "gamma_gamma": "Gamma-Gamma"}

#: Fewest repeat buyers with a positive mean spend the spend model is fitted on.
MIN_REPEAT_BUYERS = 3


@dataclass(frozen=True)
class ClvNote:
    """Something the user must be told about a CLV run. ``code`` names the message (the surface
    holds its wording and translation); ``values`` fill it in.

    Codes: ``model_failed`` (model, error), ``fell_back`` (model, chosen), ``chosen``
    (model, reason), ``no_spend_model`` (reason), ``rows_excluded`` (model, n, reason, first),
    ``boundary`` (model, params, estimates: the maximum lies on the edge of the parameter
    space, e.g. almost nobody drops out; the estimates there are used, as lifetimes does).
    """

    code: str
    values: dict[str, Any]


@dataclass
class ClvForecast:
    """The result of :func:`forecast_clv`: the per-customer ``frame``; the ``chosen`` purchase
    model's name and fitted object; the fitted ``spend`` model (``None`` when it could not be
    fitted); ``fits`` with each model's parameters (or its ``error``); and the ``notes``."""

    frame: pd.DataFrame
    chosen: str
    purchases: BetaGeoModel | ParetoNBDModel
    spend: GammaGammaModel | None
    fits: dict[str, dict[str, Any]]
    notes: list[ClvNote] = field(default_factory=list)


def _fit_params(model: BetaGeoModel | ParetoNBDModel | GammaGammaModel) -> dict[str, Any]:
    """Estimates, log-likelihood, standard errors (None where undefined, so the dict is valid
    JSON) and the parameters on the boundary."""
    out: dict[str, Any] = dict(model.params_)
    out["log_likelihood"] = model.log_likelihood_
    out["standard_errors"] = {
        k: (float(v) if np.isfinite(v) else None) for k, v in model.standard_errors_.items()
    }
    out["boundary"] = list(getattr(model, "boundary_", []))
    return out


def _fit_recording(model, summary: pd.DataFrame, key: str, notes: list[ClvNote]):  # type: ignore[no-untyped-def]
    """``model.fit(summary)``, with its warnings turned into notes: customers left out
    (:class:`DataWarning`), and a maximum on the edge of the parameter space
    (:class:`BoundaryWarning`)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DataWarning)
        warnings.simplefilter("always", BoundaryWarning)
        model.fit(summary)
    categories = {w.category for w in caught}
    excluded = model.excluded_
    if DataWarning in categories and len(excluded):
        values = {
            "model": key,
            "n": len(excluded),
            "reason": str(excluded.iloc[0]),
            "first": ", ".join(map(str, excluded.index[:5])),
        }
        notes.append(ClvNote("rows_excluded", values))
    if BoundaryWarning in categories:
        estimates = ", ".join(f"{k}={v:.3g}" for k, v in model.params_.items())
        values = {"model": key, "params": ", ".join(model.boundary_), "estimates": estimates}
        notes.append(ClvNote("boundary", values))
    return model


def _fit_purchases(
    summary: pd.DataFrame, model: ModelChoice, notes: list[ClvNote], fits: dict[str, Any]
) -> tuple[str, BetaGeoModel | ParetoNBDModel]:
    names = list(PURCHASE_MODELS) if model == "auto" else [model]
    fitted: dict[str, BetaGeoModel | ParetoNBDModel] = {}
    for name in names:
        try:
            fitted[name] = _fit_recording(
                PURCHASE_MODELS[name](boundary="accept"), summary, name, notes
            )
        except ConvergenceError as exc:
            fits[name] = {"error": str(exc)}
            notes.append(ClvNote("model_failed", {"model": MODEL_LABELS[name], "error": str(exc)}))
            continue
        fits[name] = _fit_params(fitted[name])
    if not fitted:
        tried = ", ".join(MODEL_LABELS[n] for n in names)
        hint = "" if model == "auto" else "; try --model auto"
        raise ConvergenceError(f"no purchase model could be fitted ({tried}){hint}")
    chosen = max(fitted, key=lambda n: fitted[n].log_likelihood_)
    if model == "auto" and len(fitted) == len(names):
        notes.append(ClvNote("chosen", {"model": MODEL_LABELS[chosen], "reason": "log_likelihood"}))
    elif model == "auto":
        failed = next(n for n in names if n not in fitted)
        notes.append(
            ClvNote("fell_back", {"model": MODEL_LABELS[failed], "chosen": MODEL_LABELS[chosen]})
        )
    return chosen, fitted[chosen]


def _fit_spend(
    summary: pd.DataFrame, notes: list[ClvNote], fits: dict[str, Any]
) -> GammaGammaModel | None:
    if "monetary_value" not in summary.columns:
        return None
    usable = int(((summary["frequency"] > 0) & (summary["monetary_value"] > 0)).sum())
    if usable < MIN_REPEAT_BUYERS:
        reason = (
            f"only {usable} repeat buyer(s) with a positive spend "
            f"(at least {MIN_REPEAT_BUYERS} needed)"
        )
        fits["gamma_gamma"] = {"error": reason}
        notes.append(ClvNote("no_spend_model", {"reason": reason}))
        return None
    try:
        spend = _fit_recording(GammaGammaModel(), summary, "gamma_gamma", notes)
    except ConvergenceError as exc:
        fits["gamma_gamma"] = {"error": str(exc)}
        notes.append(ClvNote("no_spend_model", {"reason": str(exc)}))
        return None
    check = spend.frequency_monetary_correlation(summary)
    fits["gamma_gamma"] = {
        **_fit_params(spend),
        "frequency_monetary_correlation": (
            check.correlation if np.isfinite(check.correlation) else None
        ),
    }
    return spend


def forecast_clv(
    summary: pd.DataFrame,
    *,
    model: ModelChoice = "auto",
    horizon: int,
    discount_rate: float,
) -> ClvForecast:
    """Fit the purchase model(s) and the spend model to an RFM summary and forecast each
    customer over ``horizon`` periods (``discount_rate`` per period).

    The frame adds to ``summary``: ``p_alive``, ``expected_purchases`` (in ``(T, T + horizon]``),
    ``expected_avg_value`` (Gamma-Gamma E[Z], currency per purchase), ``clv`` (discounted
    expected revenue, currency; see :func:`customer_lifetime_value`) and ``note``, why a value
    is blank: ``no_spend_model`` (no spend model could be fitted), ``spend_not_positive`` (a
    repeat buyer whose mean spend is zero or negative, outside the spend model), else empty.
    Raises :class:`ConvergenceError` only when no purchase model fits.
    """
    if model not in (*PURCHASE_MODELS, "auto"):
        raise ParameterError(f"--model must be one of bgnbd, pareto, auto, not {model!r}")
    notes: list[ClvNote] = []
    fits: dict[str, dict[str, Any]] = {}
    chosen, purchases = _fit_purchases(summary, model, notes, fits)
    spend = _fit_spend(summary, notes, fits)
    result = summary.copy()
    result["p_alive"] = purchases.conditional_probability_alive(summary)
    result["expected_purchases"] = purchases.conditional_expected_purchases(float(horizon), summary)
    result["note"] = ""
    if spend is None:
        result["expected_avg_value"] = np.nan
        result["clv"] = np.nan
        result["note"] = "no_spend_model"
    else:
        result["expected_avg_value"] = spend.conditional_expected_average_profit(summary)
        result["clv"] = customer_lifetime_value(
            purchases, spend, summary, horizon=horizon, discount_rate=discount_rate
        )
        outside = (summary["frequency"] > 0) & (summary["monetary_value"] <= 0)
        result.loc[outside, "note"] = "spend_not_positive"
    columns = [c for c in result.columns if c != "note"] + ["note"]
    return ClvForecast(result[columns], chosen, purchases, spend, fits, notes)
