r"""Revenue forecasts chosen by the company's own backtest, with intervals over outcomes.

Pure functions on arrays; the folds come from :mod:`tillage.strategy.backtest`.

**Candidates.** For account *i* and a horizon of ``H`` months, with ``m_i`` the probabilistic
model's expected revenue (contracts + BG/NBD orders × Gamma-Gamma spend) and ``n_i`` the naive
run rate (the revenue of the ``H`` months before the origin carried forward, currency):

* ``naive``: :math:`f_i = n_i`;
* ``model``: :math:`f_i = m_i`;
* ``blend w``: :math:`f_i = w\,m_i + (1 - w)\,n_i`, ``w`` in :data:`BLEND_WEIGHTS`;
* ``shrink k``: a per-account weight :math:`w_i = k / (k + o_i)` on the model, ``o_i`` the
  account's orders (plus renewal decisions) in the last year, ``k`` in :data:`SHRINK_ORDERS` —
  an account with a long record keeps its own run rate, a thin one leans on the model.

**Level.** Every candidate is scaled to the run rate's company total
(:func:`level_to_run_rate`): the candidates differ in how they share the total among the
accounts, not in the total. On Online Retail II the model's own total was closer than the run
rate's in the folds inside the calibration data and then further in the holdout whenever the
season turned (the autumn peak): a level taken from the folds does not carry over, so the total
is the baseline's by construction and the models add their value in the sharing (who will buy,
who has left).

**Choice (rolling origin).** Every fold is an origin ``o < calibration end`` with both
forecasts made from the data up to ``o`` and the outcome of ``(o, o + H]``, all inside the
calibration data. Over the pooled folds, each candidate's per-account MAE and relative total
error :math:`e = (\sum f - \sum y) / \sum y` are computed; the candidates whose :math:`|e|` is at
most the naive run rate's and whose per-account absolute error is lower than the run rate's by a
margin the folds support (a paired one-sided test at 95 %: mean difference + 1.645 standard
errors below 0) are admissible; the naive run rate always is, and the admissible candidate with
the lowest MAE is chosen. So on the company's own history the chosen forecast is never worse than
the naive run rate on per-account MAE nor on total error. Without a fold (history shorter than
two horizons) the model is used and the reason says that nothing could be checked.

**Interval (conformal, by forecast size).** On the pooled folds, the chosen forecast's accounts
are grouped into :data:`INTERVAL_BINS` bins of equal count by the forecast (accounts forecast
at 0 form their own bin). In a bin the ratios :math:`y / f` (or the amounts ``y`` where
``f = 0``) have empirical quantiles :math:`q_{a}, q_{1-a}`; an account's interval is
:math:`[f\,q_a, f\,q_{1-a}]`. The level ``a`` is set by bisection so that the intervals cover
the nominal share of the folds' realised values (the many zero outcomes make equal tails cover
more than nominal, so ``a`` widens until the pooled coverage is the nominal one). The interval
carries the noise of purchasing and churn (what happened to similar accounts) and the error of
the fitted parameters (refitted at every origin) — not just the parameters' uncertainty.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "BLEND_WEIGHTS",
    "INTERVAL_BINS",
    "SHRINK_ORDERS",
    "ChosenForecast",
    "Fold",
    "IntervalTable",
    "candidate_forecasts",
    "choose_forecast",
    "fit_interval",
    "level_to_run_rate",
]

BLEND_WEIGHTS: tuple[float, ...] = (0.25, 0.5, 0.75)
SHRINK_ORDERS: tuple[float, ...] = (0.5, 1.0, 2.0, 4.0, 8.0, 16.0)
INTERVAL_BINS = 10
#: One-sided 95 % normal quantile: a candidate replaces the run rate only where its per-account
#: absolute error is lower than the run rate's by more than the folds' noise.
SIGNIFICANCE_Z = 1.645
#: Fewest fold accounts that make an interval table (fewer: no interval from the folds).
MIN_INTERVAL_ACCOUNTS = 30


@dataclass
class Fold:
    """One rolling-origin fold: per account the model's and the naive forecast, the history
    depth ``orders`` (orders and renewals in the year before the origin) and the outcome."""

    model: NDArray[np.float64]
    naive: NDArray[np.float64]
    orders: NDArray[np.float64]
    actual: NDArray[np.float64]
    origin: str = ""

    def __post_init__(self) -> None:
        self.model = np.nan_to_num(np.asarray(self.model, dtype=float))
        self.naive = np.nan_to_num(np.asarray(self.naive, dtype=float))
        self.orders = np.nan_to_num(np.asarray(self.orders, dtype=float))
        self.actual = np.nan_to_num(np.asarray(self.actual, dtype=float))


def level_to_run_rate(
    forecast: NDArray[np.float64], naive: NDArray[np.float64]
) -> NDArray[np.float64]:
    """``forecast`` scaled so that its total is the run rate's: ``f_i · Σ n / Σ f``
    (unchanged when either total is not positive)."""
    total, target = float(forecast.sum()), float(naive.sum())
    if total <= 0 or target <= 0:
        return forecast
    return forecast * (target / total)


def candidate_forecasts(
    model: ArrayLike, naive: ArrayLike, orders: ArrayLike, *, level: bool = True
) -> dict[str, NDArray[np.float64]]:
    """Every candidate forecast (see the module docstring), keyed by its name; with ``level``
    each scaled to the run rate's total (:func:`level_to_run_rate`)."""
    m = np.nan_to_num(np.asarray(model, dtype=float))
    n = np.nan_to_num(np.asarray(naive, dtype=float))
    o = np.clip(np.nan_to_num(np.asarray(orders, dtype=float)), 0.0, None)
    out = {"naive": n, "model": m}
    for w in BLEND_WEIGHTS:
        out[f"blend {w:g}"] = w * m + (1.0 - w) * n
    for k in SHRINK_ORDERS:
        w_i = k / (k + o)
        out[f"shrink {k:g}"] = w_i * m + (1.0 - w_i) * n
    if not level:
        return out
    return {name: level_to_run_rate(f, n) for name, f in out.items()}


