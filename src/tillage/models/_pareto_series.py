r"""The tail integral :math:`F_x` of the Pareto/NBD likelihood, with its derivatives, at every
distinct ``(x, t)`` pair of a data set (private to :mod:`tillage.models.pareto_nbd`).

Writing the likelihood's second term (see :mod:`tillage.models.pareto_nbd`) as an integral over
the time of death,

.. math::

    \frac{s}{r + s + x} A_0 = s \int_{t_x}^{T} (\alpha + \tau)^{-(r + x)}
        (\beta + \tau)^{-(s + 1)}\, d\tau = s\,[F_x(t_x) - F_x(T)],

    F_x(t) = \int_t^\infty (\alpha + \tau)^{-(r + x)} (\beta + \tau)^{-(s + 1)}\, d\tau
           = \frac{(m + t)^{-c}}{c}\, (1 - z)^{1 - u}\, S,\qquad
    S = {}_2F_1(1, B; C; z),

with ``c = r + s + x``, ``m = max(alpha, beta)``, ``z = |alpha - beta| / (m + t)``,
``u = s + 1`` when ``alpha >= beta`` and ``u = r + x`` otherwise, ``C = c + 1`` and
``B = C - u`` (Euler's transformation of the likelihood's 2F1). :math:`F_x` depends on a history
only through ``x`` and one time, so it is evaluated once per distinct ``(x, t)`` pair
(:class:`_Pairs`) over ``t`` in the recencies and the observation lengths (a few thousand pairs
for a million customers recorded to the day).

**Series.** :math:`S = \sum_k \rho_k z^k`, :math:`\rho_k = \prod_{j<k} (B + j)/(C + j)`, has
coefficients that depend on ``x`` only (:func:`_coefficients`); differentiating it term by term
gives :math:`\partial S/\partial B`, :math:`\partial S/\partial C` and :math:`\partial S/\partial
z` as three more polynomials in ``z`` with the same terms, and the second derivatives in ``C``,
in ``B`` and ``C`` together and in ``z`` six more, all summed together with ``S`` by Horner's
rule (:func:`_series`, for ``z <= 0.6``). The few pairs with larger ``z`` use
:func:`scipy.special.hyp2f1` with central differences in ``B`` and ``C``
(:func:`_scipy_terms`; about 1e-7 relative for the second derivatives, which only steer
Newton's steps and give the standard errors), or the series with up to 4000 terms where SciPy
returns NaN, as it does for thousands of purchases. :func:`_log_f` applies the chain rule
through ``B``, ``C``, ``z`` and ``m``: the exact gradient of :math:`\log F_x` in
``(r, alpha, s, beta)`` and its Hessian, at about the cost of evaluating :math:`F_x` itself.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy.special import hyp2f1

#: Pairs with z above this use scipy's hyp2f1 (the series would need more than ~80 terms).
_Z_SERIES = 0.6
_EPS = 1e-17
#: Groups of pairs (same x) at least this large are summed on their own.
_BIG_GROUP = 4096
#: Pairs per block of a Horner pass over a large group.
_BLOCK = 8192
#: Pairs times terms up to which the series are summed as matrix products (no Horner loop).
_SMALL_TABLE = 100_000
#: Pairs per product there (10 x 80 x 256 multiplications at most: OpenBLAS's single-thread
#: range, since waking its threads costs more than the work on a busy machine).
_RUN = 256


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


def _coefficients(
    B, C, p, k: int, *, hess: bool = False, value_only: bool = False
) -> NDArray[np.float64]:
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
    if value_only:  # S alone (a likelihood without derivatives): shape (1, len(B), k)
        return rho[None, :, :k]
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
    B,
    C,
    p,
    z: NDArray[np.float64],
    group: NDArray[np.intp] | None = None,
    *,
    hess: bool = False,
    value_only: bool = False,
):
    """``S, dS/dC, dS/dBC, dS/dz`` of ``S = 2F1(1, B; C; z)`` for ``0 <= z <= 0.6``, shape
    ``(4, len(z))``; with ``hess``, also the six second derivatives (``(10, len(z))``, in the
    order of :func:`_coefficients`); with ``value_only``, ``S`` alone (``(1, len(z))``).

    ``p = C - B``. ``B``, ``C``, ``p`` are scalars, or arrays over groups with ``group`` giving
    each ``z`` its group. The series are summed by Horner's rule with as many terms as the
    largest ``z`` needs.
    """
    k = _n_terms(float(z.max()))
    coef = _coefficients(B, C, p, k, hess=hess, value_only=value_only)
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
    if z.size * k <= _SMALL_TABLE:  # few pairs: one product of each group's coefficients
        # with the powers of its z (groups are runs of pairs), instead of k gathers
        powers = np.empty((k, z.size))
        powers[0] = 1.0
        for i in range(1, k):
            np.multiply(powers[i - 1], z, out=powers[i])
        out = np.empty((coef.shape[0], z.size))
        runs = np.flatnonzero(np.diff(group)) + 1
        for lo, hi in zip([0, *runs.tolist()], [*runs.tolist(), z.size], strict=True):
            for a in range(lo, hi, _RUN):  # products small enough for one BLAS thread
                b = min(a + _RUN, hi)
                out[:, a:b] = coef[:, group[lo], :] @ powers[:, a:b]
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
    one = n_series == 1  # the value alone
    terms = np.empty((n_series, x.size))
    slow = np.flatnonzero(z > _Z_SERIES)
    zs = np.minimum(z, _Z_SERIES)
    sizes = np.diff(pairs.starts)
    big = np.flatnonzero(sizes >= _BIG_GROUP)
    for g in big:  # large groups: one Horner pass each, with scalar coefficients
        lo, hi = pairs.starts[g], pairs.starts[g + 1]
        C = r + s + pairs.xu[g] + 1.0
        p = s + 1.0 if above else r + pairs.xu[g]
        terms[:, lo:hi] = _series(C - p, C, p, zs[lo:hi], hess=hess, value_only=one)
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
        terms[:, rows] = _series(Cg - pg, Cg, pg, zs[rows], lookup, hess=hess, value_only=one)
    if slow.size:
        C = r + s + x[slow] + 1.0
        p = s + 1.0 if above else r + x[slow]
        terms[:, slow] = _scipy_terms(C - p, C, z[slow], hess=hess)[:n_series]
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
                    value_only=one,
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
    terms = _series_terms(r, s, above, pairs, z, (1, 4, 10)[order])
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
