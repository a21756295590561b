"""Backtest metrics: interval coverage."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tillage.errors import DataValidationError
from tillage.models.evaluation import interval_coverage, reliability_table


def test_interval_coverage_counts_the_outcomes_inside_their_interval() -> None:
    low = np.array([0.0, 1.0, 2.0, np.nan])
    high = np.array([1.0, 2.0, 3.0, np.nan])
    actual = np.array([1.0, 5.0, 2.5, 1.0])
    # the bounds count as inside; accounts without an interval are left out
    assert interval_coverage(low, high, actual) == pytest.approx(2 / 3)
    assert np.isnan(interval_coverage([np.nan], [np.nan], [1.0]))


def test_reliability_table_is_one_table_with_or_without_weights() -> None:
    """(probability, outcome) in that order, as brier_score; deciles lowest first."""
    p = np.array([0.1, 0.2, 0.8, 0.9, np.nan])
    y = np.array([0.0, 1.0, 1.0, 1.0, 0.0])
    table = reliability_table(p, y, bins=2)
    assert list(table.columns) == ["n", "predicted", "observed", "gap", "standard_error"]
    assert table.index.name == "decile" and list(table.index) == [1, 2]
    assert list(table["n"]) == [2, 2]  # the NaN pair is left out
    assert table.loc[1, "predicted"] == pytest.approx(0.15)
    assert table.loc[1, "observed"] == pytest.approx(0.5)
    assert table.loc[1, "gap"] == pytest.approx(0.35)
    assert table.loc[1, "standard_error"] == pytest.approx(np.sqrt(0.15 * 0.85 / 2))
    weighted = reliability_table(p, y, bins=2, weights=[3.0, 1.0, 1.0, 1.0, 1.0])
    assert weighted.loc[1, "n"] == pytest.approx(4.0)
    assert weighted.loc[1, "predicted"] == pytest.approx((0.3 + 0.2) / 4)
    assert weighted.loc[1, "observed"] == pytest.approx(0.25)
    empty = reliability_table([np.nan], [1.0])
    assert isinstance(empty, pd.DataFrame) and empty.empty
    with pytest.raises(DataValidationError, match="same length"):
        reliability_table([0.1, 0.2], [1.0])
