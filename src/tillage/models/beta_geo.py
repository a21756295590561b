r"""BG/NBD: the beta-geometric / negative binomial distribution model of repeat buying.

Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005). "Counting Your Customers" the Easy Way: An
Alternative to the Pareto/NBD Model. *Marketing Science* 24(2), 275–284.

Notation (the paper's, used only inside :mod:`tillage.models`): a customer with history
``(x, t_x, T)`` made ``x`` repeat purchases, the last at time ``t_x`` after the first purchase, and
has been observed for ``T`` periods since the first purchase. While active, purchases arrive as a
Poisson process with rate :math:`\lambda \sim \mathrm{Gamma}(r, \alpha)` (shape ``r``, rate
``alpha``); after each repeat purchase the customer drops out with probability
:math:`p \sim \mathrm{Beta}(a, b)`. Time is in whatever period the summary uses (weeks for CDNOW).

The likelihood of one history (paper eq. 6) is

.. math::

    L = \frac{B(a, b + x)}{B(a, b)} \frac{\Gamma(r + x)\,\alpha^r}{\Gamma(r)\,(\alpha + T)^{r + x}}
      + \delta_{x > 0} \frac{B(a + 1, b + x - 1)}{B(a, b)}
        \frac{\Gamma(r + x)\,\alpha^r}{\Gamma(r)\,(\alpha + t_x)^{r + x}},

evaluated in log space with ``logaddexp``; its gradient is analytic (digamma terms).

The fit is Newton's method (:meth:`tillage.models.base.BaseModel._fit_newton`) on the weighted
totals of :meth:`BetaGeoModel._loglik_totals`, whose gradient and Hessian are in closed form:
with :math:`d = \ln a - \ln(b + x - 1) + (r + x)(\ln(\alpha + T) - \ln(\alpha + t_x))` (the
log-odds of "dropped out at :math:`t_x`") the likelihood is
:math:`\ln L = A(x) - (r + x)\ln(\alpha + T) + \delta_{x>0}\,\mathrm{softplus}(d)`, where
:math:`A(x)` holds the gamma and beta functions, which depend on :math:`x` alone and are summed
per distinct :math:`x` (``bincount``); no hypergeometric function is evaluated. Continuous
times, where no two histories are equal, are not collapsed (a sort would cost more than it
saves), and a large base starts from the estimate on a systematic sample of it.
"""

from __future__ import annotations

import math
from typing import ClassVar

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy.special import betaln, digamma, expit, gammaln, hyp2f1, zeta

from tillage.models._optimise import warm_start
from tillage.models.base import BaseModel, Data, _weighted_sum
from tillage.models.special import trigamma_steps

__all__ = ["BetaGeoModel"]

#: Rows of the sample that gives large fits their starting point.
_WARM_ROWS = 50_000
#: Below the diagonal of the 4 x 4 Hessian.
_LOWER = np.tril_indices(4, -1)
#: Histories per block of the likelihood's terms (its work arrays stay in the CPU's cache).
_BLOCK = 65_536


def _unique_x(x: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.intp]]:
    values, inverse = np.unique(x, return_inverse=True)
    return values, inverse.reshape(-1)


def _hyp2f1(a: float, b: float, c, z) -> NDArray[np.float64]:
    """:func:`scipy.special.hyp2f1`, with its NaN where ``c - a - b`` is an integer and ``z`` is
    near 1 (e.g. ``2F1(3, -0.99; 3.01; 0.998)``, met here when ``r - a`` is an integer) replaced
    by the mean of the values at ``a -+ 1e-6``: the function is smooth in ``a``, so the error is
    of order 1e-12."""
    value = np.asarray(hyp2f1(a, b, c, z), dtype=float)
    bad = ~np.isfinite(value)
    if bad.any():
        c_bad = np.broadcast_to(c, value.shape)[bad]
        z_bad = np.broadcast_to(z, value.shape)[bad]
        value = value.copy()
        value[bad] = (hyp2f1(a - 1e-6, b, c_bad, z_bad) + hyp2f1(a + 1e-6, b, c_bad, z_bad)) / 2.0
    return value


