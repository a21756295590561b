"""Backtest metrics: errors of amounts and counts, calibration of probabilities, ranking quality.

Pure functions of predictions and outcomes (arrays or Series); no model, no data access.

* :func:`errors` — MAE and RMSE per account, and the total predicted vs the total actual;
* :func:`brier_score` — mean squared difference between probability and 0/1 outcome (0 is
  perfect; predicting the base rate ``y`` scores ``y (1 − y)``);
* :func:`reliability_table` — accounts (or weighted deals) grouped into deciles of the predicted
  probability, with the mean prediction, the observed rate and its standard error per group
  (calibrated: the two agree); the one reliability table of every backtest;
* :func:`interval_coverage` — the share of realised values inside their interval
  ``[low, high]`` (a nominal 80 % interval should cover about 0.8);
* :func:`spearman` — rank correlation between prediction and outcome;
* :func:`top_decile_capture` — the share of the total realised value that sits in the 10 % of
  accounts ranked highest by the prediction (1 is the most any ranking can reach only when
  value is concentrated; compare with the oracle, the same share ranked by the outcome itself).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from tillage.errors import DataValidationError

__all__ = [
    "brier_score",
    "errors",
    "interval_coverage",
    "reliability_table",
    "spearman",
    "top_decile_capture",
]

_EPS = 1e-6
"""The smallest variance p(1 − p) a standard error is computed with."""


def _pair(predicted: ArrayLike, actual: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    p = np.asarray(predicted, dtype=float)
    y = np.asarray(actual, dtype=float)
    keep = np.isfinite(p) & np.isfinite(y)
    return p[keep], y[keep]


def errors(predicted: ArrayLike, actual: ArrayLike) -> dict[str, float]:
    """``mae``, ``rmse``, ``total_predicted``, ``total_actual``, ``total_error`` (relative)."""
    p, y = _pair(predicted, actual)
    total_p, total_y = float(p.sum()), float(y.sum())
    return {
        "mae": float(np.mean(np.abs(p - y))) if len(p) else np.nan,
        "rmse": float(np.sqrt(np.mean((p - y) ** 2))) if len(p) else np.nan,
        "total_predicted": total_p,
        "total_actual": total_y,
        "total_error": (total_p - total_y) / total_y if total_y else np.nan,
    }


def brier_score(probability: ArrayLike, outcome: ArrayLike) -> float:
    """Mean of ``(p − y)²`` over the pairs where both are known."""
    p, y = _pair(probability, outcome)
    return float(np.mean((p - y) ** 2)) if len(p) else np.nan


def reliability_table(
    probability: ArrayLike,
    outcome: ArrayLike,
    *,
    bins: int = 10,
    weights: ArrayLike | None = None,
) -> pd.DataFrame:
    """The pairs where both are known, cut into ``bins`` equal-count groups of the predicted
    probability (deciles by default; ties broken by input order), lowest first, indexed by
    ``decile`` 1..bins: ``n`` (count, or total weight), ``predicted`` (weighted mean
    probability), ``observed`` (weighted outcome rate), ``gap`` (observed − predicted) and
    ``standard_error`` of the observed rate (binomial at the predicted rate, √(p(1−p)/n)).
    Fewer than ``bins`` rows when there are fewer pairs; no rows when there are none."""
    p = np.asarray(probability, dtype=float)
    y = np.asarray(outcome, dtype=float)
    w = np.ones_like(p) if weights is None else np.asarray(weights, dtype=float)
    if not (p.shape == y.shape == w.shape):
        raise DataValidationError("probabilities, outcomes and weights must have the same length")
    keep = np.isfinite(p) & np.isfinite(y)
    p, y, w = p[keep], y[keep], w[keep]
    columns = ["n", "predicted", "observed", "gap", "standard_error"]
    if not len(p):
        return pd.DataFrame(columns=columns).rename_axis("decile")
    group = np.empty(len(p), dtype=int)
    group[np.argsort(p, kind="stable")] = np.minimum((np.arange(len(p)) * bins) // len(p), bins - 1)
    rows = {}
    for g in np.unique(group):
        m = group == g
        n = float(w[m].sum())
        predicted = float(np.sum(w[m] * p[m]) / n)
        observed = float(np.sum(w[m] * y[m]) / n)
        rows[int(g) + 1] = {
            "n": n if weights is not None else int(m.sum()),
            "predicted": predicted,
            "observed": observed,
            "gap": observed - predicted,
            "standard_error": float(np.sqrt(max(predicted * (1 - predicted), _EPS) / n)),
        }
    return pd.DataFrame.from_dict(rows, orient="index", columns=columns).rename_axis("decile")


def spearman(predicted: ArrayLike, actual: ArrayLike) -> float:
    """Spearman rank correlation (NaN when either side is constant)."""
    p, y = _pair(predicted, actual)
    if len(p) < 3 or np.ptp(p) == 0 or np.ptp(y) == 0:
        return np.nan
    from scipy.stats import spearmanr  # here, not with the module: scipy.stats takes 0.3 s

    return float(spearmanr(p, y).statistic)


def top_decile_capture(score: ArrayLike, value: ArrayLike, share: float = 0.1) -> float:
    """Share of the total ``value`` realised by the top ``share`` of accounts by ``score``
    (ties in the score broken by the order of the input)."""
    s, v = _pair(score, value)
    total = v.sum()
    if not len(s) or total == 0:
        return np.nan
    top = np.argsort(-s, kind="stable")[: max(1, round(share * len(s)))]
    return float(v[top].sum() / total)


def interval_coverage(
    low: ArrayLike, high: ArrayLike, actual: ArrayLike, zero_inclusion: ArrayLike | None = None
) -> float:
    """Share of the accounts with a known interval whose ``actual`` lies in ``[low, high]``.

    With ``zero_inclusion`` (per account, the probability that a realised 0 counts as inside:
    the interval randomised at the atom 0, :meth:`tillage.models.forecast.IntervalTable.
    zero_inclusion`) a realised 0 inside its interval counts as that probability — the
    randomised coverage of discrete outcomes."""
    lo = np.asarray(low, dtype=float)
    hi = np.asarray(high, dtype=float)
    y = np.asarray(actual, dtype=float)
    keep = np.isfinite(lo) & np.isfinite(hi) & np.isfinite(y)
    if not keep.any():
        return np.nan
    inside = ((y[keep] >= lo[keep] - 1e-9) & (y[keep] <= hi[keep] + 1e-9)).astype(float)
    if zero_inclusion is not None:
        weight = np.nan_to_num(np.asarray(zero_inclusion, dtype=float)[keep], nan=1.0)
        inside = np.where(y[keep] == 0.0, inside * weight, inside)
    return float(np.mean(inside))
