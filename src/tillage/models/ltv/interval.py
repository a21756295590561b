r"""The parametric-bootstrap interval of the LTV.

Each component model's maximum-likelihood estimate is asymptotically normal with the inverse
observed information as covariance (``covariance_``: the Laplace approximation of the model).
:func:`parameter_draws` draws ``n`` parameter vectors from that law — on the log scale for the
positive parameters, so draws stay positive and skewed as the likelihood is — the LTV is
recomputed for every draw and :func:`central_interval` takes the central share of the draws.
The interval describes the uncertainty of the *expected* LTV due to estimation, not the spread
of one account's realised value (an account renews or not).

Why draws rather than a delta-method interval: the LTV is strongly non-linear in the parameters
(powers of survival probabilities, hypergeometric tails of BG/NBD) and must stay on the right
side of zero, which a symmetric linearised interval does not respect; refitting on resampled
accounts (a non-parametric bootstrap) would cost ``n`` full fits.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

__all__ = ["Estimate", "central_interval", "draw_values", "parameter_draws"]

Params = dict[str, NDArray[np.float64] | None]
#: The largest standard deviation of a positive parameter's log that is drawn (e^5 ≈ 150×).
MAX_LOG_SD = 5.0


@dataclass
class Estimate:
    """A fitted parameter vector, its asymptotic covariance (natural scale) and which entries
    are positive (drawn on the log scale)."""

    value: NDArray[np.float64]
    covariance: NDArray[np.float64]
    positive: NDArray[np.bool_]


def _draw(estimate: Estimate, n: int, rng: np.random.Generator) -> NDArray[np.float64]:
    value, positive = estimate.value, estimate.positive
    scale = np.where(positive, value, 1.0)
    centre = np.where(positive, np.log(np.where(positive, value, 1.0)), value)
    # delta method to the log scale: cov(log x) = cov(x) / (x x')
    cov = np.asarray(estimate.covariance, dtype=float) / np.outer(scale, scale)
    if not np.all(np.isfinite(cov)):
        return np.tile(value, (n, 1))
    # A positive parameter whose log has a standard deviation above MAX_LOG_SD is not
    # identified (a limit of the model, e.g. BG/NBD's r, α → ∞ Poisson edge): it is kept at its
    # estimate, as the edge's parameters are, instead of drawn across e^±hundreds.
    loose = positive & (np.diag(cov) > MAX_LOG_SD**2)
    cov[loose, :] = cov[:, loose] = 0.0
    # symmetric square root, negative eigenvalues (numerical noise) set to zero
    eigen, vectors = np.linalg.eigh((cov + cov.T) / 2.0)
    root = vectors * np.sqrt(np.clip(eigen, 0.0, None))
    u = centre + rng.standard_normal((n, len(centre))) @ root.T
    return np.where(positive, np.exp(u), u)


def parameter_draws(estimates: Mapping[str, Estimate | None], n: int, seed: int) -> list[Params]:
    """``n`` parameter sets, each a dict like ``estimates`` (None stays None)."""
    rng = np.random.default_rng(seed)
    samples = {
        key: None if estimate is None else _draw(estimate, n, rng)
        for key, estimate in estimates.items()
    }
    return [{k: (None if v is None else v[i]) for k, v in samples.items()} for i in range(n)]


def draw_values(
    value: Callable[[Params], NDArray[np.float64]],
    estimates: Mapping[str, Estimate | None],
    n: int,
    seed: int,
) -> NDArray[np.float64]:
    """``value`` of each of the :func:`parameter_draws` (draws × accounts), in their order.
    The draws are independent and their work is NumPy's array operations, which leave the
    interpreter lock, so they run on a thread per core (at most four): the same figures,
    sooner."""
    draws = parameter_draws(estimates, n, seed)
    workers = min(4, os.cpu_count() or 1, len(draws))
    if workers <= 1:
        return np.array([value(p) for p in draws])
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="ltv-draws") as pool:
        return np.array(list(pool.map(value, draws)))


def central_interval(
    draws: NDArray[np.float64], point: NDArray[np.float64], coverage: float
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """The ``(1 - coverage)/2`` and ``(1 + coverage)/2`` quantiles of ``draws`` (draws ×
    accounts), widened to contain ``point``; the point itself without draws."""
    if not len(draws):
        return point.copy(), point.copy()
    tail = (1.0 - coverage) / 2.0
    low, high = np.quantile(draws, [tail, 1.0 - tail], axis=0)
    return np.minimum(low, point), np.maximum(high, point)
