r"""Revenue forecasts chosen by the company's own backtest, with intervals over outcomes.

Pure functions on arrays; the folds come from :mod:`tillage.strategy.backtest`.

**Candidates.** For account *i* and a horizon of ``H`` months, with ``m_i`` the probabilistic
model's expected revenue (contracts + BG/NBD orders × Gamma-Gamma spend) and ``n_i`` the naive
run rate (the revenue of the ``H`` months before the origin carried forward, currency; a
window whose returns exceeded its orders counts 0 — net returns are not carried forward as
negative revenue, so no candidate forecasts a negative revenue from them):

* ``naive``: :math:`f_i = n_i`;
* ``model``: :math:`f_i = m_i`;
* ``blend w``: :math:`f_i = w\,m_i + (1 - w)\,n_i`, ``w`` in :data:`BLEND_WEIGHTS`;
* ``shrink k``: a per-account weight :math:`w_i = k / (k + o_i)` on the model, ``o_i`` the
  account's orders (plus renewal decisions) in the last year, ``k`` in :data:`SHRINK_ORDERS` —
  an account with a long record keeps its own run rate, a thin one leans on the model.

**Level.** The order streams' candidates are scaled to the run rate's company total
(:func:`level_to_run_rate`; the contract streams keep their own, see
:data:`tillage.strategy.folds.STREAMS`): the candidates differ in how they share the total
among the accounts, not in the total. On Online Retail II the model's own total was closer than
the run rate's in the folds inside the calibration data and then further in the holdout
whenever the season turned (the autumn peak): a level taken from the folds does not carry over,
so the total is the baseline's by default and the models add their value in the sharing (who
will buy, who has left).

**Choice (rolling origin).** Every fold is an origin ``o < calibration end`` with both
forecasts made from the data up to ``o`` and the outcome of ``(o, o + H]``, all inside the
calibration data. Over the pooled folds, each candidate's per-account MAE and relative total
error :math:`e = (\sum f - \sum y) / \sum y` are computed; the candidates whose :math:`|e|` is at
most the naive run rate's and whose per-account absolute error is lower than the run rate's by a
margin the folds support (a paired one-sided test at 95 %: mean difference + 1.645 standard
errors below 0) are admissible; the naive run rate always is, and the admissible candidate with
the lowest MAE is chosen. So on the company's own history the chosen forecast is never worse than
the naive run rate on per-account MAE nor on total error. Without a fold (history shorter than
two horizons) the run rate is kept and the reason says that nothing could be checked.

**The revenue's total (:func:`honour_total`).** The rule above holds per stream; the revenue
forecast is their sum, and the sum can break it: where the run rate's total error is a
contract under-forecast offset by an order over-forecast (the demo company: contracts −5 to
−9 %, orders +20 to +28 % in the folds), a contract model that corrects its stream removes the
offset and leaves the orders' excess, on the run rate's level, in the total. So the rule is
checked on the sum as well. For a level weight :math:`\lambda \in [0, 1]` every leveled stream's
candidate is scaled to

.. math:: \textstyle T_\lambda = \sum n + \lambda \left(\sum f - \sum n\right)

(currency, per fold; ``n`` the stream's run rate as given, ``f`` the candidate at its own
level): :math:`\lambda = 0` is the run rate's total, 1 the candidate's own. With the chosen
candidate of every stream, the sum over the streams is the revenue forecast :math:`F_i(\lambda)`
and, pooled over the folds, its relative total error
:math:`E(\lambda) = (\sum_i F_i - \sum_i y_i) / \sum_i y_i` and per-account MAE
:math:`\overline{|F_i - y_i|}` are set against the revenue run rate's (``N``: the whole
revenue of the ``H`` months before the origin carried forward, the benchmark's "run rate").
The level weight is the first of :math:`0` and then :data:`LEVEL_WEIGHTS` for which
:math:`|E(\lambda)| \le |E_N|` and the MAE is at most the run rate's: the run rate's level
unless the sum breaks the rule there, and then the smallest move toward the candidates' own
level that honours it (a level learned in the folds is trusted only as far as the rule needs).
Where no weight does, every stream falls back to the run rate (``code`` ``run_rate_total``). So
on its own history the revenue forecast, not only each stream, is never worse than the naive
run rate on per-account MAE nor on total error.

**Interval.** The conformal interval over outcomes fitted on the same folds is
:mod:`tillage.models.forecast_interval` (re-exported here).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

import numpy as np
from numpy.typing import ArrayLike, NDArray

from tillage.models.forecast_interval import (
    INTERVAL_BINS,
    LIGHT_ORDERS,
    MIN_INTERVAL_ACCOUNTS,
    IntervalTable,
    fit_interval,
    interval_groups,
    randomised_coverage,
)
from tillage.models.forecast_text import reason_text

__all__ = [
    "BLEND_WEIGHTS",
    "INTERVAL_BINS",
    "LEVEL_WEIGHTS",
    "LIGHT_ORDERS",
    "MIN_INTERVAL_ACCOUNTS",
    "SHRINK_ORDERS",
    "ChosenForecast",
    "Fold",
    "IntervalTable",
    "candidate_forecasts",
    "choose_churn",
    "choose_forecast",
    "fit_interval",
    "honour_total",
    "interval_groups",
    "level_to_run_rate",
    "randomised_coverage",
]

BLEND_WEIGHTS: tuple[float, ...] = (0.25, 0.5, 0.75)
SHRINK_ORDERS: tuple[float, ...] = (0.5, 1.0, 2.0, 4.0, 8.0, 16.0)
#: One-sided 95 % normal quantile: a candidate replaces the run rate only where its per-account
#: absolute error is lower than the run rate's by more than the folds' noise.
SIGNIFICANCE_Z = 1.645
#: Level weights λ tried, in order, where the revenue's total breaks the rule at the run rate's
#: level (0): the leveled streams' total moves this share of the way toward the candidates' own
#: (:func:`honour_total`).
LEVEL_WEIGHTS: tuple[float, ...] = (0.25, 0.5, 0.75, 1.0)


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
    forecast: NDArray[np.float64], naive: NDArray[np.float64], weight: float = 0.0
) -> NDArray[np.float64]:
    """``forecast`` scaled so that its total is the run rate's, ``f_i · Σ n / Σ f``; with a
    level ``weight`` λ to ``Σ n + λ (Σ f − Σ n)`` (1: unchanged). Unchanged when either total
    is not positive."""
    total = float(forecast.sum())
    target = float(naive.sum()) + weight * (total - float(naive.sum()))
    if total <= 0 or target <= 0:
        return forecast
    return forecast * (target / total)


def candidate_forecasts(
    model: ArrayLike,
    naive: ArrayLike,
    orders: ArrayLike,
    *,
    level: bool = True,
    weight: float = 0.0,
) -> dict[str, NDArray[np.float64]]:
    """Every candidate forecast (see the module docstring), keyed by its name; with ``level``
    each scaled to the run rate's total (:func:`level_to_run_rate`, the total of ``naive`` as
    given), moved the share ``weight`` toward its own; an account's negative run rate (net
    returns) counts 0."""
    m = np.nan_to_num(np.asarray(model, dtype=float))
    raw = np.nan_to_num(np.asarray(naive, dtype=float))
    n = np.clip(raw, 0.0, None)
    o = np.clip(np.nan_to_num(np.asarray(orders, dtype=float)), 0.0, None)
    out = {"naive": n, "model": m}
    for w in BLEND_WEIGHTS:
        out[f"blend {w:g}"] = w * m + (1.0 - w) * n
    for k in SHRINK_ORDERS:
        w_i = k / (k + o)
        out[f"shrink {k:g}"] = w_i * m + (1.0 - w_i) * n
    if not level:
        return out
    return {name: level_to_run_rate(f, raw, weight) for name, f in out.items()}


def _score(forecast: NDArray[np.float64], actual: NDArray[np.float64]) -> tuple[float, float]:
    mae = float(np.mean(np.abs(forecast - actual))) if len(actual) else np.nan
    total = float(actual.sum())
    error = float((forecast.sum() - total) / total) if total else np.nan
    return mae, error


@dataclass
class ChosenForecast:
    """The candidate chosen by the folds: ``name``, the reason as a ``code`` with its
    ``figures`` (worded in Japanese or English by :func:`~tillage.models.forecast_text.
    reason_text`; ``reason`` is the English), per-candidate fold ``scores`` and the fold count."""

    name: str
    code: str
    figures: dict[str, float] = field(default_factory=dict)
    scores: dict[str, dict[str, float]] = field(default_factory=dict)
    folds: int = 0
    level: bool = True
    #: λ of the level (:func:`honour_total`): 0 the run rate's total, 1 the candidate's own.
    level_weight: float = 0.0

    def apply(self, model: ArrayLike, naive: ArrayLike, orders: ArrayLike) -> NDArray[np.float64]:
        """The chosen candidate's forecast per account."""
        candidates = candidate_forecasts(
            model, naive, orders, level=self.level, weight=self.level_weight
        )
        return candidates[self.name]

    def record(self) -> dict[str, object]:
        """JSON-able summary for the snapshot and the backtest settings."""
        out: dict[str, object] = {
            "forecast": self.name,
            "code": self.code,
            "figures": self.figures,
            "folds": self.folds,
            "level": "run rate" if self.level else "own",
            "level_weight": self.level_weight,
            "scores": self.scores,
        }
        return {**out, "reason": reason_text(out, "en")}

    @property
    def reason(self) -> str:
        """Why, in English with the figures."""
        return str(self.record()["reason"])


