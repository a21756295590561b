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

**Hessian.** The second derivatives of ``S`` in ``C``, in ``B`` and ``C`` together and in ``z``
are six more series with the same terms (:func:`_coefficients`), summed in the same Horner
pass; for ``z > 0.6``, ``d2S/dz2`` is a multiple of SciPy's ``2F1(3, B + 2; C + 2; z)`` and the
others come from central differences (about 1e-7 relative: the Hessian only steers Newton's
steps and gives the standard errors; the gradient, which fixes the optimum, stays exact). Per
history, with :math:`w_1, w_2` the shares of the likelihood's two terms,
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
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy.special import digamma, expit, gammaln, hyp2f1, polygamma

from tillage.errors import ConvergenceError
from tillage.models.base import BaseModel, Data, _weighted_rows, _weighted_sum
from tillage.models.special import log1mexp

__all__ = ["ParetoNBDModel"]


#: Pairs with z above this use scipy's hyp2f1 (the series would need more than ~80 terms).
_Z_SERIES = 0.6
_EPS = 1e-17
#: Groups of pairs (same x) at least this large are summed on their own.
_BIG_GROUP = 4096
#: Pairs per block of a Horner pass over a large group.
_BLOCK = 8192
#: Distinct histories in the sample that gives large fits their starting point.
_WARM_ROWS = 50_000


