r"""Repeat orders of an account: BG/NBD purchase paths and Gamma-Gamma spend per order.

BG/NBD (Fader, Hardie & Lee 2005; parameters ``r, alpha, a, b``), for an account with
``x`` repeat purchases, the last at ``t_x``, observed for ``T`` periods: given alive,
``λ | x ~ Gamma(r + x, α + T)`` and ``p | x ~ Beta(a, b + x)``, independent. After ``s`` more
periods

.. math::

   S^o(s) = P(\text{alive})\, E_p\big[(1 + p s/(α + T))^{-(r + x)}\big], \qquad
   C(s) = P(\text{alive})\, E_p\big[(1 - (1 + p s/(α + T))^{-(r + x)}) / p\big]

(``C`` the expected purchases: the integral of ``λ e^{-λ p u}``), both by Gauss–Jacobi
quadrature over ``p``. The nodes of ``Beta(a₀, b₀ + x)`` at the point estimate are cached and
reweighted by the density ratio for the bootstrap draws' ``(a, b)``. ``P(a purchase within s) =
P(alive) (1 - (1 + s/(α + T))^{-(r + x)})`` (dropout within the window is ignored: an upper
bound that is tight for short windows). Spend per order: the Gamma-Gamma conditional mean
:math:`E[Z] = p (v + x \bar z) / (p x + q - 1)` (``p, q, v``).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy.special import expit, roots_genlaguerre, roots_jacobi

from tillage.errors import BoundaryWarning, ConvergenceError
from tillage.models.beta_geo import BetaGeoModel
from tillage.models.gamma_gamma import GammaGammaModel
from tillage.models.ltv._columns import DAYS_PER_MONTH, column

__all__ = [
    "SPEND_PENALIZERS",
    "BetaNodes",
    "OrderInputs",
    "OrderPaths",
    "expected_spend",
    "fit_orders",
    "fit_purchases",
    "fit_spend",
    "no_dropout_edge",
    "order_inputs",
    "order_paths",
]

NODES = 16
#: Accounts evaluated at once (bounds the memory of the node × month arrays of a draw).
CHUNK_ROWS = 4096


class BetaNodes:
    """Gauss–Jacobi nodes and log-weights of ``p ~ Beta(a0, b0 + x)``, cached per ``x``."""

    def __init__(self, a0: float, b0: float, nodes: int = NODES) -> None:
        self.a0, self.b0, self.nodes = a0, b0, nodes
        self._cache: dict[float, tuple[NDArray[np.float64], NDArray[np.float64]]] = {}

    def __call__(self, x: float) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        if x not in self._cache:
            if self.b0 + x < 500:
                z, w = roots_jacobi(self.nodes, self.b0 + x - 1.0, self.a0 - 1.0)
                p = (1.0 + z) / 2.0
            else:  # Beta(a, B) with B large is Gamma(a, rate B) to O(1/B): Gauss-Laguerre
                y, w = roots_genlaguerre(self.nodes, self.a0 - 1.0)
                p = y / (self.b0 + x)
            p = np.clip(p, 1e-300, 1.0 - 1e-16)
            with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
                log_w = np.log(np.clip(w, 1e-300, None)) - np.log(w.sum())
            if not (np.all(np.isfinite(log_w)) and np.all(np.isfinite(p))):
                # a0 at the no-drop-out edge (a → 0, :func:`no_dropout_edge`): the quadrature's
                # weights overflow, and Beta(a0, b0 + x) is a point mass at its mean a0/(a0+b0+x)
                # to O(a0); every node sits there with an equal weight.
                p = np.full(self.nodes, self.a0 / (self.a0 + self.b0 + x))
                log_w = np.full(self.nodes, -np.log(self.nodes))
            self._cache[x] = (p, log_w)
        return self._cache[x]


@dataclass
class OrderPaths:
    """Per account and month ``t = 1 … H``: ``cumulative`` expected orders C(t) and ``alive``
    S^o(t); per account ``alive_now`` (P(alive) at the as-of date, 0 for non-buyers) and
    ``p_buy`` (P(an order within the horizon), NaN for non-buyers)."""

    cumulative: NDArray[np.float64]
    alive: NDArray[np.float64]
    alive_now: NDArray[np.float64]
    p_buy: NDArray[np.float64]


@dataclass
class OrderInputs:
    """What :func:`order_paths` reads from the frame, prepared once for many parameter draws:
    the buyers (rows ``ok``), their ``x``, ``t_x``, ``T`` and the quadrature nodes over ``p``
    of the point estimate's ``Beta(a0, b0 + x)`` (``p``, ``log_w``)."""

    n: int
    s: NDArray[np.float64]  # the months in periods
    ok: NDArray[np.int64]
    x: NDArray[np.float64]
    tx: NDArray[np.float64]
    big_t: NDArray[np.float64]
    p: NDArray[np.float64]
    log_w: NDArray[np.float64]
    nodes: BetaNodes | None
    #: buyers with the same ``x`` and ``T`` have the same paths (before P(alive), which reads
    #: ``t_x``): the first buyer of each pair (``unique``) and each buyer's pair (``inverse``)
    unique: NDArray[np.int64]
    inverse: NDArray[np.int64]


