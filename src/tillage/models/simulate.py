"""Vectorized simulators for the models: seeded, one NumPy draw per quantity, no per-customer loop.

Used by the parameter-recovery tests and the benchmarks. Each returns a summary frame in the
models' input format. Times are in periods; ``resolution`` (e.g. ``1/7`` for weeks recorded to the
day) floors the reported times to a grid, as a transaction log does, which is also what lets
identical histories collapse into weights.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "simulate_beta_geo",
    "simulate_gamma_gamma",
    "simulate_pareto_nbd",
    "simulate_shifted_beta_geo",
]


def _horizon(n: int, T: ArrayLike) -> NDArray[np.float64]:
    out = np.broadcast_to(np.asarray(T, dtype=float), (n,)).copy()
    if (out <= 0).any():
        raise ValueError("T must be positive")
    return out


def _floor(values: NDArray[np.float64], resolution: float | None) -> NDArray[np.float64]:
    if resolution is None:
        return values
    return np.floor(values / resolution + 1e-9) * resolution


def _last_event_time(
    rng: np.random.Generator, x: NDArray[np.int64], n_total: NDArray[np.int64], span
) -> NDArray[np.float64]:
    """Time of the x-th of ``n_total`` Poisson events on ``(0, span]`` (0 when x = 0).

    Given the count, event times are uniform order statistics; the x-th of n is
    ``span * Beta(x, n - x + 1)``.
    """
    pos = x > 0
    t = np.zeros(x.shape)
    t[pos] = span[pos] * rng.beta(x[pos], n_total[pos] - x[pos] + 1)
    return t


def simulate_beta_geo(
    n: int,
    *,
    r: float,
    alpha: float,
    a: float,
    b: float,
    T: ArrayLike = 39.0,
    resolution: float | None = None,
    seed: int | None = None,
) -> pd.DataFrame:
    """Customers from the BG/NBD model (Fader, Hardie & Lee 2005).

    lambda ~ Gamma(r, rate alpha), p ~ Beta(a, b); the customer drops out right after the J-th
    repeat purchase, J ~ Geometric(p). With N ~ Poisson(lambda T) purchases had they stayed,
    x = min(N, J) and t_x is the x-th of N uniform event times.
    """
    rng = np.random.default_rng(seed)
    T = _horizon(n, T)
    lam = rng.gamma(r, 1.0 / alpha, size=n)
    p = rng.beta(a, b, size=n)
    j = rng.geometric(np.clip(p, 1e-300, 1.0))
    n_total = rng.poisson(lam * T)
    x = np.minimum(n_total, j)
    tx = _last_event_time(rng, x, n_total, T)
    return pd.DataFrame({"frequency": x.astype(float), "recency": _floor(tx, resolution), "T": T})


def simulate_pareto_nbd(
    n: int,
    *,
    r: float,
    alpha: float,
    s: float,
    beta: float,
    T: ArrayLike = 39.0,
    resolution: float | None = None,
    seed: int | None = None,
) -> pd.DataFrame:
    """Customers from the Pareto/NBD model (Schmittlein, Morrison & Colombo 1987).

    lambda ~ Gamma(r, rate alpha), mu ~ Gamma(s, rate beta), lifetime ~ Exponential(mu); purchases
    are Poisson(lambda) over the observed part of the lifetime, min(lifetime, T).
    """
    rng = np.random.default_rng(seed)
    T = _horizon(n, T)
    lam = rng.gamma(r, 1.0 / alpha, size=n)
    mu = rng.gamma(s, 1.0 / beta, size=n)
    lifetime = rng.exponential(1.0, size=n) / np.maximum(mu, 1e-300)
    span = np.minimum(lifetime, T)
    x = rng.poisson(lam * span)
    tx = _last_event_time(rng, x, x, span)
    return pd.DataFrame({"frequency": x.astype(float), "recency": _floor(tx, resolution), "T": T})


def simulate_gamma_gamma(
    frequency: ArrayLike, *, p: float, q: float, v: float, seed: int | None = None
) -> NDArray[np.float64]:
    """Mean spend of ``frequency`` transactions under the Gamma-Gamma model (0 where x = 0).

    nu ~ Gamma(q, rate v) per customer; each transaction ~ Gamma(p, rate nu), so the mean of x
    transactions is Gamma(p x, rate nu x).
    """
    rng = np.random.default_rng(seed)
    x = np.asarray(frequency, dtype=float)
    nu = rng.gamma(q, 1.0 / v, size=x.shape)
    pos = x > 0
    out = np.zeros(x.shape)
    out[pos] = rng.gamma(p * x[pos], 1.0 / (nu[pos] * x[pos]))
    return out


def simulate_shifted_beta_geo(
    n: int, *, gamma: float, delta: float, T: int = 7, seed: int | None = None
) -> pd.DataFrame:
    """Customers from the sBG model (Fader & Hardie 2007), in its input encoding.

    theta ~ Beta(gamma, delta); the churn period is Geometric(theta) on 1, 2, ...; customers who
    have not churned by the end of period T are active (``alive = 1``, ``recency = T``).
    """
    rng = np.random.default_rng(seed)
    theta = rng.beta(gamma, delta, size=n)
    churn = rng.geometric(np.clip(theta, 1e-300, 1.0))
    alive = churn > T
    return pd.DataFrame(
        {
            "recency": np.where(alive, T, churn).astype(float),
            "T": float(T),
            "alive": alive.astype(float),
        }
    )
