"""Backtest metrics: errors of amounts and counts, calibration of probabilities, ranking quality.

Pure functions of predictions and outcomes (arrays or Series); no model, no data access.

* :func:`errors` — MAE and RMSE per account, and the total predicted vs the total actual;
* :func:`brier_score` — mean squared difference between probability and 0/1 outcome (0 is
  perfect; predicting the base rate ``y`` scores ``y (1 − y)``);
* :func:`reliability_table` — accounts grouped into deciles of the predicted probability, with
  the mean prediction and the observed rate per group (calibrated: the two agree);
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
from scipy.stats import spearmanr

__all__ = [
    "brier_score",
    "errors",
    "interval_coverage",
    "reliability_table",
    "spearman",
    "top_decile_capture",
]


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


def reliability_table(probability: ArrayLike, outcome: ArrayLike, bins: int = 10) -> pd.DataFrame:
    """One row per decile of the prediction: ``n``, ``predicted`` (mean), ``observed`` (rate),
    ``gap`` (observed − predicted). Ties may make fewer than ``bins`` groups."""
    p, y = _pair(probability, outcome)
    if not len(p):
        return pd.DataFrame(columns=["n", "predicted", "observed", "gap"])
    rank = pd.Series(p).rank(method="first").to_numpy()
    group = np.minimum(((rank - 1) * bins / len(p)).astype(int), bins - 1)
    table = (
        pd.DataFrame({"group": group + 1, "p": p, "y": y})
        .groupby("group")
        .agg(n=("p", "size"), predicted=("p", "mean"), observed=("y", "mean"))
    )
    table["gap"] = table["observed"] - table["predicted"]
    table.index.name = "decile"
    return table


def spearman(predicted: ArrayLike, actual: ArrayLike) -> float:
    """Spearman rank correlation (NaN when either side is constant)."""
    p, y = _pair(predicted, actual)
    if len(p) < 3 or np.ptp(p) == 0 or np.ptp(y) == 0:
        return np.nan
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


def interval_coverage(low: ArrayLike, high: ArrayLike, actual: ArrayLike) -> float:
    """Share of the accounts with a known interval whose ``actual`` lies in ``[low, high]``."""
    lo = np.asarray(low, dtype=float)
    hi = np.asarray(high, dtype=float)
    y = np.asarray(actual, dtype=float)
    keep = np.isfinite(lo) & np.isfinite(hi) & np.isfinite(y)
    if not keep.any():
        return np.nan
    return float(np.mean((y[keep] >= lo[keep] - 1e-9) & (y[keep] <= hi[keep] + 1e-9)))