def order_inputs(
    frame: pd.DataFrame, nodes: BetaNodes | None, *, horizon_months: int, period_days: float
) -> OrderInputs:
    """What :func:`order_paths` needs of every row of ``frame`` (columns ``frequency``,
    ``recency``, ``T`` in periods of ``period_days`` days), prepared once for the point
    estimate and every bootstrap draw; ``nodes`` those of the fitted BG/NBD. ``T = 0`` (the first
    purchase on the as-of day) is a valid history: alive, with the new customer's forecast."""
    months = np.arange(1, int(horizon_months) + 1, dtype=float)
    x_all = column(frame, "frequency", np.nan)
    tx_all = column(frame, "recency", np.nan)
    t_all = column(frame, "T", np.nan)
    ok = np.flatnonzero(np.isfinite(x_all) & np.isfinite(tx_all) & (t_all >= 0))
    if nodes is None:
        ok = ok[:0]
    x = x_all[ok]
    values, inverse = np.unique(x, return_inverse=True)
    cached = [nodes(float(v)) for v in values] if nodes is not None else []
    empty = np.zeros((0, NODES))
    p = np.stack([node[0] for node in cached])[inverse] if cached else empty
    log_w = np.stack([node[1] for node in cached])[inverse] if cached else empty
    s = months * DAYS_PER_MONTH / period_days  # periods
    big_t = t_all[ok]
    pairs = np.column_stack([x, big_t]).reshape(len(ok), 2)
    _, unique, pair = np.unique(pairs, axis=0, return_index=True, return_inverse=True)
    return OrderInputs(
        len(frame), s, ok, x, tx_all[ok], big_t, p, log_w, nodes, unique, pair.reshape(-1)
    )


def order_paths(inputs: OrderInputs, params: NDArray[np.float64] | None) -> OrderPaths:
    """The order piece for every row of the frame of ``inputs``; ``params`` = ``(r, alpha, a,
    b)`` of BG/NBD (the fitted ones or a bootstrap draw)."""
    n, s, ok = inputs.n, inputs.s, inputs.ok
    out = OrderPaths(np.zeros((n, len(s))), np.zeros((n, len(s))), np.zeros(n), np.full(n, np.nan))
    if params is None or inputs.nodes is None or not len(ok):
        return out
    r, alpha, a, b = map(float, params)
    x, tx, big_t, p, nodes = inputs.x, inputs.tx, inputs.big_t, inputs.p, inputs.nodes
    pos = x > 0
    bx1 = np.where(pos, b + x - 1.0, 1.0)
    log_odds = np.log(a) - np.log(bx1) + (r + x) * (np.log(alpha + big_t) - np.log(alpha + tx))
    p_alive = np.where(pos, expit(-log_odds), 1.0)
    # the paths of each distinct (x, T) once: the (buyers, nodes, months) arrays below are
    # most of a bootstrap draw's work, and many buyers share their x and T
    u = inputs.unique
    xu, tu, pu = x[u], big_t[u], p[u]
    # nodes of the point estimate's Beta(a0, b0 + x), reweighted to Beta(a, b + x)
    log_w = inputs.log_w[u] + (a - nodes.a0) * np.log(pu) + (b - nodes.b0) * np.log1p(-pu)
    w = np.exp(log_w - log_w.max(axis=1, keepdims=True))
    w = w / w.sum(axis=1, keepdims=True)
    surv, cum = np.empty((len(u), len(s))), np.empty((len(u), len(s)))
    for rows in np.split(np.arange(len(u)), range(CHUNK_ROWS, len(u), CHUNK_ROWS)):
        # stay - 1 = expm1(-(r + x) log1p(p s / (alpha + T))), exact also where it is tiny,
        # computed in place on one (rows, nodes, months) array
        lost = (pu[rows] / (alpha + tu[rows])[:, None])[:, :, None] * s[None, None, :]
        np.log1p(lost, out=lost)
        lost *= -(r + xu[rows])[:, None, None]
        np.expm1(lost, out=lost)
        # the weights sum to 1: sum w stay = 1 + sum w (stay - 1)
        surv[rows] = 1.0 + np.einsum("ij,ijk->ik", w[rows], lost)
        # (1 - stay) / p, whose limit is (r + x) s / (alpha + T) as p -> 0
        cum[rows] = -np.einsum("ij,ijk->ik", w[rows] / pu[rows], lost)
    surv, cum = surv[inputs.inverse], cum[inputs.inverse]
    out.cumulative[ok] = cum * p_alive[:, None]
    out.alive[ok] = surv * p_alive[:, None]
    out.alive_now[ok] = p_alive
    out.p_buy[ok] = p_alive * -np.expm1(-(r + x) * np.log1p(s[-1] / (alpha + big_t)))
    return out


