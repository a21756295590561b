r"""The conformal interval over outcomes of the forecasts chosen by the folds
(:mod:`tillage.models.forecast`): pure functions on the folds' arrays.

**Interval (conformal, by forecast size).** The realised value of account *i* in fold *k* is
read as :math:`y_i = f_i\,L_k\,r_i`: the fold's level :math:`L_k = \sum y / \sum f` (a
common shock: the forecast's total is the run rate's, and a fold's level error belongs to its
season — a quarter of attrition before the autumn peak is not the peak) times the account's
spread around it, :math:`r_i = y_i / (f_i L_k)`. The predictive distribution keeps the spread
and replaces the fold's own level by the level's uncertainty: :math:`s` is the root mean
square of :math:`\ln L_k` over the folds, and every fold value enters twice, as
:math:`f_i\,r_i\,e^{+s}` and :math:`f_i\,r_i\,e^{-s}` (a two-point level, symmetric in
logarithm around the forecast's own). On these values, the accounts are grouped into
:data:`INTERVAL_BINS` bins of equal count by the forecast (accounts forecast at 0 form their
own bin); in a bin the ratios to the forecast (the amounts where ``f = 0``) have empirical
quantiles :math:`q_{a}, q_{1-a}`, and an account's interval is :math:`[f\,q_a, f\,q_{1-a}]`.
Where the folds hold fewer than :data:`MIN_INTERVAL_ACCOUNTS` zero forecasts (e.g. a cohort
that has all bought within the run rate's window) a zero forecast's interval is read from the
amounts of the smallest positive forecasts' bin, its nearest neighbours, not from a handful
of rows.
The interval carries the noise of purchasing and churn (what happened to similar accounts),
the error of the fitted parameters (refitted at every origin) and the level's — not just the
parameters' uncertainty.

**Mondrian by history depth.** The table above is fitted separately for the accounts with no
order in the year before the origin, the light buyers (1 to :data:`LIGHT_ORDERS` orders) and
the heavy ones (:func:`interval_groups`), each with its own fold levels and band (a group of
fewer than :data:`MIN_INTERVAL_ACCOUNTS` accounts uses the pooled table). The spread of
``y / f`` differs in kind between them — a contract-only account's revenue is scheduled, a
light buyer's is mostly 0 or one order, a heavy buyer's is a sum of many — and so does the
level: the run rate's total error is the order stream's, not the contracts'. Pooled, one
table's bins by forecast size mix them, and the interval is too wide for one kind and too
narrow for the other (on the demo company, 91–94 % of the accounts without an order in the
year inside and 45–61 % of the one-order buyers, in the folds themselves); per group, the
nominal coverage holds in each (Mondrian conformal prediction, Vovk, Gammerman & Shafer 2005,
*Algorithmic Learning in a Random World*, ch. 4).

**Randomised at the atom 0.** A realised revenue of exactly 0 (no order, a churned contract) is
an atom of every bin's distribution: with a share :math:`p_0` of zeros lying between the
cumulative shares :math:`F(0^-)` and :math:`F(0) = F(0^-) + p_0`, a closed interval whose end is
0 would hold all of them (a certain 0 — a churned customer forecast at 0 — would be "covered"
with probability 1, and equal tails would cover far more than nominal). The interval holds the
central :math:`1 - 2a` of the distribution instead, so it includes a realised 0 with the
probability

.. math:: c = \frac{\max\{0,\ \min(F(0), 1 - a) - \max(F(0^-), a)\}}{p_0}

(1 where 0 lies strictly inside, 0 where it lies outside): the randomised PIT convention for
discrete outcomes. :meth:`IntervalTable.zero_inclusion` gives ``c`` per account and coverage
counts a realised 0 as ``c`` covered (:func:`~tillage.models.evaluation.interval_coverage`).
The tail level ``a`` is set by bisection so that this coverage of the values above is the
nominal one (``a = (1 - nominal) / 2`` but for atoms other than 0, e.g. contract amounts);
nothing of the holdout enters.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "INTERVAL_BINS",
    "LIGHT_ORDERS",
    "MIN_INTERVAL_ACCOUNTS",
    "IntervalTable",
    "fit_interval",
    "interval_groups",
    "randomised_coverage",
]

INTERVAL_BINS = 10
#: Fewest fold accounts that make an interval table (fewer: no interval from the folds).
MIN_INTERVAL_ACCOUNTS = 30
#: The most orders in the year before the origin of a light buyer (:func:`interval_groups`).
LIGHT_ORDERS = 3


@dataclass
class IntervalTable:
    """The conformal interval: bin edges of the forecast, per bin the lower and upper ratio
    (``y / f``; amounts in the zero bin) and the probability ``zero`` that a realised 0 counts
    as inside (randomised at the atom, see the module docstring), the fold coverage reached,
    the nominal one, the level band :math:`e^{s}` and the folds' levels :math:`L_k`."""

    edges: NDArray[np.float64]
    low: NDArray[np.float64]
    high: NDArray[np.float64]
    zero_low: float
    zero_high: float
    coverage: float
    nominal: float
    zero: NDArray[np.float64] = field(default_factory=lambda: np.ones(1))
    zero_bin: float = 1.0
    band: float = 1.0
    levels: list[float] = field(default_factory=list)
    groups: dict[str, IntervalTable] = field(default_factory=dict)
    positives: int = 0
    zeros: int = 0

    def _by_group(
        self, forecast: ArrayLike, group: ArrayLike | None, method: str
    ) -> list[NDArray[np.float64]]:
        """``method`` of the own table, or per account of its group's table where ``group``
        names one that was fitted on at least :data:`MIN_INTERVAL_ACCOUNTS` forecasts of the
        account's kind (positive, or 0) (:meth:`apply` and :meth:`zero_inclusion`)."""
        f = np.asarray(forecast, dtype=float)
        out = [np.asarray(v, dtype=float) for v in _tuple(getattr(self, method)(f))]
        if group is None or not self.groups:
            return out
        g = np.asarray(group).astype(str)
        for name, table in self.groups.items():
            enough = table.positives >= MIN_INTERVAL_ACCOUNTS
            seen = enough | ((f <= 0) & (table.zeros >= MIN_INTERVAL_ACCOUNTS))
            pick = (g == name) & seen
            if pick.any():
                for target, value in zip(out, _tuple(getattr(table, method)(f[pick])), strict=True):
                    target[pick] = value
        return out

    def _bin(self, f: NDArray[np.float64]) -> NDArray[np.intp]:
        return np.clip(np.searchsorted(self.edges, f, side="right") - 1, 0, len(self.low) - 1)

    def apply(
        self, forecast: ArrayLike, group: ArrayLike | None = None
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """``(low, high)`` for each forecast (currency); with ``group`` (:func:`interval_groups`)
        from the table of the account's group where it has one."""
        if group is not None and self.groups:
            low, high = self._by_group(forecast, group, "apply")
            return low, high
        point = np.nan_to_num(np.asarray(forecast, dtype=float))
        f = np.clip(point, 0.0, None)
        b = self._bin(f)
        low = np.where(f > 0, f * self.low[b], self.zero_low)
        high = np.where(f > 0, f * self.high[b], self.zero_high)
        return np.minimum(low, point), np.maximum(high, point)

    def zero_inclusion(
        self, forecast: ArrayLike, group: ArrayLike | None = None
    ) -> NDArray[np.float64]:
        """Per account, the probability that a realised 0 counts as inside its interval (with
        ``group``: its group's table, as :meth:`apply`)."""
        if group is not None and self.groups:
            return self._by_group(forecast, group, "zero_inclusion")[0]
        f = np.clip(np.nan_to_num(np.asarray(forecast, dtype=float)), 0.0, None)
        return np.where(f > 0, self.zero[self._bin(f)], self.zero_bin)


def _tuple(value: object) -> tuple[NDArray[np.float64], ...]:
    return value if isinstance(value, tuple) else (value,)  # type: ignore[return-value]


def _zero_share(values: NDArray[np.float64], a: float) -> float:
    """The inclusion probability ``c`` of the atom 0 in the central ``1 - 2a`` of ``values``."""
    p0 = float(np.mean(values == 0.0))
    if p0 == 0.0:
        return 1.0
    below = float(np.mean(values < 0.0))
    return max(0.0, min(below + p0, 1.0 - a) - max(below, a)) / p0


def _bin_edges(f: NDArray[np.float64], bins: int) -> NDArray[np.float64]:
    positive = f[f > 0]
    if not len(positive):
        return np.array([0.0])
    edges = np.unique(np.quantile(positive, np.linspace(0.0, 1.0, bins + 1)[:-1]))
    edges[0] = 0.0
    return edges


def randomised_coverage(
    low: NDArray[np.float64],
    high: NDArray[np.float64],
    actual: NDArray[np.float64],
    zero: NDArray[np.float64],
) -> NDArray[np.float64]:
    """Per account 1 / 0 whether ``actual`` lies in ``[low, high]``; a realised 0 inside counts
    as ``zero`` (its inclusion probability)."""
    inside = ((actual >= low - 1e-9) & (actual <= high + 1e-9)).astype(float)
    return np.where(actual == 0.0, inside * zero, inside)


def interval_groups(depth: ArrayLike) -> NDArray[np.str_]:
    """The Mondrian group of each account's interval by its history depth ``depth`` (orders in
    the year before the origin): ``"none"`` (0), ``"light"`` (1 to :data:`LIGHT_ORDERS`) or
    ``"heavy"`` (more)."""
    d = np.nan_to_num(np.asarray(depth, dtype=float))
    return np.where(d <= 0, "none", np.where(d <= LIGHT_ORDERS, "light", "heavy"))


def fit_interval(
    forecast: ArrayLike,
    actual: ArrayLike,
    nominal: float = 0.8,
    *,
    bins: int = INTERVAL_BINS,
    fold: ArrayLike | None = None,
    group: ArrayLike | None = None,
) -> IntervalTable | None:
    """The conformal interval table of ``forecast`` against ``actual`` (pooled folds, ``fold``
    naming each account's fold; one fold when None): the central ``nominal`` share of the
    level-free values at the two levels :math:`e^{\\pm s}` (see the module docstring), in
    randomised coverage; None with fewer than :data:`MIN_INTERVAL_ACCOUNTS` accounts. With
    ``group`` (:func:`interval_groups`) one table per group of at least
    :data:`MIN_INTERVAL_ACCOUNTS` accounts, its level band from its own fold levels (Mondrian,
    see the module docstring); the pooled table serves the smaller groups."""
    pooled = _fit_table(forecast, actual, nominal, bins=bins, fold=fold)
    if pooled is None or group is None:
        return pooled
    g = np.asarray(group).astype(str)
    f = np.asarray(forecast, dtype=float)
    y = np.asarray(actual, dtype=float)
    labels = np.zeros(len(f), dtype=int) if fold is None else np.asarray(fold)
    for name in np.unique(g):
        pick = g == name
        table = _fit_table(f[pick], y[pick], nominal, bins=bins, fold=labels[pick])
        if table is not None:
            pooled.groups[str(name)] = table
    return pooled


def _fit_table(
    forecast: ArrayLike,
    actual: ArrayLike,
    nominal: float,
    *,
    bins: int,
    fold: ArrayLike | None,
) -> IntervalTable | None:
    f = np.clip(np.nan_to_num(np.asarray(forecast, dtype=float)), 0.0, None)
    y = np.nan_to_num(np.asarray(actual, dtype=float))
    if len(f) < MIN_INTERVAL_ACCOUNTS:
        return None
    labels = np.zeros(len(f), dtype=int) if fold is None else np.asarray(fold)
    level = np.ones(len(f))
    logs = []
    for k in np.unique(labels):
        pick = labels == k
        total, realised = float(f[pick].sum()), float(y[pick].sum())
        if total > 0 and realised > 0:
            level[pick] = realised / total
            logs.append(np.log(realised / total))
    band = float(np.exp(np.sqrt(np.mean(np.square(logs))))) if logs else 1.0
    positives, zeros = int((f > 0).sum()), int((f <= 0).sum())
    # level-free values, each at the two levels e^{+s} and e^{-s} (the level's uncertainty)
    f = np.concatenate([f, f])
    y = np.concatenate([y / level * band, y / level / band])
    edges = _bin_edges(f, bins)
    b = np.clip(np.searchsorted(edges, f, side="right") - 1, 0, len(edges) - 1)
    ratio = np.where(f > 0, y / np.where(f > 0, f, 1.0), 0.0)
    zero = f <= 0
    # the amounts a zero forecast's interval is read from: the zero forecasts' own, or with
    # fewer than MIN_INTERVAL_ACCOUNTS of them those of the smallest positive forecasts' bin
    near = zero if zeros >= MIN_INTERVAL_ACCOUNTS else (b == 0) & ~zero

    def table(a: float) -> IntervalTable:
        low = np.ones(len(edges))
        high = np.ones(len(edges))
        share = np.ones(len(edges))
        for k in range(len(edges)):
            pick = (b == k) & ~zero
            if pick.any():
                low[k], high[k] = np.quantile(ratio[pick], [a, 1.0 - a])
                share[k] = _zero_share(ratio[pick], a)
        zl, zh = np.quantile(y[near], [a, 1.0 - a]) if near.any() else (0.0, 0.0)
        zc = _zero_share(y[near], a) if near.any() else 1.0
        t = IntervalTable(edges, low, high, float(zl), float(zh), 0.0, nominal, share, zc, band)
        t.levels = [float(np.exp(v)) for v in logs]
        t.positives, t.zeros = positives, zeros
        lo, hi = t.apply(f)
        t.coverage = float(np.mean(randomised_coverage(lo, hi, y, t.zero_inclusion(f))))
        return t

    # coverage falls as the tail level a rises: bisect a in [0, 0.5] for the nominal coverage
    lo_a, hi_a = 0.0, 0.5
    best = table((1.0 - nominal) / 2.0)
    for _ in range(30):
        mid = (lo_a + hi_a) / 2.0
        t = table(mid)
        if abs(t.coverage - nominal) < abs(best.coverage - nominal):
            best = t
        if t.coverage > nominal:
            lo_a = mid
        else:
            hi_a = mid
    return best
