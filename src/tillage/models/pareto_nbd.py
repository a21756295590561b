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
Each term is computed in log space after Euler's transformation (below), and the difference
through ``log(exp(p) - exp(q))``; nothing overflows for thousands of purchases or long histories.

**Gradient.** Writing the second term as an integral over the time of death,

.. math::

    \frac{s}{r + s + x} A_0 = s \int_{t_x}^{T} (\alpha + \tau)^{-(r + x)}
        (\beta + \tau)^{-(s + 1)}\, d\tau = s\,[F_x(t_x) - F_x(T)],

    F_x(t) = \int_t^\infty (\alpha + \tau)^{-(r + x)} (\beta + \tau)^{-(s + 1)}\, d\tau
           = \frac{(m + t)^{-c}}{c}\, (1 - z)^{1 - u}\, S,\qquad
    S = {}_2F_1(1, B; C; z),

with ``c = r + s + x``, ``z = |alpha - beta| / (m + t)``, ``C = c + 1`` and ``B = C - u``
(Euler's transformation of the 2F1 above). :math:`F_x` depends on a history only through ``x``
and one time, so it is evaluated once per distinct ``(x, t)`` pair over ``t`` in the recencies and
the observation lengths (a few thousand pairs for a million customers recorded to the day). The
series :math:`S = \sum_k \rho_k z^k`, :math:`\rho_k = \prod_{j<k} (B + j)/(C + j)`, has
coefficients that depend on ``x`` only; differentiating it term by term gives
:math:`\partial S/\partial B`, :math:`\partial S/\partial C` and :math:`\partial S/\partial z` as
three more polynomials in ``z`` with the same terms, summed together with ``S`` by Horner's rule
(for ``z <= 0.6``; the few pairs with larger ``z`` use :func:`scipy.special.hyp2f1` and central
differences in ``B`` and ``C``, or the series with up to 4000 terms where SciPy returns NaN,
as it does for thousands of purchases). The chain rule through ``B``, ``C``, ``z`` and ``m``
then gives the exact gradient of the log-likelihood, at about the cost of one likelihood
evaluation. P(alive) uses the same :math:`F_x`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy.special import digamma, expit, gammaln, hyp2f1

from tillage.models.base import BaseModel, Data
from tillage.models.special import log1mexp

__all__ = ["ParetoNBDModel"]


#: Pairs with z above this use scipy's hyp2f1 (the series would need more than ~80 terms).
_Z_SERIES = 0.6
_EPS = 1e-17
#: Groups of pairs (same x) at least this large are summed on their own.
_BIG_GROUP = 4096


@dataclass(frozen=True)
class _Pairs:
    """The distinct ``(x, t)`` pairs of a data set, grouped by ``x``, and the rows' indices."""

    x: NDArray[np.float64]  # per row
    T: NDArray[np.float64]  # per row
    xu: NDArray[np.float64]  # distinct x
    xi: NDArray[np.intp]  # row -> distinct x
    px: NDArray[np.float64]  # per pair: x
    pt: NDArray[np.float64]  # per pair: t
    starts: NDArray[np.intp]  # pairs of xu[g] are starts[g]:starts[g + 1]
    group: NDArray[np.intp]  # pair -> distinct x
    i_tx: NDArray[np.intp]  # row -> pair (x, t_x)
    i_T: NDArray[np.intp]  # row -> pair (x, T)

    @classmethod
    def build(cls, x, tx, T) -> _Pairs:
        x = np.asarray(x, dtype=float)
        tx = np.asarray(tx, dtype=float)
        T = np.asarray(T, dtype=float)
        xu, xi = np.unique(x, return_inverse=True)
        xi = xi.reshape(-1)
        tu, ti = np.unique(np.concatenate([tx, T]), return_inverse=True)
        key = np.concatenate([xi, xi]).astype(np.int64) * tu.size + ti.reshape(-1)
        keys, inverse = np.unique(key, return_inverse=True)
        inverse = inverse.reshape(-1)
        pg = keys // tu.size
        return cls(
            x=x,
            T=T,
            xu=xu,
            xi=xi,
            px=xu[pg],
            pt=tu[keys % tu.size],
            starts=np.searchsorted(pg, np.arange(xu.size + 1)),
            group=pg,
            i_tx=inverse[: x.size],
            i_T=inverse[x.size :],
        )


def _n_terms(zmax: float) -> int:
    """Terms of the series for a relative truncation error below 1e-17 at ``z <= zmax``
    (at most 4000)."""
    return 2 if zmax <= 0.0 else min(math.ceil(math.log(_EPS) / math.log(zmax)) + 2, 4000)


def _coefficients(B, C, p, k: int) -> NDArray[np.float64]:
    """Coefficients of the four power series of :func:`_series`, shape ``(4, len(B), k)``.

    ``S = sum rho_k z^k`` with ``rho_k = prod_{j<k} (B + j) / (C + j)``; differentiating each
    term, ``dS/dC`` has coefficients ``-rho_k sum_{j<k} 1 / (C + j)``, ``dS/dB + dS/dC`` has
    ``rho_k sum_{j<k} p / ((B + j)(C + j))`` (``p = C - B``; all terms of one sign, no
    cancellation) and ``dS/dz`` has ``(k + 1) rho_{k+1}``.
    """
    B, C, p = (np.asarray(v, dtype=float).reshape(-1, 1) for v in (B, C, p))
    j = np.arange(k, dtype=float)
    rho = np.ones((B.shape[0], k + 1))
    np.cumprod((B + j) / (C + j), axis=1, out=rho[:, 1:])
    h_c = np.zeros_like(rho)
    np.cumsum(1.0 / (C + j), axis=1, out=h_c[:, 1:])
    h_bc = np.zeros_like(rho)
    np.cumsum(p / ((B + j) * (C + j)), axis=1, out=h_bc[:, 1:])
    head = rho[:, :k]
    return np.stack([head, -head * h_c[:, :k], head * h_bc[:, :k], (j + 1.0) * rho[:, 1:]])


def _series(B, C, p, z: NDArray[np.float64], group: NDArray[np.intp] | None = None):
    """``S, dS/dC, dS/dB + dS/dC, dS/dz`` of ``S = 2F1(1, B; C; z)`` for ``0 <= z <= 0.6``,
    shape ``(4, len(z))``.

    ``p = C - B``. ``B``, ``C``, ``p`` are scalars, or arrays over groups with ``group`` giving
    each ``z`` its group. The four series are summed by Horner's rule with as many terms as
    the largest ``z`` needs.
    """
    k = _n_terms(float(z.max()))
    coef = _coefficients(B, C, p, k)
    if group is None:
        acc = np.repeat(coef[:, 0, k - 1 : k], z.size, axis=1)
        for i in range(k - 2, -1, -1):
            acc *= z
            acc += coef[:, 0, i : i + 1]
        return acc
    acc = coef[:, group, k - 1]
    for i in range(k - 2, -1, -1):
        acc *= z
        acc += coef[:, group, i]
    return acc


def _scipy_terms(B, C, z) -> NDArray[np.float64]:
    """As :func:`_series`, by scipy's hyp2f1 and central differences (any ``0 <= z < 1``)."""
    h = 1e-5 * C
    value = hyp2f1(1.0, B, C, z)
    d_c = (hyp2f1(1.0, B, C + h, z) - hyp2f1(1.0, B, C - h, z)) / (2.0 * h)
    d_bc = (hyp2f1(1.0, B + h, C + h, z) - hyp2f1(1.0, B - h, C - h, z)) / (2.0 * h)
    d_z = B / C * hyp2f1(2.0, B + 1.0, C + 1.0, z)
    return np.stack([value, d_c, d_bc, d_z])


def _log_f(r: float, alpha: float, s: float, beta: float, pairs: _Pairs, *, grad: bool):
    """log F_x(t) at every pair, its gradient in (r, alpha, s, beta) (4 x pairs, or None), and
    log(alpha + t), log(beta + t) per pair."""
    x, t = pairs.px, pairs.pt
    log_at = np.log(alpha + t)
    log_bt = np.log(beta + t)
    c = r + s + x
    above = alpha >= beta
    m = alpha if above else beta
    z = abs(alpha - beta) / (m + t)
    terms = np.empty((4, x.size))
    slow = np.flatnonzero(z > _Z_SERIES)
    zs = np.minimum(z, _Z_SERIES)
    sizes = np.diff(pairs.starts)
    big = np.flatnonzero(sizes >= _BIG_GROUP)
    for g in big:  # large groups: one Horner pass each, with scalar coefficients
        lo, hi = pairs.starts[g], pairs.starts[g + 1]
        C = r + s + pairs.xu[g] + 1.0
        p = s + 1.0 if above else r + pairs.xu[g]
        terms[:, lo:hi] = _series(C - p, C, p, zs[lo:hi])
    small = np.flatnonzero((sizes > 0) & (sizes < _BIG_GROUP))
    if small.size:  # the other groups together, with coefficients looked up per pair
        rows = np.flatnonzero(sizes[pairs.group] < _BIG_GROUP)
        local = np.full(sizes.size, -1)
        local[small] = np.arange(small.size)
        Cg = r + s + pairs.xu[small] + 1.0
        pg = np.full(small.size, s + 1.0) if above else r + pairs.xu[small]
        terms[:, rows] = _series(Cg - pg, Cg, pg, zs[rows], local[pairs.group[rows]])
    if slow.size:
        C = c[slow] + 1.0
        p = s + 1.0 if above else r + x[slow]
        terms[:, slow] = _scipy_terms(C - p, C, z[slow])
        bad = ~np.isfinite(terms[:, slow]).all(axis=0)
        if bad.any():  # scipy gives NaN for very large C (thousands of purchases) and z near 1,
            # where the coefficients fall fast: sum the series itself, with up to 4000 terms.
            idx = slow[bad]
            pb = p if np.ndim(p) == 0 else p[bad]
            for lo in range(0, idx.size, 256):
                part = idx[lo : lo + 256]
                pp = pb if np.ndim(pb) == 0 else pb[lo : lo + 256]
                Cp = c[part] + 1.0
                terms[:, part] = _series(
                    Cp - pp, Cp, np.broadcast_to(pp, Cp.shape), z[part], np.arange(part.size)
                )
    S = terms[0]
    if above:  # F = (alpha + t)^-(r + x) (beta + t)^-s S / c
        lf = np.log(S) - np.log(c) - (r + x) * log_at - s * log_bt
    else:  # F = (alpha + t)^-(r + x - 1) (beta + t)^-(s + 1) S / c
        lf = np.log(S) - np.log(c) - (r + x - 1.0) * log_at - (s + 1.0) * log_bt
    if not grad:
        return lf, None, log_at, log_bt
    d_c, d_bc, d_z = terms[1] / S, terms[2] / S, terms[3] / S
    inv_c = 1.0 / c
    inv_at = 1.0 / (alpha + t)
    inv_bt = 1.0 / (beta + t)
    dlf = np.empty((4, x.size))
    if above:  # B = r + x, C = r + s + x + 1, z = (alpha - beta) / (alpha + t)
        dlf[0] = d_bc - inv_c - log_at
        dlf[1] = (d_z * (beta + t) * inv_at - (r + x)) * inv_at
        dlf[2] = d_c - inv_c - log_bt
        dlf[3] = -s * inv_bt - d_z * inv_at
    else:  # B = s + 1, C = r + s + x + 1, z = (beta - alpha) / (beta + t)
        dlf[0] = d_c - inv_c - log_at
        dlf[1] = -(r + x - 1.0) * inv_at - d_z * inv_bt
        dlf[2] = d_bc - inv_c - log_bt
        dlf[3] = (d_z * (alpha + t) * inv_bt - (s + 1.0)) * inv_bt
    return lf, dlf, log_at, log_bt


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

    def _initial_guess(self, data: Data, weights: NDArray[np.float64]) -> NDArray[np.float64]:
        mean_t = float(np.dot(weights, data["T"]) / weights.sum())
        return np.array([1.0, max(mean_t, 1e-3), 1.0, max(mean_t, 1e-3)])

    def _prepare(self, data: Data) -> Data:
        return {**data, "_pairs": _Pairs.build(data["frequency"], data["recency"], data["T"])}

    def _loglik(self, params, data, *, grad):
        r, alpha, s, beta = (float(p) for p in params)
        pairs = data.get("_pairs")
        if pairs is None:
            pairs = _Pairs.build(data["frequency"], data["recency"], data["T"])
        x, xi = pairs.x, pairs.xi
        lf, dlf, log_at, log_bt = _log_f(r, alpha, s, beta, pairs, grad=grad)
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
            lf, _, log_at, log_bt = _log_f(r, alpha, s, beta, pairs, grad=False)
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
