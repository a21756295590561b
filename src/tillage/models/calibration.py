"""How good are predicted probabilities? Brier score, log loss and AUC.

* **Brier score** — the mean squared difference between the predicted probability and the 0/1
  outcome (lower is better; always predicting the base rate ``r`` scores ``r(1 − r)``).
* **Log loss** — the mean negative log-likelihood of the outcomes (lower is better); punishes
  confident mistakes hard.
* **AUC** — the probability that a random won deal is ranked above a random lost one (0.5 is a
  coin, 1 perfect); it measures ranking only, not calibration.
* **Reliability table** — :func:`tillage.models.evaluation.reliability_table`, the one table of
  every backtest: predictions cut into deciles, the mean predicted probability next to the
  observed rate. A calibrated model has the two within sampling error in every row.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from tillage.errors import DataValidationError

__all__ = ["compare_probabilities", "probability_scores"]

_EPS = 1e-6


def _arrays(y: ArrayLike, p: ArrayLike, weights: ArrayLike | None):  # type: ignore[no-untyped-def]
    y = np.asarray(y, dtype=float)
    p = np.asarray(p, dtype=float)
    w = np.ones_like(y) if weights is None else np.asarray(weights, dtype=float)
    if not (y.shape == p.shape == w.shape):
        raise DataValidationError("outcomes, probabilities and weights must have the same length")
    keep = np.isfinite(y) & np.isfinite(p)
    return y[keep], p[keep], w[keep]


def _auc(y: np.ndarray, p: np.ndarray, w: np.ndarray) -> float:
    if np.unique(y).size < 2:
        return float("nan")
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(y, p, sample_weight=w))


def probability_scores(
    y: ArrayLike, p: ArrayLike, weights: ArrayLike | None = None
) -> dict[str, float]:
    """``n``, ``observed`` rate, ``mean_predicted``, ``brier``, ``log_loss`` and ``auc``."""
    y, p, w = _arrays(y, p, weights)
    total = max(float(w.sum()), _EPS)
    q = np.clip(p, _EPS, 1 - _EPS)
    return {
        "n": float(w.sum()),
        "observed": float(np.sum(w * y) / total),
        "mean_predicted": float(np.sum(w * p) / total),
        "brier": float(np.sum(w * (p - y) ** 2) / total),
        "log_loss": float(-np.sum(w * (y * np.log(q) + (1 - y) * np.log(1 - q))) / total),
        "auc": _auc(y, p, w),
    }


def compare_probabilities(
    y: ArrayLike, predictions: Mapping[str, ArrayLike], weights: ArrayLike | None = None
) -> pd.DataFrame:
    """One row of :func:`probability_scores` per method, on the rows every method predicts."""
    y = np.asarray(y, dtype=float)
    keep = np.isfinite(y)
    for p in predictions.values():
        keep &= np.isfinite(np.asarray(p, dtype=float))
    w = None if weights is None else np.asarray(weights, dtype=float)[keep]
    rows = {
        name: probability_scores(y[keep], np.asarray(p, dtype=float)[keep], w)
        for name, p in predictions.items()
    }
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("method")