class BetaGeoModel(BaseModel):
    r"""BG/NBD model (Fader, Hardie & Lee 2005) with parameters ``r, alpha, a, b``.

    Fit on a frame with columns ``frequency`` (x, repeat purchases), ``recency`` (t_x) and ``T``,
    all in periods, optionally ``weight``. Predictions:

    * :meth:`conditional_probability_alive` — :math:`P(\text{alive} \mid x, t_x, T)` (eq. A10);
    * :meth:`conditional_expected_purchases` — :math:`E[Y(t) \mid x, t_x, T]`, purchases in
      ``(T, T + t]`` (eq. 10);
    * :meth:`expected_purchases_new_customer` — :math:`E[X(t)]` in ``(0, t]`` (eq. 7).
    """

    _param_names: ClassVar[tuple[str, ...]] = ("r", "alpha", "a", "b")
    _columns: ClassVar[tuple[str, ...]] = ("frequency", "recency", "T")
    _count_columns: ClassVar[tuple[str, ...]] = ("frequency",)
    # T = 0: a first purchase on the calibration-end day, a valid (if uninformative) history
    _nonnegative_columns: ClassVar[tuple[str, ...]] = ("recency", "T")

    _newton: ClassVar[bool] = True
    _continuous_column: ClassVar[str | None] = "T"

    def _initial_guess(self, data: Data, weights: NDArray[np.float64]) -> NDArray[np.float64]:
        """``r = 0.5``, ``alpha = r / λ̄`` with λ̄ = Σ w x / Σ w T the base's repeat rate (so
        that the prior mean rate r/alpha is the observed one, in the data's time unit), and
        ``a = 0.5``, ``b = 1.5`` (a quarter of the customers drop out after a purchase): a
        start the Newton steps leave in 6 iterations on CDNOW and the simulated bases, against
        8 from ``r = a = b = 1``, ``alpha`` = mean ``T`` (which remains the start of a base
        without a repeat purchase). With more than ``4 * _WARM_ROWS`` rows, the estimate on
        every k-th of them instead, so that only the last few Newton iterations run on all of
        them."""
        total_t = _weighted_sum(data["T"], weights)
        rate = _weighted_sum(data["frequency"], weights) / total_t if total_t > 0 else 0.0
        if rate > 0:
            guess = np.array([0.5, 0.5 / rate, 0.5, 1.5])
        else:
            guess = np.array([1.0, max(total_t / float(weights.sum()), 1e-3), 1.0, 1.0])
        return warm_start(self, data, weights, guess, rows=_WARM_ROWS)

    def _prepare(self, data: Data) -> Data:
        x = data["frequency"]
        if x.size and x.max() < 1_000_000:  # counts: the count is its own index
            inverse = x.astype(np.intp)
            xu = np.arange(int(inverse.max()) + 1, dtype=float)
        else:
            xu, inverse = _unique_x(x)
        pos = x > 0
        return {
            **data,
            "_xu": xu,
            "_xi": inverse,
            "_pos": pos,
            "_xp": x[pos],
            "_txp": data["recency"][pos],
            "_Tp": data["T"][pos],
        }

    def _weights(self, data: Data, weights: NDArray[np.float64]) -> dict:
        """What the totals need of ``weights``, computed once per fit."""
        cache = data.setdefault("_weights", {})
        if cache.get("id") is not weights:
            wx = weights * data["frequency"]
            cache.update(
                id=weights,
                W=float(weights.sum()),
                Wu=np.bincount(data["_xi"], weights, minlength=data["_xu"].size),
                wx=wx,
                both=np.stack([weights, wx]),
                wp=weights[data["_pos"]],
            )
        return cache

    def _loglik_totals(self, params, data, weights, *, order):
        r"""Weighted total log-likelihood; with ``order`` 1 its gradient, with 2 also its
        Hessian, in ``(r, alpha, a, b)``. Per distinct x: :math:`A(x)` and its derivatives
        (digamma, trigamma); per history, only :math:`\ln(\alpha + T)` and, where x > 0,
        :math:`\ln(\alpha + t_x)` and the softplus of :math:`d` with its sigmoid
        :math:`\sigma` (the posterior weight of "dropped out"), whose derivatives follow from
        :math:`\mathrm{softplus}'' = \sigma(1 - \sigma)`."""
        r, alpha, a, b = (float(p) for p in params)
        cw = self._weights(data, weights)
        xu, Wu, W = data["_xu"], cw["Wu"], cw["W"]
        T = data["T"]
        # Per-history terms in blocks of rows, written into work arrays kept for the fit
        # (``out=``): fresh arrays of a million rows cost more in page faults than arithmetic.
        bufs = self._buffers(cw)
        sums = np.zeros((order + 1, 2))  # Σ w and Σ w x of ln(α+T), 1/(α+T), 1/(α+T)²
        for lo in range(0, T.size, _BLOCK):
            hi = min(lo + _BLOCK, T.size)
            big = bufs[0][: order + 1, : hi - lo]
            np.add(T[lo:hi], alpha, out=big[0])
            if order:
                np.reciprocal(big[0], out=big[1])
                if order == 2:
                    np.multiply(big[1], big[1], out=big[2])
            np.log(big[0], out=big[0])
            sums += np.einsum("kn,jn->jk", cw["both"][:, lo:hi], big)
        rep = np.zeros(21)  # the repeat buyers' sums (see _repeat_sums)
        xp, Tp, txp, wp = data["_xp"], data["_Tp"], data["_txp"], cw["wp"]
        for lo in range(0, xp.size, _BLOCK):
            cut = slice(lo, min(lo + _BLOCK, xp.size))
            rows = (xp[cut], Tp[cut], txp[cut])
            rep += self._repeat_sums((r, alpha, a, b), rows, wp[cut], order, bufs)
        per_x = [gammaln(r + xu) + betaln(a, b + xu)]  # sums per distinct x, weights Wu
        if order:
            psi_abx = digamma(a + b + xu)
            per_x += [digamma(r + xu), psi_abx, digamma(b + xu)]
            if order == 2:
                per_x += list(self._trigamma(xu, (a + b, r, b)))
        u = np.einsum("kn,n->k", np.stack(per_x), Wu)
        s_l, s_lx = sums[0]
        total = u[0] + (r * math.log(alpha) - math.lgamma(r) - betaln(a, b)) * W - r * s_l - s_lx
        total += rep[0]  # Σ w softplus(d)
        if order == 0:
            return total, None, None
        (s_i, s_ix), q_sum, qs, hq, hs = sums[1], rep[1], rep[2:9], rep[9:16], rep[16:21]
        psi_ab, psi_b = digamma(a + b), digamma(b)
        grad = np.array(
            [
                u[1] - (digamma(r) - math.log(alpha)) * W - s_l + qs[0],
                r * W / alpha - (r * s_i + s_ix) + qs[1],
                psi_ab * W - u[2] + q_sum / a,
                u[3] - u[2] + (psi_ab - psi_b) * W - qs[2],
            ]
        )
        if order == 1:
            return total, grad, None
        tri_ab, tri_r, tri_b = (float(t) for t in zeta(2.0, np.array([a + b, r, b])))
        ab_u = tri_ab * W - u[4]
        hess = np.empty((4, 4))
        hess[0, 0] = u[5] - tri_r * W + hs[0]
        hess[0, 1] = W / alpha - s_i + hs[1] + qs[3]
        hess[1, 1] = -r * W / alpha**2 + r * sums[2][0] + sums[2][1] + hs[2] + qs[4]
        hess[0, 2] = hq[0] / a
        hess[0, 3] = -hs[3]
        hess[1, 2] = hq[1] / a
        hess[1, 3] = -hs[4]
        hess[2, 2] = ab_u - qs[5] / a**2
        hess[2, 3] = ab_u - hq[2] / a
        hess[3, 3] = u[6] - u[4] - (tri_b - tri_ab) * W + hq[6] + qs[6]
        hess[_LOWER] = hess.T[_LOWER]
        return total, grad, hess

    @staticmethod
    def _repeat_sums(params, rows, wp, order: int, bufs) -> NDArray[np.float64]:
        r"""One block of repeat buyers: ``[Σ w softplus(d), Σ q, Σ q Q (7), Σ h Q (7),
        Σ h H (5)]``, as far as ``order`` needs, with :math:`q = w\sigma(d)`,
        :math:`h = q(1 - \sigma(d))` (softplus'' times the weight), the rows Q = (diff =
        ln(α+T) − ln(α+t_x), ∂d/∂α, 1/(b+x−1), 1/(α+T) − 1/(α+t_x), (r+x)(1/(α+t_x)² −
        1/(α+T)²), σ, 1/(b+x−1)²) and H = (diff², diff ∂d/∂α, (∂d/∂α)², diff/(b+x−1),
        (∂d/∂α)/(b+x−1))."""
        r, alpha, a, b = params
        xp, Tp, txp = rows
        Q, H, qh, tmp = (buf[:, : xp.size] for buf in bufs[1:])
        out = np.zeros(21)
        diff, icx, sig = Q[0], Q[2], Q[5]
        np.add(Tp, alpha, out=tmp[0])
        np.add(txp, alpha, out=tmp[1])
        np.log(tmp[0], out=diff)
        np.log(tmp[1], out=tmp[3])
        diff -= tmp[3]  # ln(α+T) − ln(α+t_x) ≥ 0
        np.add(xp, b - 1.0, out=icx)  # b + x − 1
        d = tmp[3]
        np.log(icx, out=d)
        np.reciprocal(icx, out=icx)
        sx = np.add(xp, r, out=tmp[2])
        np.multiply(sx, diff, out=tmp[4])
        np.subtract(tmp[4], d, out=d)
        d += math.log(a)  # ln a − ln(b + x − 1) + (r + x)(ln(α+T) − ln(α+t_x))
        np.logaddexp(0.0, d, out=tmp[4])
        out[0] = _weighted_sum(tmp[4], wp)
        if order == 0:
            return out
        expit(d, out=sig)
        q = np.multiply(wp, sig, out=qh[0])  # P(dropped out at t_x), times the weight
        out[1] = float(q.sum())
        inv_tp, inv_x = np.reciprocal(tmp[0], out=tmp[0]), np.reciprocal(tmp[1], out=tmp[1])
        e_sx = np.subtract(inv_tp, inv_x, out=Q[1])
        if order == 2:
            Q[3] = e_sx
        e_sx *= sx  # ∂d/∂α
        if order == 1:
            out[2:5] = np.einsum("kn,n->k", Q[:3], q)
            return out
        np.add(inv_x, inv_tp, out=Q[4])
        Q[4] *= e_sx
        np.negative(Q[4], out=Q[4])  # (r + x)(1/(α+t_x)² − 1/(α+T)²)
        np.multiply(icx, icx, out=Q[6])
        h = np.subtract(1.0, sig, out=qh[1])
        h *= q
        np.multiply(diff, diff, out=H[0])
        np.multiply(diff, e_sx, out=H[1])
        np.multiply(e_sx, e_sx, out=H[2])
        np.multiply(diff, icx, out=H[3])
        np.multiply(e_sx, icx, out=H[4])
        both_qh = np.einsum("kn,jn->jk", Q, qh)  # rows of Q against q and h
        out[2:9], out[9:16] = both_qh[0], both_qh[1]
        out[16:21] = np.einsum("kn,n->k", H, h)
        return out

    @staticmethod
    def _trigamma(xu: NDArray[np.float64], starts: tuple[float, ...]) -> NDArray[np.float64]:
        """Trigamma at ``c + xu`` for each start ``c``: by the recurrence where ``xu`` is
        0, 1, 2, ... (counts), else by scipy's zeta at every point."""
        if xu.size and xu[0] == 0.0 and xu[-1] == xu.size - 1:
            return trigamma_steps(starts, xu.size)
        return zeta(2.0, np.add.outer(np.array(starts), xu))

    @staticmethod
    def _buffers(cache: dict) -> tuple[NDArray[np.float64], ...]:
        """Work arrays of :meth:`_loglik_totals`, one block of rows wide, made once per fit:
        3 rows over all histories, and over the repeat buyers 7 rows summed against q and h,
        5 against h, q and h, and 5 of scratch."""
        if "buffers" not in cache:
            width = max(1, min(_BLOCK, cache["wx"].size))
            cache["buffers"] = tuple(np.empty((rows, width)) for rows in (3, 7, 5, 2, 5))
        return cache["buffers"]

    def _loglik(self, params, data, *, grad):
        r, alpha, a, b = params
        x, tx, T = data["frequency"], data["recency"], data["T"]
        xu, xi = data.get("_xu"), data.get("_xi")
        if xu is None:
            xu, xi = _unique_x(x)
        # terms depending on x only, computed once per distinct x
        a1u = gammaln(r + xu) - gammaln(r) + r * np.log(alpha)
        a2u = betaln(a, b + xu) - betaln(a, b)
        pos_u = xu > 0
        bx1_u = np.where(pos_u, b + xu - 1.0, 1.0)
        log_ratio_u = np.log(a) - np.log(bx1_u)  # log B(a+1, b+x-1) - log B(a, b+x)
        rx = r + x
        log_at = np.log(alpha + T)
        log_atx = np.log(alpha + tx)
        a3 = -rx * log_at
        a4 = log_ratio_u[xi] - rx * log_atx
        pos = x > 0
        a4 = np.where(pos, a4, -np.inf)
        mix = np.logaddexp(a3, a4)
        ll = a1u[xi] + a2u[xi] + mix
        if not grad:
            return ll
        w = np.where(pos, np.exp(a4 - mix), 0.0)  # weight of the "dropped out at t_x" branch
        v = 1.0 - w
        psi_ab = digamma(a + b)
        d_r = (digamma(r + xu) - digamma(r))[xi] + np.log(alpha) - v * log_at - w * log_atx
        d_alpha = r / alpha - v * rx / (alpha + T) - w * rx / (alpha + tx)
        d_a_u = psi_ab - digamma(a + b + xu)
        d_b_u = psi_ab + digamma(b + xu) - digamma(b) - digamma(a + b + xu)
        d_a = d_a_u[xi] + w / a
        d_b = d_b_u[xi] - w / bx1_u[xi]
        return ll, np.vstack([d_r, d_alpha, d_a, d_b])

    def log_likelihood(self, frame: pd.DataFrame) -> pd.Series:
        """Per-customer log-likelihood of the fitted parameters."""
        params = self._check_fitted()
        x, tx, T = self._arrays(frame, self._columns)
        ll = self._loglik(params, {"frequency": x, "recency": tx, "T": T}, grad=False)
        return self._series(ll, frame, "log_likelihood")

    def _log_odds_dead(self, x, tx, T):
        r, alpha, a, b = (
            self.params_["r"],
            self.params_["alpha"],
            self.params_["a"],
            self.params_["b"],
        )
        pos = x > 0
        bx1 = np.where(pos, b + x - 1.0, 1.0)
        z = np.log(a) - np.log(bx1) + (r + x) * (np.log(alpha + T) - np.log(alpha + tx))
        return np.where(pos, z, -np.inf)

    def conditional_probability_alive(self, frame: pd.DataFrame) -> pd.Series:
        r"""P(alive | x, t_x, T) = 1 / (1 + δ_{x>0} a/(b+x-1) ((α+T)/(α+t_x))^{r+x}) (eq. A10)."""
        self._check_fitted()
        x, tx, T = self._arrays(frame, self._columns)
        return self._series(expit(-self._log_odds_dead(x, tx, T)), frame, "p_alive")

    def expected_purchases_new_customer(self, t: float | NDArray[np.float64]) -> float | pd.Series:
        r"""E[X(t)], purchases in (0, t] by a customer just acquired (eq. 7).

        A float for a scalar ``t``, else a Series indexed by ``t``.

        .. math:: E[X(t)] = \frac{a + b - 1}{a - 1}\Big[1 - \Big(\frac{\alpha}{\alpha + t}\Big)^r
                  {}_2F_1\big(r, b; a + b - 1; \tfrac{t}{\alpha + t}\big)\Big]

        computed after Euler's transformation as ``(1 - z)^(a-1) 2F1(a+b-1-r, a-1; a+b-1; z)``,
        which is well defined also for ``a < 1`` (the CDNOW fit has a = 0.79). Requires
        ``a + b > 1``; ``a = 1`` exactly is a removable singularity not handled here.
        """
        self._check_fitted()
        values = self._expected_purchases(np.asarray(t, dtype=float), 0.0, 0.0, 0.0, new=True)
        return self._over_t(t, values, "expected_purchases")

    def conditional_expected_purchases(self, t: float, frame: pd.DataFrame) -> pd.Series:
        r"""E[Y(t) | x, t_x, T], expected purchases in (T, T + t] (eq. 10).

        .. math:: \frac{\frac{a + b + x - 1}{a - 1}\Big[1 - \big(\frac{\alpha + T}{\alpha + T + t}
            \big)^{r + x} {}_2F_1\big(r + x, b + x; a + b + x - 1; \frac{t}{\alpha + T + t}\big)
            \Big]}{1 + \delta_{x > 0} \frac{a}{b + x - 1}\big(\frac{\alpha + T}{\alpha + t_x}
            \big)^{r + x}}

        The power times 2F1 is evaluated as ``(1 - z)^(a-1) 2F1(a+b-1-r, a-1; a+b+x-1; z)``
        (Euler's transformation), which stays finite for x in the thousands.
        """
        self._check_fitted()
        x, tx, T = self._arrays(frame, self._columns)
        values = self._expected_purchases(float(t), x, tx, T, new=False)
        return self._series(values, frame, "expected_purchases")

    def _expected_purchases(self, t, x, tx, T, *, new):
        a = self.params_["a"]
        if abs(a - 1.0) < 1e-7:
            # a = 1 is a removable singularity of the closed form: average both sides of it.
            eps = 1e-5
            up = self._expected_purchases_at(t, x, tx, T, new=new, a=1.0 + eps)
            down = self._expected_purchases_at(t, x, tx, T, new=new, a=1.0 - eps)
            return (up + down) / 2.0
        return self._expected_purchases_at(t, x, tx, T, new=new, a=a)

    def _expected_purchases_at(self, t, x, tx, T, *, new, a):
        r, alpha, b = self.params_["r"], self.params_["alpha"], self.params_["b"]
        x = np.asarray(x, dtype=float)
        T = np.asarray(T, dtype=float)
        t = np.asarray(t, dtype=float)
        if new:
            log1mz = np.log(alpha) - np.log(alpha + t)
            z = t / (alpha + t)
            c = a + b - 1.0
        else:
            log1mz = np.log(alpha + T) - np.log(alpha + T + t)
            z = t / (alpha + T + t)
            c = a + b + x - 1.0
        h = np.exp((a - 1.0) * log1mz) * _hyp2f1(a + b - 1.0 - r, a - 1.0, c, z)
        value = c / (a - 1.0) * (1.0 - h)
        if new:
            return value
        return value * expit(-self._log_odds_dead(x, np.asarray(tx, dtype=float), T))
