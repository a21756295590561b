"""Error metrics of forecasts against outcomes, and intervals of proportions.

* Probabilities ``p`` against 0/1 outcomes ``y`` (n events): expected events ``Σ p``, observed
  ``Σ y``, **Brier score** ``Σ (p − y)² / n`` (0 is perfect), its reference ``r (1 − r)`` with
  ``r = Σ y / n`` (the Brier score of forecasting the observed rate for everyone: a forecast is
  useful when it scores below it), and the **mean absolute error** ``Σ |p − y| / n``.
* Amounts (currency): total predicted and actual, error ``actual − predicted``, **MAE**
  ``Σ |predicted_i − actual_i| / n`` and **WAPE** ``Σ |predicted_i − actual_i| / Σ actual_i``.
* A proportion ``k / n`` with its **Wilson score interval**
  ``(p̂ + z²/2n ± z √(p̂(1 − p̂)/n + z²/4n²)) / (1 + z²/n)``, ``z`` the normal quantile of the
  level; the difference of two proportions with **Newcombe's hybrid score interval** (method 10
  of Newcombe 1998): ``d − √((p̂₁ − l₁)² + (u₂ − p̂₂)²)`` … ``d + √((u₁ − p̂₁)² + (p̂₂ − l₂)²)``.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike
from pydantic import BaseModel

from tillage.models.special import central_z


class ProbabilityCheck(BaseModel):
    """Forecast probabilities of an event against what happened."""

    n: int
    predicted_events: float
    actual_events: int
    predicted_rate: float | None
    actual_rate: float | None
    brier: float | None
    brier_reference: float | None
    mae: float | None


def probability_check(p: ArrayLike, y: ArrayLike) -> ProbabilityCheck:
    """Compare probabilities ``p`` with outcomes ``y`` (1 = the event happened)."""
    prob = np.asarray(p, dtype=float)
    out = np.asarray(y, dtype=float)
    n = len(prob)
    if n == 0:
        return ProbabilityCheck(
            n=0,
            predicted_events=0.0,
            actual_events=0,
            predicted_rate=None,
            actual_rate=None,
            brier=None,
            brier_reference=None,
            mae=None,
        )
    rate = float(out.mean())
    return ProbabilityCheck(
        n=n,
        predicted_events=float(prob.sum()),
        actual_events=int(out.sum()),
        predicted_rate=float(prob.mean()),
        actual_rate=rate,
        brier=float(np.mean((prob - out) ** 2)),
        brier_reference=rate * (1.0 - rate),
        mae=float(np.mean(np.abs(prob - out))),
    )


class AmountCheck(BaseModel):
    """Forecast amounts (company currency) against actual amounts, per account."""

    n: int
    predicted: float
    actual: float
    error: float
    mae: float | None
    wape: float | None


def amount_check(predicted: ArrayLike, actual: ArrayLike) -> AmountCheck:
    """Compare per-account predicted amounts with actual ones (see the module docstring)."""
    pred = np.asarray(predicted, dtype=float)
    act = np.asarray(actual, dtype=float)
    abs_err = np.abs(pred - act)
    total = float(act.sum())
    return AmountCheck(
        n=len(pred),
        predicted=float(pred.sum()),
        actual=total,
        error=total - float(pred.sum()),
        mae=float(abs_err.mean()) if len(pred) else None,
        wape=float(abs_err.sum() / total) if total > 0 else None,
    )


class Proportion(BaseModel):
    """``successes`` of ``n`` with the Wilson interval ``low`` … ``high`` (fractions)."""

    n: int
    successes: int
    rate: float | None
    low: float | None
    high: float | None


def wilson(successes: int, n: int, level: float = 0.95) -> Proportion:
    """The proportion ``successes / n`` with its Wilson score interval at ``level``."""
    if n == 0:
        return Proportion(n=0, successes=0, rate=None, low=None, high=None)
    z = central_z(level)
    p = successes / n
    centre = p + z * z / (2 * n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    scale = 1 + z * z / n
    return Proportion(
        n=n,
        successes=successes,
        rate=p,
        low=max((centre - half) / scale, 0.0),
        high=min((centre + half) / scale, 1.0),
    )


def newcombe(
    first: Proportion, second: Proportion
) -> tuple[float | None, float | None, float | None]:
    """``(d, low, high)``: the difference ``first − second`` of two Wilson proportions (at the
    level they were computed at) with Newcombe's hybrid score interval; Nones when one is
    empty."""
    if first.rate is None or second.rate is None:
        return None, None, None
    p1, l1, u1 = first.rate, first.low, first.high
    p2, l2, u2 = second.rate, second.low, second.high
    assert l1 is not None and u1 is not None and l2 is not None and u2 is not None
    d = p1 - p2
    return (
        d,
        d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2),
        d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2),
    )
