r"""Pareto/NBD: the Pareto / negative binomial distribution model of repeat buying.

Schmittlein, D. C., Morrison, D. G. & Colombo, R. (1987). Counting Your Customers: Who Are They
and What Will They Do Next? *Management Science* 33(1), 1–24. The likelihood is the form derived
in Fader, P. S. & Hardie, B. G. S. (2005), "A Note on Deriving the Pareto/NBD Model and Related
Expressions" (eq. 22), with the case split on ``alpha >= beta`` of Fader & Hardie (2005), "A Note
on Implementing the Pareto/NBD Model in MATLAB".

Notation: a customer with history ``(x, t_x, T)`` (repeat purchases, time of the last one, length
of observation, all in periods from the first purchase). While alive, purchases arrive at Poisson
rate :math:`\lambda \sim \mathrm{Gamma}(r, \alpha)`; the unobserved lifetime is exponential with
rate :math:`\mu \sim \mathrm{Gamma}(s, \beta)`. The likelihood of one history is

.. math::

    L = \frac{\Gamma(r + x)\,\alpha^r \beta^s}{\Gamma(r)} \Big[
        \frac{1}{(\alpha + T)^{r + x} (\beta + T)^s} + \frac{s}{r + s + x} A_0 \Big],

    A_0 = \frac{{}_2F_1\big(r + s + x, u; r + s + x + 1; \frac{|\alpha - \beta|}{m + t_x}\big)}
               {(m + t_x)^{r + s + x}}
        - \frac{{}_2F_1\big(r + s + x, u; r + s + x + 1; \frac{|\alpha - \beta|}{m + T}\big)}
               {(m + T)^{r + s + x}},

with ``m = max(alpha, beta)`` and ``u = s + 1`` when ``alpha >= beta``, ``u = r + x`` otherwise.
Each term is computed in log space through :func:`tillage.models.special.log_hyp2f1_a_plus_one`
(Euler's transformation), and the difference through ``log(exp(p) - exp(q))``; nothing overflows
for thousands of purchases or long histories.

The gradient is not taken analytically (derivatives of 2F1 in its parameters have no convenient
closed form); the base class uses central differences of the vectorized log-likelihood, i.e. nine
vectorized evaluations per optimiser step, never a loop over customers.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy.special import expit, gammaln

from tillage.models.base import BaseModel, Data
from tillage.models.special import log_hyp2f1_a_plus_one, logdiffexp

__all__ = ["ParetoNBDModel"]


def _log_a0(r, alpha, s, beta, x, tx, T):
    """log A_0 of the likelihood (``-inf`` where t_x = T, where A_0 = 0)."""
    rsx = r + s + x
    if alpha >= beta:
        m, u = alpha, s + 1.0
    else:
        m, u = beta, r + x
    diff = abs(alpha - beta)
    log_f_tx = log_hyp2f1_a_plus_one(rsx, u, diff / (m + tx)) - rsx * np.log(m + tx)
    log_f_T = log_hyp2f1_a_plus_one(rsx, u, diff / (m + T)) - rsx * np.log(m + T)
    return logdiffexp(log_f_tx, np.minimum(log_f_T, log_f_tx))


def _discounted_tail(s: float, base: NDArray[np.float64], t: float) -> NDArray[np.float64]:
    """``base / (s - 1) * (1 - (base / (base + t))^(s - 1))``, with its limit at ``s = 1``."""
    log_ratio = np.log(base) - np.log(base + t)
    if abs(s - 1.0) < 1e-10:
        return -base * log_ratio
    return base * -np.expm1((s - 1.0) * log_ratio) / (s - 1.0)


class ParetoNBDModel(BaseModel):
    r"""Pareto/NBD model (Schmittlein, Morrison & Colombo 1987) with parameters
    ``r, alpha, s, beta``.

    Fit on ``frequency``, ``recency``, ``T`` (periods), optionally ``weight``. Predictions:

    * :meth:`conditional_probability_alive` —
      :math:`1 / (1 + \frac{s}{r + s + x} (\alpha + T)^{r + x} (\beta + T)^s A_0)`;
    * :meth:`conditional_expected_purchases` — purchases in ``(T, T + t]``,
      :math:`\frac{(r + x)(\beta + T)}{(\alpha + T)(s - 1)}
      [1 - (\frac{\beta + T}{\beta + T + t})^{s - 1}]\, P(\text{alive})`;
    * :meth:`expected_purchases_new_customer` — :math:`\frac{r \beta}{\alpha (s - 1)}
      [1 - (\frac{\beta}{\beta + t})^{s - 1}]` (limits taken at ``s = 1``).
    """

    _param_names: ClassVar[tuple[str, ...]] = ("r", "alpha", "s", "beta")
    _columns: ClassVar[tuple[str, ...]] = ("frequency", "recency", "T")
    _count_columns: ClassVar[tuple[str, ...]] = ("frequency",)
    _nonnegative_columns: ClassVar[tuple[str, ...]] = ("recency",)
    _positive_columns: ClassVar[tuple[str, ...]] = ("T",)
    _analytic_gradient: ClassVar[bool] = False

    def _initial_guess(self, data: Data, weights: NDArray[np.float64]) -> NDArray[np.float64]:
        mean_t = float(np.dot(weights, data["T"]) / weights.sum())
        return np.array([1.0, max(mean_t, 1e-3), 1.0, max(mean_t, 1e-3)])

    def _prepare(self, data: Data) -> Data:
        xu, inverse = np.unique(data["frequency"], return_inverse=True)
        return {**data, "_xu": xu, "_xi": inverse.reshape(-1)}

    def _loglik(self, params, data, *, grad):
        r, alpha, s, beta = (float(p) for p in params)
        x, tx, T = data["frequency"], data["recency"], data["T"]
        xu, xi = data.get("_xu"), data.get("_xi")
        if xu is None:
            xu, xi = np.unique(x, return_inverse=True)
        a1 = (gammaln(r + xu) - gammaln(r))[xi] + r * np.log(alpha) + s * np.log(beta)
        first = -(r + x) * np.log(alpha + T) - s * np.log(beta + T)
        second = np.log(s) - np.log(r + s + x) + _log_a0(r, alpha, s, beta, x, tx, T)
        return a1 + np.logaddexp(first, second)

    def log_likelihood(self, frame: pd.DataFrame) -> pd.Series:
        """Per-customer log-likelihood of the fitted parameters."""
        params = self._check_fitted()
        x, tx, T = self._arrays(frame, self._columns)
        ll = self._loglik(params, {"frequency": x, "recency": tx, "T": T}, grad=False)
        return self._series(ll, frame, "log_likelihood")

    def _p_alive(self, x, tx, T):
        p = self.params_
        r, alpha, s, beta = p["r"], p["alpha"], p["s"], p["beta"]
        log_odds_dead = (
            np.log(s)
            - np.log(r + s + x)
            + (r + x) * np.log(alpha + T)
            + s * np.log(beta + T)
            + _log_a0(r, alpha, s, beta, x, tx, T)
        )
        return expit(-log_odds_dead)

    def conditional_probability_alive(self, frame: pd.DataFrame) -> pd.Series:
        """P(alive | x, t_x, T) (Fader & Hardie 2005 note, eq. 25)."""
        self._check_fitted()
        x, tx, T = self._arrays(frame, self._columns)
        return self._series(self._p_alive(x, tx, T), frame, "p_alive")

    def conditional_expected_purchases(self, t: float, frame: pd.DataFrame) -> pd.Series:
        """E[Y(t) | x, t_x, T], expected purchases in (T, T + t] (Fader & Hardie note, eq. 27)."""
        self._check_fitted()
        x, tx, T = self._arrays(frame, self._columns)
        p = self.params_
        values = (
            (p["r"] + x)
            / (p["alpha"] + T)
            * _discounted_tail(p["s"], p["beta"] + T, float(t))
            * self._p_alive(x, tx, T)
        )
        return self._series(values, frame, "expected_purchases")

    def expected_purchases_new_customer(self, t: float | NDArray[np.float64]) -> float | pd.Series:
        """E[X(t)], purchases in (0, t] by a customer just acquired (Schmittlein et al. eq. 17);
        a float for a scalar ``t``, else a Series indexed by ``t``."""
        self._check_fitted()
        p = self.params_
        horizons = np.asarray(t, dtype=float)
        base = np.full(horizons.shape, p["beta"])
        values = p["r"] / p["alpha"] * _discounted_tail(p["s"], base, horizons)
        return self._over_t(t, values, "expected_purchases")
