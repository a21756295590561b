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
Each term is computed in log space after Euler's transformation, and the difference through
``log(exp(p) - exp(q))``; nothing overflows for thousands of purchases or long histories.

**Gradient.** The second term is :math:`s\,[F_x(t_x) - F_x(T)]` with :math:`F_x(t)` the tail
integral of the density of the time of death; :mod:`tillage.models._pareto_series` evaluates
:math:`\log F_x` with its exact gradient and Hessian once per distinct ``(x, t)`` pair, by
power series summed with Horner's rule. The chain rule then gives the exact gradient of the
log-likelihood, at about the cost of one likelihood evaluation. P(alive) uses the same
:math:`F_x`.

**Hessian.** Per history, with :math:`w_1, w_2` the shares of the likelihood's two terms,
:math:`\nabla^2 \log L = w_1 \nabla^2 a + w_2 \nabla^2 b + w_1 w_2 (\nabla a - \nabla b)
(\nabla a - \nabla b)^T` and :math:`\nabla^2 \log(F(t_x) - F(T)) = \iota \nabla^2 \log F(t_x)
+ (1 - \iota) \nabla^2 \log F(T) + \iota (1 - \iota) \Delta \Delta^T` with
:math:`\iota = 1 / (1 - F(T) / F(t_x))`, :math:`\Delta = \nabla \log F(t_x) - \nabla \log F(T)`.
:meth:`ParetoNBDModel._loglik_totals` sums the terms linear in a pair's derivatives per pair
(weights gathered with ``bincount``) and forms only the two outer products per history; the fit
is then Newton's method (:meth:`tillage.models.base.BaseModel._fit_newton`), 7 to 10 iterations.
"""

from __future__ import annotations

import math
from typing import ClassVar

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy.special import digamma, expit, gammaln, zeta

from tillage.models._optimise import warm_start
from tillage.models._pareto_series import _log_f, _Pairs
from tillage.models.base import BaseModel, Data, _weighted_rows, _weighted_sum
from tillage.models.special import log1mexp

__all__ = ["ParetoNBDModel"]


#: Distinct histories in the sample that gives large fits their starting point.
_WARM_ROWS = 50_000


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
    # T = 0: a first purchase on the calibration-end day, a valid (if uninformative) history
    _nonnegative_columns: ClassVar[tuple[str, ...]] = ("recency", "T")
    _newton: ClassVar[bool] = True
    # a large fit's first steps use the warm-start sample's Hessian (gradients only): here the
    # Hessian costs several times the gradient
    _chord_start: ClassVar[bool] = True

    def _initial_guess(self, data: Data, weights: NDArray[np.float64]) -> NDArray[np.float64]:
        """``r = s = 1``, ``alpha = beta =`` the mean ``T``; with more than
        ``4 * _WARM_ROWS`` distinct histories, the estimate on every k-th of them instead (a
        systematic sample across x and T, as the rows are sorted by pair; weights kept), so
        that only the last two or three of Newton's iterations run on all the histories."""
        mean_t = _weighted_sum(data["T"], weights) / float(weights.sum())
        guess = np.array([1.0, max(mean_t, 1e-3), 1.0, max(mean_t, 1e-3)])
        return warm_start(self, data, weights, guess, rows=_WARM_ROWS)

    def _collapse(self, columns: Data | pd.DataFrame) -> tuple[Data, NDArray[np.float64]]:
        """Distinct rows with summed weights, and their ``(x, t)`` pairs (NumPy sorts: faster
        than a pandas group-by, and the pairs come with them)."""
        x, tx, T = (np.asarray(columns[c], dtype=float) for c in self._columns)
        weights = np.ones(x.size)
        if "weight" in columns:
            weights = np.asarray(columns["weight"], dtype=float)
        pairs, summed = _Pairs.collapse(x, tx, T, weights)
        data = {
            "frequency": pairs.x,
            "recency": pairs.pt[pairs.i_tx],
            "T": pairs.T,
            "_pairs": pairs,
        }
        return data, summed

    def _prepare(self, data: Data) -> Data:
        if "_pairs" in data:
            return data
        return {**data, "_pairs": _Pairs.build(data["frequency"], data["recency"], data["T"])}

    def _loglik(self, params, data, *, grad):
        r, alpha, s, beta = (float(p) for p in params)
        pairs = data.get("_pairs")
        if pairs is None:
            pairs = _Pairs.build(data["frequency"], data["recency"], data["T"])
        x, xi = pairs.x, pairs.xi
        lf, dlf, _, log_at, log_bt = _log_f(r, alpha, s, beta, pairs, order=int(grad))
        itx, iT = pairs.i_tx, pairs.i_T
        rx = r + x
        a1 = (gammaln(r + pairs.xu) - gammaln(r))[xi] + r * math.log(alpha) + s * math.log(beta)
        first = -rx * log_at[iT] - s * log_bt[iT]
        lf_tx = lf[itx]
        dq = np.minimum(lf[iT] - lf_tx, 0.0)  # log F(T) - log F(t_x) <= 0; 0 where t_x = T
        second = math.log(s) + lf_tx + log1mexp(dq)
        mix = np.logaddexp(first, second)
        ll = a1 + mix
        if not grad:
            return ll
        w1 = np.exp(first - mix)
        w2 = np.exp(second - mix)  # 0 where t_x = T
        pos = dq < 0
        inv = np.zeros_like(dq)
        inv[pos] = 1.0 / -np.expm1(dq[pos])  # 1 / (1 - F(T) / F(t_x))
        out = np.empty((4, x.size))
        d_lt = dlf[:, iT]
        # d log I = d log F(T) + (d log F(t_x) - d log F(T)) / (1 - q)
        d_int = (d_lt + (dlf[:, itx] - d_lt) * inv) * w2
        out[0] = (
            (digamma(r + pairs.xu) - digamma(r))[xi] + math.log(alpha) - w1 * log_at[iT] + d_int[0]
        )
        out[1] = r / alpha - w1 * rx / (alpha + pairs.T) + d_int[1]
        out[2] = math.log(beta) - w1 * log_bt[iT] + w2 / s + d_int[2]
        out[3] = s / beta - w1 * s / (beta + pairs.T) + d_int[3]
        return ll, out

    def _loglik_totals(self, params, data, weights, *, order):
        """Weighted total log-likelihood, gradient and Hessian (module docstring): the terms
        linear in a pair's derivatives are summed per pair, with the histories' weights
        gathered onto pairs by ``bincount``; only the outer products are formed per history."""
        r, alpha, s, beta = (float(p) for p in params)
        pairs = data["_pairs"]
        lf, dlf, d2lf, log_at, log_bt = _log_f(r, alpha, s, beta, pairs, order=order)
        itx, iT = pairs.i_tx, pairs.i_T
        n_pairs = lf.size
        w_x = np.bincount(pairs.xi, weights, minlength=pairs.xu.size)  # weight per distinct x
        total = float(w_x.sum())
        rx_p = r + pairs.px
        first_p = -rx_p * log_at - s * log_bt  # the "alive at T" term depends on (x, T) only
        first = first_p[iT]
        lf_tx = lf[itx]
        dq = np.minimum(lf[iT] - lf_tx, 0.0)  # log F(T) - log F(t_x) <= 0; 0 where t_x = T
        second = math.log(s) + lf_tx + log1mexp(dq)
        mix = np.logaddexp(first, second)
        a1 = _weighted_sum(gammaln(r + pairs.xu), w_x) - total * (
            gammaln(r) - r * math.log(alpha) - s * math.log(beta)
        )
        ll = a1 + _weighted_sum(mix, weights)
        if order == 0:
            return ll, None, None
        w1 = np.exp(first - mix)
        w2 = np.exp(second - mix)  # 0 where t_x = T
        pos = dq < 0
        inv = np.zeros_like(dq)
        inv[pos] = 1.0 / -np.expm1(dq[pos])  # 1 / (1 - F(T) / F(t_x))
        ww1 = weights * w1
        ww2 = weights * w2
        # d log(F(t_x) - F(T)) = inv d log F(t_x) + (1 - inv) d log F(T): weights per pair
        on_tx = ww2 * inv
        on_pairs = np.bincount(itx, on_tx, minlength=n_pairs)
        on_pairs += np.bincount(iT, ww2 - on_tx, minlength=n_pairs)
        on_first = np.bincount(iT, ww1, minlength=n_pairs)
        inv_at = 1.0 / (alpha + pairs.pt)
        inv_bt = 1.0 / (beta + pairs.pt)
        g_first = np.stack([-log_at, -rx_p * inv_at, -log_bt, -s * inv_bt])
        sum_w2 = float(ww2.sum())
        grad = _weighted_rows(g_first, on_first) + _weighted_rows(dlf, on_pairs)
        grad[0] += _weighted_sum(digamma(r + pairs.xu), w_x) - total * (
            digamma(r) - math.log(alpha)
        )
        grad[1] += total * r / alpha
        grad[2] += total * math.log(beta) + sum_w2 / s
        grad[3] += total * s / beta
        if order == 1:
            return ll, grad, None
        # d2 mix = w1 d2 first + w2 d2 second + w1 w2 (d first - d second)(...)^T, and
        # d2 log(F(t_x) - F(T)) = inv H(t_x) + (1 - inv) H(T) + inv (1 - inv) dg dg^T with
        # dg = d log F(t_x) - d log F(T)
        hess = np.einsum("ijp,p->ij", d2lf, on_pairs)
        # the "alive" term's own second derivatives (zero but for these four)
        r_a = -_weighted_sum(inv_at, on_first)
        s_b = -_weighted_sum(inv_bt, on_first)
        hess[0, 1] += r_a + total / alpha
        hess[1, 0] += r_a + total / alpha
        hess[1, 1] += _weighted_sum(rx_p * inv_at * inv_at, on_first) - total * r / alpha**2
        hess[2, 3] += s_b + total / beta
        hess[3, 2] += s_b + total / beta
        hess[3, 3] += s * _weighted_sum(inv_bt * inv_bt, on_first) - total * s / beta**2
        tri = zeta(2.0, np.append(r + pairs.xu, r))  # trigamma, in one call
        hess[0, 0] += _weighted_sum(tri[:-1], w_x) - total * float(tri[-1])
        hess[2, 2] -= sum_w2 / s**2
        # the two outer products, history by history (rows with t_x = T have ww2 = 0)
        d_log = dlf[:, itx]
        d_log -= dlf[:, iT]  # dg
        hess += np.einsum("ip,jp->ij", d_log * (ww2 * inv * (1.0 - inv)), d_log)
        # d first - d second = g_first - d log F(T) - inv dg - e_s / s
        diff = (g_first - dlf)[:, iT]
        diff -= inv * d_log
        diff[2] -= 1.0 / s
        hess += np.einsum("ip,jp->ij", diff * (ww1 * w2), diff)
        return ll, grad, (hess + hess.T) / 2.0

    def log_likelihood(self, frame: pd.DataFrame) -> pd.Series:
        """Per-customer log-likelihood of the fitted parameters."""
        params = self._check_fitted()
        x, tx, T = self._arrays(frame, self._columns)
        ll = self._loglik(params, {"frequency": x, "recency": tx, "T": T}, grad=False)
        return self._series(ll, frame, "log_likelihood")

    def _p_alive(self, x, tx, T):
        p = self.params_
        r, alpha, s, beta = p["r"], p["alpha"], p["s"], p["beta"]
        pairs = _Pairs.build(x, tx, T)
        with np.errstate(divide="ignore"):
            lf, _, _, log_at, log_bt = _log_f(r, alpha, s, beta, pairs, order=0)
        lf_tx = lf[pairs.i_tx]
        dq = np.minimum(lf[pairs.i_T] - lf_tx, 0.0)
        # odds of "died in (t_x, T]" against "alive at T": second / first of the likelihood
        log_odds_dead = (
            math.log(s) + lf_tx + log1mexp(dq) + (r + x) * log_at[pairs.i_T] + s * log_bt[pairs.i_T]
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
