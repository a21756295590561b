"""Backtest metrics: interval coverage."""

from __future__ import annotations

import numpy as np
import pytest

from tillage.models.evaluation import interval_coverage


def test_interval_coverage_counts_the_outcomes_inside_their_interval() -> None:
    low = np.array([0.0, 1.0, 2.0, np.nan])
    high = np.array([1.0, 2.0, 3.0, np.nan])
    actual = np.array([1.0, 5.0, 2.5, 1.0])
    # the bounds count as inside; accounts without an interval are left out
    assert interval_coverage(low, high, actual) == pytest.approx(2 / 3)
    assert np.isnan(interval_coverage([np.nan], [np.nan], [1.0]))