def expected_spend(frame: pd.DataFrame, params: NDArray[np.float64] | None) -> NDArray:
    """Expected value of an order per account (currency / order): Gamma-Gamma's conditional
    mean, or without a spend model the account's own mean (the repeat buyers' mean for the
    others). Never negative: an account whose repeat orders are net negative (returns exceeding
    them) gets 0 a future order — its returns are not a forecast of negative purchases."""
    x = column(frame, "frequency", 0.0)
    m = column(frame, "monetary_value", 0.0)
    if params is None:
        fallback = float(np.mean(m[x > 0])) if (x > 0).any() else 0.0
        return np.clip(np.where(x > 0, m, fallback), 0.0, None)
    p, q, v = map(float, params)
    if q <= 1.0:
        return np.clip(np.where(x > 0, m, 0.0), 0.0, None)
    denominator = p * x + q - 1.0
    return np.clip(p * (v + x * m) / np.where(denominator > 0, denominator, 1.0), 0.0, None)


#: L2 penalties tried, in order, when the plain Gamma-Gamma fit has no proper maximum.
SPEND_PENALIZERS = (1e-4, 1e-3)


def fit_spend(repeat: pd.DataFrame) -> GammaGammaModel:
    """The Gamma-Gamma spend model of the repeat buyers (``frequency``, ``monetary_value``).

    The shape ``p`` of one transaction's spend is weakly identified (its standard error is often
    as large as the estimate): when the buyers' spends vary little around their own means the
    likelihood keeps rising as ``p`` → ∞ (and ``v`` → 0), and the plain fit stops with a
    :class:`~tillage.errors.ConvergenceError`. Such a sample still says plenty about the mean
    spend, so instead of giving up on the account values the fit falls back to the smallest
    penalty of :data:`SPEND_PENALIZERS` that gives a proper maximum (1e-4 on the 600-account
    demo of seed 5: p = 4.2, where other seeds' plain fits find p = 4.5–5.1). The penalty used
    is kept in the model's ``penalizer``.
    """
    try:
        return GammaGammaModel().fit(repeat)
    except ConvergenceError:
        for penalizer in SPEND_PENALIZERS[:-1]:
            try:
                return GammaGammaModel(penalizer=penalizer).fit(repeat)
            except ConvergenceError:
                continue
        return GammaGammaModel(penalizer=SPEND_PENALIZERS[-1]).fit(repeat)


#: L2 penalty of the second try when the plain BG/NBD fit has no proper maximum.
PURCHASE_FALLBACK_PENALIZER = 1e-3