def choose_forecast(folds: list[Fold], *, level: bool = True) -> ChosenForecast:
    """Choose the forecast by the folds (see the module docstring); ``level`` scales every
    candidate to the run rate's total. Without a usable fold the run rate is kept."""
    if not folds:
        return ChosenForecast("naive", "no_folds", level=level)
    usable = [f for f in folds if len(f.actual) and np.abs(f.actual).sum() > 0]
    if not usable:
        return ChosenForecast("naive", "nothing_realised", level=level)
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
    figures = {
        "mae": scores[name]["mae"],
        "total_error": scores[name]["total_error"],
        "naive_mae": naive["mae"],
        "naive_total_error": naive["total_error"],
    }
    code = "run_rate_kept" if name == "naive" else "lowest_mae"
    return ChosenForecast(name, code, figures, scores, len(usable), level)


def _sum_scores(
    choices: Mapping[str, ChosenForecast],
    streams: Mapping[str, list[Fold]],
    ks: list[int],
    actual: NDArray[np.float64],
    weight: float,
) -> tuple[float, float]:
    """Pooled MAE and total error of the revenue forecast (the streams' chosen candidates
    summed) over the folds ``ks`` at the level weight ``weight``."""
    parts = []
    for k in ks:
        total = np.zeros(len(streams[next(iter(streams))][k].actual))
        for name, folds in streams.items():
            fold, chosen = folds[k], choices[name]
            total = (
                total
                + candidate_forecasts(
                    fold.model, fold.naive, fold.orders, level=chosen.level, weight=weight
                )[chosen.name]
            )
        parts.append(total)
    return _score(np.concatenate(parts), actual)