def _sorted_codes(values: NDArray) -> tuple[NDArray, NDArray[np.intp]]:
    """Sorted distinct values and the index of each value among them, as ``np.unique`` with
    ``return_inverse``: by a hash table (pandas) where a strided sample shows that values
    repeat a lot (times recorded to the day: several times faster than a sort), else by a
    sort (faster where most values are distinct)."""
    sample = values[:: max(1, values.size // 4096)]
    # 10 % repeats among 4096 sampled values means fewer than ~20,000 distinct ones
    if values.size > 65536 and pd.unique(sample).size < 0.9 * sample.size:
        codes, uniques = pd.factorize(values, sort=True)
        return np.asarray(uniques), codes.astype(np.intp, copy=False)
    uniques, codes = np.unique(values, return_inverse=True)
    return uniques, codes.reshape(-1)


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
        xu, xi = _sorted_codes(x)
        tu, ti = _sorted_codes(np.concatenate([tx, T]))
        key = np.concatenate([xi, xi]).astype(np.int64) * tu.size + ti
        keys, inverse = _sorted_codes(key)
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

    @classmethod
    def collapse(cls, x, tx, T, weights) -> tuple[_Pairs, NDArray[np.float64]]:
        """The pairs of the distinct rows ``(x, t_x, T)``, and the rows' summed weights.

        Rows come out sorted by their ``(x, T)`` pair, then their ``(x, t_x)`` pair, so that
        looking up per-pair values row by row reads memory in order (a random order costs
        several times more for a million rows). Rows of weight 0 are dropped.
        """
        full = cls.build(x, tx, T)
        n_pairs = full.px.size
        row_key = full.i_T.astype(np.int64) * n_pairs + full.i_tx
        keys, inverse = _sorted_codes(row_key)
        summed = np.bincount(inverse, np.asarray(weights, dtype=float), keys.size)
        keep = summed > 0
        keys, summed = keys[keep], summed[keep]
        i_T = keys // n_pairs
        i_tx = keys % n_pairs
        used = np.zeros(n_pairs, dtype=bool)
        used[i_T] = True
        used[i_tx] = True
        if not used.all():  # pairs only in rows of weight 0
            renumber = np.cumsum(used) - 1
            i_T, i_tx = renumber[i_T], renumber[i_tx]
            group = full.group[used]
            xu_used = np.unique(group)
            regroup = np.zeros(full.xu.size, dtype=np.intp)
            regroup[xu_used] = np.arange(xu_used.size)
            group = regroup[group]
            xu = full.xu[xu_used]
            px, pt = full.px[used], full.pt[used]
        else:
            group, xu, px, pt = full.group, full.xu, full.px, full.pt
        pairs = cls(
            x=px[i_T],
            T=pt[i_T],
            xu=xu,
            xi=group[i_T],
            px=px,
            pt=pt,
            starts=np.searchsorted(group, np.arange(xu.size + 1)),
            group=group,
            i_tx=i_tx,
            i_T=i_T,
        )
        return pairs, summed


def _n_terms(zmax: float) -> int:
    """Terms of the series for a relative truncation error below 1e-17 at ``z <= zmax``
    (at most 4000)."""
    return 2 if zmax <= 0.0 else min(math.ceil(math.log(_EPS) / math.log(zmax)) + 2, 4000)


def _coefficients(B, C, p, k: int, *, hess: bool = False) -> NDArray[np.float64]:
    """Coefficients of the power series of :func:`_series`, shape ``(4, len(B), k)``, or
    ``(10, len(B), k)`` with ``hess``.

    ``S = sum rho_k z^k`` with ``rho_k = prod_{j<k} (B + j) / (C + j)``. Differentiating each
    term in the directions ``C`` (``B`` fixed) and ``BC`` (``B`` and ``C`` together), with
    ``h^C_k = sum_{j<k} 1 / (C + j)`` and ``h^{BC}_k = sum_{j<k} p / ((B + j)(C + j))``
    (``p = C - B``; all terms of one sign, no cancellation): ``dS/dC`` has coefficients
    ``-rho_k h^C_k``, ``dS/dBC`` has ``rho_k h^{BC}_k`` and ``dS/dz`` has ``(k + 1) rho_{k+1}``.
    The second derivatives follow from ``d^2 rho = rho (d^2 log rho + (d log rho)^2)`` with
    ``d^2_C log rho_k = d_C d_BC log rho_k = sum_{j<k} 1 / (C + j)^2`` and
    ``d^2_BC log rho_k = -sum_{j<k} p (B + C + 2j) / ((B + j)^2 (C + j)^2)``, in the order
    ``CC, BC BC, C BC, Cz, BC z, zz``.
    """
    B, C, p = (np.asarray(v, dtype=float).reshape(-1, 1) for v in (B, C, p))
    extra = 2 if hess else 1
    j = np.arange(k + extra - 1, dtype=float)
    bj = B + j
    cj = C + j
    rho = np.ones((B.shape[0], k + extra))
    np.cumprod(bj / cj, axis=1, out=rho[:, 1:])
    h_c = np.zeros_like(rho)
    np.cumsum(1.0 / cj, axis=1, out=h_c[:, 1:])
    h_bc = np.zeros_like(rho)
    np.cumsum(p / (bj * cj), axis=1, out=h_bc[:, 1:])
    head = rho[:, :k]
    kk = np.arange(1, k + 1, dtype=float)
    nxt = kk * rho[:, 1 : k + 1]  # (k + 1) rho_{k+1}
    first = [head, -head * h_c[:, :k], head * h_bc[:, :k], nxt]
    if not hess:
        return np.stack(first)
    h_cc = np.zeros_like(rho)
    np.cumsum(1.0 / (cj * cj), axis=1, out=h_cc[:, 1:])
    h_bb = np.zeros_like(rho)
    np.cumsum(-p * (bj + cj) / (bj * bj * cj * cj), axis=1, out=h_bb[:, 1:])
    hc, hbc, hcc = h_c[:, :k], h_bc[:, :k], h_cc[:, :k]
    second = [
        head * (hc * hc + hcc),
        head * (hbc * hbc + h_bb[:, :k]),
        head * (hcc - hc * hbc),
        -nxt * h_c[:, 1 : k + 1],
        nxt * h_bc[:, 1 : k + 1],
        kk * (kk + 1.0) * rho[:, 2 : k + 2],
    ]
    return np.stack(first + second)


def _series(
    B, C, p, z: NDArray[np.float64], group: NDArray[np.intp] | None = None, *, hess: bool = False
):
    """``S, dS/dC, dS/dBC, dS/dz`` of ``S = 2F1(1, B; C; z)`` for ``0 <= z <= 0.6``, shape
    ``(4, len(z))``; with ``hess``, also the six second derivatives (``(10, len(z))``, in the
    order of :func:`_coefficients`).

    ``p = C - B``. ``B``, ``C``, ``p`` are scalars, or arrays over groups with ``group`` giving
    each ``z`` its group. The series are summed by Horner's rule with as many terms as the
    largest ``z`` needs.
    """
    k = _n_terms(float(z.max()))
    coef = _coefficients(B, C, p, k, hess=hess)
    if group is None:  # in blocks that stay in the CPU's cache through the k Horner steps
        out = np.empty((coef.shape[0], z.size))
        for lo in range(0, z.size, _BLOCK):
            zb = z[lo : lo + _BLOCK]
            acc = np.repeat(coef[:, 0, k - 1 : k], zb.size, axis=1)
            for i in range(k - 2, -1, -1):
                acc *= zb
                acc += coef[:, 0, i : i + 1]
            out[:, lo : lo + _BLOCK] = acc
        return out
    # term-major table; each Horner step gathers its coefficients from the (small) table, in
    # blocks of pairs that keep the accumulators in the CPU's cache
    table = np.ascontiguousarray(coef.transpose(2, 0, 1))
    out = np.empty((coef.shape[0], z.size))
    for lo in range(0, z.size, _BLOCK):
        zb, gb = z[lo : lo + _BLOCK], group[lo : lo + _BLOCK]
        acc = np.take(table[k - 1], gb, axis=1)
        tmp = np.empty_like(acc)
        for i in range(k - 2, -1, -1):
            acc *= zb
            np.take(table[i], gb, axis=1, out=tmp)
            acc += tmp
        out[:, lo : lo + _BLOCK] = acc
    return out


def _scipy_terms(B, C, z, *, hess: bool = False) -> NDArray[np.float64]:
    """As :func:`_series`, by scipy's hyp2f1 (any ``0 <= z < 1``): ``dS/dz`` and ``d2S/dz2``
    in closed form, the derivatives in ``B`` and ``C`` by central differences (second ones to
    about 1e-8, enough for Newton's steps and standard errors)."""
    h = 1e-5 * C
    value = hyp2f1(1.0, B, C, z)
    c_up, c_dn = hyp2f1(1.0, B, C + h, z), hyp2f1(1.0, B, C - h, z)
    bc_up, bc_dn = hyp2f1(1.0, B + h, C + h, z), hyp2f1(1.0, B - h, C - h, z)
    d_c = (c_up - c_dn) / (2.0 * h)
    d_bc = (bc_up - bc_dn) / (2.0 * h)

    def d_z_at(b, c):
        return b / c * hyp2f1(2.0, b + 1.0, c + 1.0, z)

    d_z = d_z_at(B, C)
    if not hess:
        return np.stack([value, d_c, d_bc, d_z])
    g = 1e-4 * C

    def s_at(db, dc):
        return hyp2f1(1.0, B + db * g, C + dc * g, z)

    d_cc = (s_at(0, 1) - 2.0 * value + s_at(0, -1)) / (g * g)
    d_bcbc = (s_at(1, 1) - 2.0 * value + s_at(-1, -1)) / (g * g)
    d_cbc = (s_at(1, 2) - s_at(-1, 0) - s_at(1, 0) + s_at(-1, -2)) / (4.0 * g * g)
    d_cz = (d_z_at(B, C + h) - d_z_at(B, C - h)) / (2.0 * h)
    d_bcz = (d_z_at(B + h, C + h) - d_z_at(B - h, C - h)) / (2.0 * h)
    d_zz = B / C * 2.0 * (B + 1.0) / (C + 1.0) * hyp2f1(3.0, B + 2.0, C + 2.0, z)
    return np.stack([value, d_c, d_bc, d_z, d_cc, d_bcbc, d_cbc, d_cz, d_bcz, d_zz])


def _series_terms(r: float, s: float, above: bool, pairs: _Pairs, z, n_series: int):
    """The series of :func:`_series` (first ``n_series`` rows) at every pair."""
    x = pairs.px
    hess = n_series == 10
    terms = np.empty((n_series, x.size))
    slow = np.flatnonzero(z > _Z_SERIES)
    zs = np.minimum(z, _Z_SERIES)
    sizes = np.diff(pairs.starts)
    big = np.flatnonzero(sizes >= _BIG_GROUP)
    for g in big:  # large groups: one Horner pass each, with scalar coefficients
        lo, hi = pairs.starts[g], pairs.starts[g + 1]
        C = r + s + pairs.xu[g] + 1.0
        p = s + 1.0 if above else r + pairs.xu[g]
        terms[:, lo:hi] = _series(C - p, C, p, zs[lo:hi], hess=hess)
    small = np.flatnonzero((sizes > 0) & (sizes < _BIG_GROUP))
    if small.size:  # the other groups together, with coefficients looked up per pair
        if big.size:
            rows = np.flatnonzero(sizes[pairs.group] < _BIG_GROUP)
            local = np.full(sizes.size, -1)
            local[small] = np.arange(small.size)
            lookup = local[pairs.group[rows]]
        else:
            rows = slice(None)
            lookup = pairs.group
        Cg = r + s + pairs.xu[small] + 1.0
        pg = np.full(small.size, s + 1.0) if above else r + pairs.xu[small]
        terms[:, rows] = _series(Cg - pg, Cg, pg, zs[rows], lookup, hess=hess)
    if slow.size:
        C = r + s + x[slow] + 1.0
        p = s + 1.0 if above else r + x[slow]
        terms[:, slow] = _scipy_terms(C - p, C, z[slow], hess=hess)
        bad = ~np.isfinite(terms[:, slow]).all(axis=0)
        if bad.any():  # scipy gives NaN for very large C (thousands of purchases) and z near 1,
            # where the coefficients fall fast: sum the series itself, with up to 4000 terms.
            idx = slow[bad]
            pb = p if np.ndim(p) == 0 else p[bad]
            chunk = 64 if hess else 256
            for lo in range(0, idx.size, chunk):
                part = idx[lo : lo + chunk]
                pp = pb if np.ndim(pb) == 0 else pb[lo : lo + chunk]
                Cp = r + s + x[part] + 1.0
                terms[:, part] = _series(
                    Cp - pp,
                    Cp,
                    np.broadcast_to(pp, Cp.shape),
                    z[part],
                    np.arange(part.size),
                    hess=hess,
                )
    return terms


def _log_f(r: float, alpha: float, s: float, beta: float, pairs: _Pairs, *, order: int):
    """log F_x(t) at every pair, its gradient in (r, alpha, s, beta) (``4 x pairs``, if
    ``order >= 1``), its Hessian (``4 x 4 x pairs``, if ``order == 2``), and log(alpha + t),
    log(beta + t) per pair."""
    x, t = pairs.px, pairs.pt
    log_at = np.log(alpha + t)
    log_bt = np.log(beta + t)
    c = r + s + x
    above = alpha >= beta
    m = alpha if above else beta
    z = abs(alpha - beta) / (m + t)
    terms = _series_terms(r, s, above, pairs, z, 10 if order == 2 else 4)
    S = terms[0]
    # F = (alpha + t)^-P (beta + t)^-Q S / c: P = r + x, Q = s if alpha >= beta, else
    # P = r + x - 1, Q = s + 1
    P = r + x if above else r + x - 1.0
    Q = s if above else s + 1.0
    lf = np.log(S) - np.log(c) - P * log_at - Q * log_bt
    if order == 0:
        return lf, None, None, log_at, log_bt
    inv_s = 1.0 / S
    d_c, d_bc, d_z = terms[1] * inv_s, terms[2] * inv_s, terms[3] * inv_s
    # directions of r and s in (B, C): above, B = r + x and C = r + s + x + 1, so r moves B
    # and C together and s moves C alone; below, B = s + 1: the other way round
    d_r, d_s = (d_bc, d_c) if above else (d_c, d_bc)
    inv_c = 1.0 / c
    inv_at = 1.0 / (alpha + t)
    inv_bt = 1.0 / (beta + t)
    if above:  # z = (alpha - beta) / (alpha + t)
        z_a = (beta + t) * inv_at * inv_at
        z_b = -inv_at
    else:  # z = (beta - alpha) / (beta + t)
        z_a = -inv_bt
        z_b = (alpha + t) * inv_bt * inv_bt
    dlf = np.empty((4, x.size))
    dlf[0] = d_r - inv_c - log_at
    dlf[1] = d_z * z_a - P * inv_at
    dlf[2] = d_s - inv_c - log_bt
    dlf[3] = d_z * z_b - Q * inv_bt
    if order == 1:
        return lf, dlf, None, log_at, log_bt
    # second derivatives of log S: S_ij / S - (log S)_i (log S)_j
    d_cc = terms[4] * inv_s - d_c * d_c
    d_bcbc = terms[5] * inv_s - d_bc * d_bc
    d_cbc = terms[6] * inv_s - d_c * d_bc
    d_cz = terms[7] * inv_s - d_c * d_z
    d_bcz = terms[8] * inv_s - d_bc * d_z
    d_zz = terms[9] * inv_s - d_z * d_z
    d_rr, d_ss, d_rz, d_sz = (d_bcbc, d_cc, d_bcz, d_cz) if above else (d_cc, d_bcbc, d_cz, d_bcz)
    if above:
        z_aa = -2.0 * (beta + t) * inv_at * inv_at * inv_at
        z_ab = inv_at * inv_at
        z_bb = 0.0
    else:
        z_aa = 0.0
        z_ab = inv_bt * inv_bt
        z_bb = -2.0 * (alpha + t) * inv_bt * inv_bt * inv_bt
    inv_c2 = inv_c * inv_c
    h = np.empty((4, 4, x.size))
    h[0, 0] = d_rr + inv_c2
    h[0, 1] = d_rz * z_a - inv_at
    h[0, 2] = d_cbc + inv_c2
    h[0, 3] = d_rz * z_b
    h[1, 1] = d_zz * z_a * z_a + d_z * z_aa + P * inv_at * inv_at
    h[1, 2] = d_sz * z_a
    h[1, 3] = d_zz * z_a * z_b + d_z * z_ab
    h[2, 2] = d_ss + inv_c2
    h[2, 3] = d_sz * z_b - inv_bt
    h[3, 3] = d_zz * z_b * z_b + d_z * z_bb + Q * inv_bt * inv_bt
    for i, j in ((1, 0), (2, 0), (3, 0), (2, 1), (3, 1), (3, 2)):
        h[i, j] = h[j, i]
    return lf, dlf, h, log_at, log_bt


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
    _newton: ClassVar[bool] = True

    def _initial_guess(self, data: Data, weights: NDArray[np.float64]) -> NDArray[np.float64]:
        """``r = s = 1``, ``alpha = beta =`` the mean ``T``; with more than
        ``4 * _WARM_ROWS`` distinct histories, the estimate on every k-th of them instead (a
        systematic sample across x and T, as the rows are sorted by pair; weights kept), so
        that only the last two or three of Newton's iterations run on all the histories."""
        mean_t = _weighted_sum(data["T"], weights) / float(weights.sum())
        guess = np.array([1.0, max(mean_t, 1e-3), 1.0, max(mean_t, 1e-3)])
        if weights.size <= 4 * _WARM_ROWS or self.initial_params:
            return guess
        rows = np.arange(0, weights.size, weights.size // _WARM_ROWS)
        sample = pd.DataFrame({c: data[c][rows] for c in self._columns}).assign(
            weight=weights[rows]
        )
        try:
            warm = type(self)(**self.get_params()).fit(sample)
        except ConvergenceError:
            return guess
        return np.array([warm.params_[name] for name in self._param_names])

    def _collapse(self, frame: pd.DataFrame) -> tuple[Data, NDArray[np.float64]]:
        """Distinct rows with summed weights, and their ``(x, t)`` pairs (NumPy sorts: faster
        than a pandas group-by, and the pairs come with them)."""
        x, tx, T = (np.asarray(frame[c], dtype=float) for c in self._columns)
        weights = np.ones(x.size)
        if "weight" in frame.columns:
            weights = np.asarray(frame["weight"], dtype=float)
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
        hess[0, 0] += _weighted_sum(polygamma(1, r + pairs.xu), w_x) - total * float(
            polygamma(1, r)
        )
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