def _score(forecast: NDArray[np.float64], actual: NDArray[np.float64]) -> tuple[float, float]:
    mae = float(np.mean(np.abs(forecast - actual))) if len(actual) else np.nan
    total = float(actual.sum())
    error = float((forecast.sum() - total) / total) if total else np.nan
    return mae, error


@dataclass
class IntervalTable:
    """The conformal interval: bin edges of the forecast, per bin the lower and upper ratio
    (``y / f``; amounts in the zero bin), the fold coverage reached and the nominal one."""

    edges: NDArray[np.float64]
    low: NDArray[np.float64]
    high: NDArray[np.float64]
    zero_low: float
    zero_high: float
    coverage: float
    nominal: float

    def apply(self, forecast: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """``(low, high)`` for each forecast (currency)."""
        point = np.nan_to_num(np.asarray(forecast, dtype=float))
        f = np.clip(point, 0.0, None)
        b = np.clip(np.searchsorted(self.edges, f, side="right") - 1, 0, len(self.low) - 1)
        low = np.where(f > 0, f * self.low[b], self.zero_low)
        high = np.where(f > 0, f * self.high[b], self.zero_high)
        return np.minimum(low, point), np.maximum(high, point)


def _bin_edges(f: NDArray[np.float64], bins: int) -> NDArray[np.float64]:
    positive = f[f > 0]
    if not len(positive):
        return np.array([0.0])
    edges = np.unique(np.quantile(positive, np.linspace(0.0, 1.0, bins + 1)[:-1]))
    edges[0] = 0.0
    return edges


def fit_interval(
    forecast: ArrayLike, actual: ArrayLike, nominal: float = 0.8, *, bins: int = INTERVAL_BINS
) -> IntervalTable | None:
    """The conformal interval table of ``forecast`` against ``actual`` (pooled folds) whose
    coverage of ``actual`` is ``nominal`` (see the module docstring); None with fewer than
    :data:`MIN_INTERVAL_ACCOUNTS` accounts."""
    f = np.clip(np.nan_to_num(np.asarray(forecast, dtype=float)), 0.0, None)
    y = np.nan_to_num(np.asarray(actual, dtype=float))
    if len(f) < MIN_INTERVAL_ACCOUNTS:
        return None
    edges = _bin_edges(f, bins)
    b = np.clip(np.searchsorted(edges, f, side="right") - 1, 0, len(edges) - 1)
    ratio = np.where(f > 0, y / np.where(f > 0, f, 1.0), 0.0)
    zero = f <= 0

    def table(a: float) -> IntervalTable:
        low = np.ones(len(edges))
        high = np.ones(len(edges))
        for k in range(len(edges)):
            pick = (b == k) & ~zero
            if pick.any():
                low[k], high[k] = np.quantile(ratio[pick], [a, 1.0 - a])
        zl, zh = np.quantile(y[zero], [a, 1.0 - a]) if zero.any() else (0.0, 0.0)
        t = IntervalTable(edges, low, high, float(zl), float(zh), 0.0, nominal)
        lo, hi = t.apply(f)
        t.coverage = float(np.mean((y >= lo - 1e-9) & (y <= hi + 1e-9)))
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


@dataclass
class ChosenForecast:
    """The candidate chosen by the folds: ``name``, ``reason`` (why, in words with the
    figures), per-candidate fold ``scores`` (``mae``, ``total_error``), the ``interval`` table
    (None without folds) and the fold count."""

    name: str
    reason: str
    scores: dict[str, dict[str, float]] = field(default_factory=dict)
    folds: int = 0
    level: bool = True

    def apply(self, model: ArrayLike, naive: ArrayLike, orders: ArrayLike) -> NDArray[np.float64]:
        """The chosen candidate's forecast per account."""
        return candidate_forecasts(model, naive, orders, level=self.level)[self.name]

    def record(self) -> dict[str, object]:
        """JSON-able summary for the snapshot and the backtest settings."""
        return {
            "forecast": self.name,
            "reason": self.reason,
            "folds": self.folds,
            "level": "run rate" if self.level else "own",
            "scores": self.scores,
        }


def choose_forecast(folds: list[Fold], *, level: bool = True) -> ChosenForecast:
    """Choose the forecast by the folds (see the module docstring); ``level`` scales every
    candidate to the run rate's total. Without a usable fold the run rate is kept."""
    if not folds:
        return ChosenForecast(
            "naive",
            "run rate: no backtest fits inside the history, so no model was shown to do better",
            level=level,
        )
    usable = [f for f in folds if len(f.actual) and np.abs(f.actual).sum() > 0]
    if not usable:
        return ChosenForecast(
            "naive", "run rate: nothing was realised in the backtests", level=level
        )
    actual = np.concatenate([f.actual for f in usable])
    pooled: dict[str, list[NDArray[np.float64]]] = {}
    for fold in usable:
        candidates = candidate_forecasts(fold.model, fold.naive, fold.orders, level=level)
        for name, values in candidates.items():
            pooled.setdefault(name, []).append(values)
    scores = {}
    naive_abs = np.abs(np.concatenate(pooled["naive"]) - actual)
    for name, parts in pooled.items():
        forecast = np.concatenate(parts)
        mae, error = _score(forecast, actual)
        # paired one-sided test: the candidate's per-account absolute error minus the run rate's
        d = np.abs(forecast - actual) - naive_abs
        margin = float(d.mean() + SIGNIFICANCE_Z * d.std(ddof=1) / np.sqrt(len(d)))
        scores[name] = {"mae": mae, "total_error": error, "mae_gain_upper": margin}
    naive = scores["naive"]
    admissible = [
        name
        for name, s in scores.items()
        if name == "naive"
        or (abs(s["total_error"]) <= abs(naive["total_error"]) + 1e-12 and s["mae_gain_upper"] < 0)
    ]
    name = min(admissible, key=lambda k: (scores[k]["mae"], k != "naive"))
    chosen = scores[name]
    if name == "naive":
        return ChosenForecast(
            name,
            f"run rate: no candidate beat it clearly over {len(usable)} backtest(s) inside the "
            f"history on per-account MAE (the run rate's {naive['mae']:.4g}) without a larger "
            f"total error (the run rate's {naive['total_error']:+.1%})",
            scores,
            len(usable),
            level,
        )
    reason = (
        f"{name}: lowest per-account MAE over {len(usable)} backtest(s) inside the history "
        f"({chosen['mae']:.4g} against the run rate's {naive['mae']:.4g}), total error "
        f"{chosen['total_error']:+.1%} against the run rate's {naive['total_error']:+.1%}"
    )
    return ChosenForecast(name, reason, scores, len(usable), level)