def honour_total(
    choices: Mapping[str, ChosenForecast],
    streams: Mapping[str, list[Fold]],
    total: list[Fold],
) -> dict[str, ChosenForecast]:
    """The choices of the revenue ``streams`` (their folds aligned with ``total``'s, the whole
    revenue's: its ``naive`` the revenue run rate, its ``actual`` the realised revenue) with
    the level weight that keeps their sum no worse than the run rate on pooled total error and
    MAE; where no weight does, the run rate for every stream (see the module docstring).
    Unchanged without a fold with realised revenue or where the sum honours the rule at the
    run rate's level."""
    ks = [k for k, f in enumerate(total) if len(f.actual) and f.actual.sum() > 0]
    if not ks or not streams or any(len(f) != len(total) for f in streams.values()):
        return dict(choices)
    actual = np.concatenate([total[k].actual for k in ks])
    naive_mae, naive_error = _score(np.concatenate([total[k].naive for k in ks]), actual)
    leveled = any(choices[name].level for name in streams)
    found: float | None = None
    tried: list[tuple[float, float]] = []  # (MAE, total error) per weight tried
    for weight in (0.0, *LEVEL_WEIGHTS) if leveled else (0.0,):
        mae, error = _sum_scores(choices, streams, ks, actual, weight)
        tried.append((mae, error))
        if abs(error) <= abs(naive_error) + 1e-12 and mae <= naive_mae + 1e-12:
            found = weight
            break
    if found == 0.0:
        return dict(choices)
    mae, error = tried[-1] if found is not None else tried[0]
    sums = {
        "revenue_mae": mae,
        "revenue_total_error": error,
        "revenue_naive_mae": naive_mae,
        "revenue_naive_total_error": naive_error,
        "revenue_run_rate_level_error": tried[0][1],
    }
    out = dict(choices)
    for name in streams:
        c = choices[name]
        if found is not None:
            figures = {**c.figures, **sums, **({"level_weight": found} if c.level else {})}
            out[name] = replace(c, figures=figures, level_weight=found if c.level else 0.0)
        else:  # no weight honours the rule: the run rate itself
            out[name] = ChosenForecast("naive", "run_rate_total", sums, c.scores, c.folds, c.level)
    return out


