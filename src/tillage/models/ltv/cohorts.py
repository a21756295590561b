r"""Values of accounts the models cannot value one by one: young accounts and lost customers.

* **Cohort average** (no history at all): the mean LTV of the young accounts (tenure at most
  ``cohort_months``) of the same segment, or of all of them; the interval is the central
  ``interval`` share of those accounts' LTVs — the spread of what such an account turns out to
  be worth, not a zero-width point.
* **Lost customers** (a contract once, none running, never an order): the value of a possible
  return. With ``k`` of ``n`` earlier lost customers who came back within a year, the chance is
  the Beta(1, 1) posterior :math:`p \sim \mathrm{Beta}(k + 1, n - k + 1)`, mean
  :math:`\hat p = (k + 1)/(n + 2)`; the value is :math:`\hat p\,\overline{\mathrm{LTV}}` (the
  cohort average) and its interval runs from 0 (no return, the likeliest outcome) to the
  posterior's upper quantile of ``p`` times the cohort's upper quantile.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy.special import betaincinv

__all__ = ["CohortValues", "cohort_values", "lost_values", "p_return"]


class CohortValues:
    """Per segment (and ``"all"``): the ``mean`` LTV of the young accounts and the ``low`` /
    ``high`` quantiles of their spread."""

    def __init__(self, mean: pd.Series, low: pd.Series, high: pd.Series) -> None:
        self.mean, self.low, self.high = mean, low, high

    @staticmethod
    def _fill(segments: NDArray, table: pd.Series) -> NDArray[np.float64]:
        return pd.Series(segments).map(table).fillna(table.get("all", 0.0)).to_numpy(dtype=float)

    def lookup(
        self, segments: NDArray
    ) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
        """``(mean, low, high)`` for accounts of ``segments`` (unknown segments: ``"all"``)."""
        return (
            self._fill(segments, self.mean),
            self._fill(segments, self.low),
            self._fill(segments, self.high),
        )


def cohort_values(
    ltv: NDArray[np.float64], young: NDArray[np.bool_], segments: NDArray, interval: float
) -> CohortValues:
    """The cohort table of the accounts marked ``young`` (see the module docstring)."""
    tail = (1.0 - interval) / 2.0
    pooled = ltv[young]
    groups = pd.Series(pooled).groupby(segments[young])
    out = []
    for stat in ("mean", tail, 1.0 - tail):
        table = groups.mean() if stat == "mean" else groups.quantile(stat)
        if not len(pooled):
            table.loc["all"] = 0.0
        elif stat == "mean":
            table.loc["all"] = float(np.mean(pooled))
        else:
            table.loc["all"] = float(np.quantile(pooled, stat))
        out.append(table.astype(float).rename("cohort_ltv"))
    return CohortValues(*out)


def p_return(returns: tuple[int, int]) -> float:
    """Posterior mean chance of a return, ``(k + 1) / (n + 2)``."""
    came_back, lost = returns
    return (came_back + 1.0) / (lost + 2.0)


def lost_values(
    cohort: CohortValues, segments: NDArray, returns: tuple[int, int], interval: float
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """``(value, low, high)`` of lost customers of ``segments`` (see the module docstring)."""
    came_back, lost = returns
    tail = (1.0 - interval) / 2.0
    p_high = float(betaincinv(came_back + 1.0, lost - came_back + 1.0, 1.0 - tail))
    mean, _low, high = cohort.lookup(segments)
    value = p_return(returns) * mean
    return value, np.minimum(0.0, value), np.maximum(p_high * np.maximum(high, 0.0), value)
