r"""Shifted-beta-geometric (sBG): contractual retention by cohort.

Fader, P. S. & Hardie, B. G. S. (2007). How to Project Customer Retention. *Journal of
Interactive Marketing* 21(1), 76–90; the residual lifetime value from Fader, P. S. & Hardie,
B. G. S. (2010). Customer-Base Valuation in a Contractual Setting: The Perils of Ignoring
Heterogeneity. *Marketing Science* 29(1), 85–93.

Each customer renews at the end of every period with a constant probability :math:`1 - \theta`,
:math:`\theta \sim \mathrm{Beta}(\gamma, \delta)` across customers (``gamma``, ``delta``). With
``t`` counting renewal opportunities (periods):

.. math::

    P(\text{churn at } t) = \frac{B(\gamma + 1, \delta + t - 1)}{B(\gamma, \delta)},\qquad
    S(t) = \frac{B(\gamma, \delta + t)}{B(\gamma, \delta)},\qquad
    r_t = \frac{S(t)}{S(t - 1)} = \frac{\delta + t - 1}{\gamma + \delta + t - 1}.

**Input encoding** (one row per customer, or per group with ``weight``):

* ``T`` — number of periods observed since acquisition (renewal opportunities seen), an integer
  >= 1;
* ``alive`` — 1 if the customer was still active at the end of period ``T`` (right-censored),
  0 if the customer churned;
* ``recency`` — for churned customers, the period at whose end they left (1 = did not renew after
  the first period), an integer in ``1..T``; for active customers, ``T`` (their last observed
  period).

A churned row contributes :math:`\log P(\text{churn at recency})`, an active one
:math:`\log S(T)`. :meth:`ShiftedBetaGeoModel.fit_cohort` accepts instead a cohort table: the
number (or share) of customers still active at the start (period 0) and at the end of each period.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar, Self

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy.special import betaln, digamma

from tillage.errors import DataValidationError, Problem
from tillage.models.base import BaseModel, Data
from tillage.models.special import hyp2f1_one

__all__ = ["ShiftedBetaGeoModel", "cohort_frame"]


def cohort_frame(survivors: Sequence[float] | NDArray[np.float64]) -> pd.DataFrame:
    """Turn a cohort's survivor counts into the weighted per-customer frame.

    ``survivors[0]`` is the cohort size at acquisition, ``survivors[t]`` the number still active
    at the end of period ``t``; shares (e.g. percentages) work as well as counts.
    """
    counts = np.asarray(survivors, dtype=float)
    problems = []
    if counts.ndim != 1 or counts.size < 2:
        problems.append("needs the cohort size and at least one later period")
    elif not np.all(np.isfinite(counts)) or (counts < 0).any():
        problems.append("counts must be finite and non-negative")
    elif (np.diff(counts) > 0).any():
        problems.append("survivor counts must not increase from one period to the next")
    if problems:
        raise DataValidationError(
            "cohort table refused",
            [Problem("cohort table", None, "survivors", list(counts), p) for p in problems],
        )
    n = counts.size - 1
    lost = -np.diff(counts)
    periods = np.arange(1, n + 1, dtype=float)
    return pd.DataFrame(
        {
            "recency": np.append(periods, float(n)),
            "T": float(n),
            "alive": np.append(np.zeros(n), 1.0),
            "weight": np.append(lost, counts[-1]),
        }
    )


class ShiftedBetaGeoModel(BaseModel):
    """sBG retention model (Fader & Hardie 2007) with parameters ``gamma, delta``.

    Fit on ``recency``, ``T``, ``alive`` (see the module docstring for the encoding) or with
    :meth:`fit_cohort` on survivor counts.
    """

    _param_names: ClassVar[tuple[str, ...]] = ("gamma", "delta")
    _columns: ClassVar[tuple[str, ...]] = ("recency", "T", "alive")
    _count_columns: ClassVar[tuple[str, ...]] = ("recency", "T", "alive")
    _positive_columns: ClassVar[tuple[str, ...]] = ("T",)

    def _validate(self, frame, columns=None, arrays=None):
        frame = super()._validate(frame, columns, arrays)
        cols = self._columns if columns is None else columns
        if "alive" in cols:
            alive = np.asarray(frame["alive"], dtype=float)
            bad = (alive != 0) & (alive != 1)
            if bad.any():
                raise DataValidationError(
                    f"{type(self).__name__}: column 'alive' must be 0 (churned) or 1 (active)",
                    [self._first_bad(frame, "alive", bad, "is neither 0 nor 1")],
                )
            recency = np.asarray(frame["recency"], dtype=float)
            bad = (alive == 0) & (recency < 1)
            if bad.any():
                raise DataValidationError(
                    f"{type(self).__name__}: column 'recency' must be >= 1 for churned customers",
                    [self._first_bad(frame, "recency", bad, "is below 1 for a churned customer")],
                )
        return frame

    def fit_cohort(self, survivors: Sequence[float] | NDArray[np.float64]) -> Self:
        """Fit on survivor counts per period (see :func:`cohort_frame`). Returns ``self``."""
        return self.fit(cohort_frame(survivors))

    def _initial_guess(self, data: Data, weights: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.array([1.0, 1.0])

    def _loglik(self, params, data, *, grad):
        g, d = params
        t, T, alive = data["recency"], data["T"], data["alive"] > 0
        # churned at t: log B(g+1, d+t-1) - log B(g, d)
        # active through T: log B(g, d+T) - log B(g, d)
        t_churn = np.where(alive, 1.0, t)
        churn = betaln(g + 1.0, d + t_churn - 1.0) - betaln(g, d)
        survive = betaln(g, d + T) - betaln(g, d)
        ll = np.where(alive, survive, churn)
        if not grad:
            return ll
        psi_gd = digamma(g + d)
        dg_churn = 1.0 / g - digamma(g + d + t_churn) + psi_gd
        dd_churn = digamma(d + t_churn - 1.0) - digamma(g + d + t_churn) - digamma(d) + psi_gd
        dg_surv = -digamma(g + d + T) + psi_gd
        dd_surv = digamma(d + T) - digamma(g + d + T) - digamma(d) + psi_gd
        return ll, np.vstack(
            [np.where(alive, dg_surv, dg_churn), np.where(alive, dd_surv, dd_churn)]
        )

    def log_likelihood(self, frame: pd.DataFrame) -> pd.Series:
        """Per-customer log-likelihood of the fitted parameters."""
        params = self._check_fitted()
        t, T, alive = self._arrays(frame, self._columns)
        ll = self._loglik(params, {"recency": t, "T": T, "alive": alive}, grad=False)
        return self._series(ll, frame, "log_likelihood")

    def survival_function(self, periods: Sequence[int] | NDArray[np.float64]) -> pd.Series:
        """S(t) = B(gamma, delta + t) / B(gamma, delta): share of a cohort active after t periods.

        ``periods`` are integers >= 0 (0 gives 1)."""
        self._check_fitted()
        t = np.asarray(periods, dtype=float)
        g, d = self.params_["gamma"], self.params_["delta"]
        values = np.exp(betaln(g, d + t) - betaln(g, d))
        return pd.Series(values, index=pd.Index(t, name="period"), name="survival")

    def retention_rate(self, periods: Sequence[int] | NDArray[np.float64]) -> pd.Series:
        """r_t = (delta + t - 1) / (gamma + delta + t - 1): renewal rate at the end of period t."""
        self._check_fitted()
        t = np.asarray(periods, dtype=float)
        g, d = self.params_["gamma"], self.params_["delta"]
        values = (d + t - 1.0) / (g + d + t - 1.0)
        return pd.Series(values, index=pd.Index(t, name="period"), name="retention_rate")

    def _check_discount_rate(self, discount_rate: float) -> None:
        if not discount_rate > 0:
            raise DataValidationError(
                f"{type(self).__name__}: discount_rate must be positive, got {discount_rate!r}"
            )

    def _derl(self, renewals: NDArray[np.float64], discount_rate: float) -> NDArray[np.float64]:
        self._check_discount_rate(discount_rate)
        g, d = self.params_["gamma"], self.params_["delta"]
        n = renewals
        return (
            (d + n)
            / (g + d + n)
            * hyp2f1_one(d + n + 1.0, g + d + n + 1.0, 1.0 / (1.0 + discount_rate))
        )

    def discounted_expected_lifetime(self, *, discount_rate: float) -> float:
        """DEL = 2F1(1, delta; gamma + delta; 1 / (1 + d)) (Fader & Hardie 2010, eq. 5).

        Expected discounted number of payments of a customer about to be acquired, the first
        payment (at acquisition) undiscounted; ``d`` is the discount rate per period.
        """
        self._check_fitted()
        self._check_discount_rate(discount_rate)
        g, d = self.params_["gamma"], self.params_["delta"]
        return float(hyp2f1_one(d, g + d, 1.0 / (1.0 + discount_rate)))

    def discounted_expected_residual_lifetime(
        self, frame: pd.DataFrame, *, discount_rate: float
    ) -> pd.Series:
        """DERL per customer (Fader & Hardie 2010, eq. 6).

        For an active customer who has made ``n`` renewals (``n = T`` in the encoding above),
        about to face renewal ``n + 1``:

        .. math:: \\mathrm{DERL} = \\frac{\\delta + n}{\\gamma + \\delta + n}\\,
                  {}_2F_1\\big(1, \\delta + n + 1; \\gamma + \\delta + n + 1;
                  \\tfrac{1}{1 + d}\\big)
                  = \\sum_{k \\ge 0} \\frac{S(n + 1 + k)}{S(n)} (1 + d)^{-k},

        the expected discounted number of future payments, the next one undiscounted. Churned
        customers have DERL 0. Multiply by the margin per period for a value.
        """
        self._check_fitted()
        _t, T, alive = self._arrays(frame, self._columns)
        values = np.where(alive > 0, self._derl(T, discount_rate), 0.0)
        return self._series(values, frame, "derl")