def _log_loss(p: NDArray[np.float64], y: NDArray[np.float64]) -> float:
    q = np.clip(p, 1e-6, 1.0 - 1e-6)
    return float(-np.mean(y * np.log(q) + (1.0 - y) * np.log(1.0 - q)))


def choose_churn(folds: list[Fold]) -> ChosenForecast:
    r"""P(no contract left at the horizon's end): the model's or the renewal-rate baseline's,
    chosen out of time.

    Each fold holds, for the accounts with a contract at its origin, the model's probability
    (``model``), the baseline's (``naive``: the churn rate per renewal decision so far,
    :math:`1 - (1 - \bar c)^{d_i}` with :math:`d_i` the renewals due in the horizon) and the
    outcome (``actual``, 1 churned). Over the pooled folds the model is kept only where it has
    both the lower Brier score :math:`\overline{(p - y)^2}` and the lower log loss
    :math:`-\overline{y \ln p + (1 - y) \ln (1 - p)}` (``p`` clipped to
    :math:`[10^{-6}, 1 - 10^{-6}]`); otherwise the baseline (``"renewal rate"``). Without a fold
    with contract holders the model is kept, and the reason says it could not be checked.
    """
    usable = [f for f in folds if len(f.actual)]
    if not usable:
        return ChosenForecast("model", "churn_unchecked", level=False)
    y = np.concatenate([f.actual for f in usable])
    scores = {}
    for name, key in (("model", "model"), ("renewal rate", "naive")):
        p = np.clip(np.concatenate([getattr(f, key) for f in usable]), 0.0, 1.0)
        scores[name] = {"brier": float(np.mean((p - y) ** 2)), "log_loss": _log_loss(p, y)}
    m, b = scores["model"], scores["renewal rate"]
    wins = m["brier"] < b["brier"] and m["log_loss"] < b["log_loss"]
    figures = {
        "brier": m["brier"],
        "log_loss": m["log_loss"],
        "base_brier": b["brier"],
        "base_log_loss": b["log_loss"],
        "accounts": float(len(y)),
    }
    name, code = ("model", "churn_model") if wins else ("renewal rate", "churn_base")
    return ChosenForecast(name, code, figures, scores, len(usable), False)