def fit_purchases(
    rfm: pd.DataFrame, penalizer: float = 0.0
) -> tuple[BetaGeoModel | None, str | None]:
    """The BG/NBD purchase model of the buyers (``frequency``, ``recency``, ``T``) and, when it
    could not be fitted, why. Young data (a few months) often has no proper likelihood maximum
    (nobody has been seen to drop out yet): the fit is tried again with the penalty
    :data:`PURCHASE_FALLBACK_PENALIZER`; if that fails too, the no-drop-out edge is kept where
    the maximum lies there (:func:`no_dropout_edge`), else no orders are forecast and the
    reason is returned instead of stopping the run."""
    try:
        return BetaGeoModel(penalizer=penalizer).fit(rfm), None
    except ConvergenceError as exc:
        try:
            fallback = max(penalizer, PURCHASE_FALLBACK_PENALIZER)
            return BetaGeoModel(penalizer=fallback).fit(rfm), None
        except ConvergenceError:
            edge = no_dropout_edge(rfm, penalizer)
            if edge is not None:
                return edge, None
            return None, f"BG/NBD has no proper maximum on this history: {exc}"


#: The largest prior mean drop-out probability per purchase, ``a / (a + b)``, at which a
#: boundary maximum counts as the no-drop-out edge (the NBD limit) of :func:`no_dropout_edge`.
NO_DROPOUT_MEAN = 1e-4


def no_dropout_edge(rfm: pd.DataFrame, penalizer: float = 0.0) -> BetaGeoModel | None:
    r"""BG/NBD at its no-drop-out edge, or None when the likelihood's maximum lies elsewhere.

    Where no buyer has been seen to drop out (a young history, or accounts that all keep
    buying, as won deals of a CRM often do) the likelihood keeps rising as the drop-out
    probability's Beta(a, b) runs to 0 (``a → 0`` or ``b → ∞``): the maximum is the boundary,
    where BG/NBD becomes the NBD (Ehrenberg) model — every buyer alive, purchases at the rate
    :math:`(r + x) / (α + T)` per period. That boundary solution is a forecast (lifetimes
    reports it too), not a failure: it is kept when :math:`a / (a + b) <`
    :data:`NO_DROPOUT_MEAN` with ``r`` and ``α`` inside :math:`(10^{-6}, 10^{6})`. The
    information matrix is singular there: the parameters without a standard error are in the
    model's ``boundary_``, and the bootstrap keeps them at the estimate."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", BoundaryWarning)
        try:
            model = BetaGeoModel(penalizer=penalizer, boundary="accept").fit(rfm)
        except ConvergenceError:
            return None
    r, alpha, a, b = (float(model.params_[k]) for k in ("r", "alpha", "a", "b"))
    rate = 1e-6 < r < 1e6 and 1e-6 < alpha < 1e6  # the NBD part inside its range
    if not rate or a / (a + b) >= NO_DROPOUT_MEAN:
        return None
    # a and b have no usable standard error at the edge even where the Hessian inverts
    model.boundary_ = sorted({*model.boundary_, "a", "b"})
    return model


def fit_orders(
    buyers: pd.DataFrame, penalizer: float, min_buyers: int
) -> tuple[BetaGeoModel | None, GammaGammaModel | None, BetaNodes | None, str | None]:
    """The order piece's models on the buyers' RFM rows (``frequency``, ``recency``, ``T``,
    ``monetary_value``): BG/NBD (:func:`fit_purchases`) when at least ``min_buyers`` buyers and
    as many repeat buyers exist, its quadrature nodes, and Gamma-Gamma (:func:`fit_spend`) on
    at least ``min_buyers`` repeat buyers with positive spend; with why BG/NBD failed."""
    if len(buyers) < min_buyers or (buyers["frequency"] > 0).sum() < min_buyers:
        return None, None, None, None
    rfm = buyers[["frequency", "recency", "T"]].astype(float)
    purchase, failure = fit_purchases(rfm, penalizer)
    if purchase is None:
        return None, None, None, failure
    nodes = BetaNodes(float(purchase.params_["a"]), float(purchase.params_["b"]))
    repeat = buyers[(buyers["frequency"] > 0) & (buyers["monetary_value"] > 0)]
    spend = None
    if len(repeat) >= min_buyers:
        spend = fit_spend(repeat[["frequency", "monetary_value"]].astype(float))
    return purchase, spend, nodes, None
