"""Values of young accounts (cohort average with its spread) and of lost customers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tillage.models.ltv.cohorts import cohort_values, lost_values, p_return
from tillage.models.ltv.pieces import not_fitted


def test_cohort_values_carry_the_spread_of_the_young_accounts() -> None:
    ltv = np.arange(1.0, 101.0)
    young = ltv <= 50
    segments = np.where(ltv % 2 == 0, "even", "odd")
    table = cohort_values(ltv, young, segments, 0.8)
    assert table.mean["all"] == pytest.approx(25.5)
    assert table.low["all"] == pytest.approx(np.quantile(ltv[young], 0.1))
    assert table.high["all"] == pytest.approx(np.quantile(ltv[young], 0.9))
    mean, low, high = table.lookup(np.array(["even", "unknown"]))
    assert mean[0] == pytest.approx(26.0)  # 2, 4, ..., 50
    assert mean[1] == pytest.approx(25.5)  # an unknown segment gets the pooled cohort
    assert np.all(low < mean) and np.all(mean < high)


def test_a_lost_customer_is_worth_a_possible_return_near_zero() -> None:
    table = cohort_values(np.full(20, 1000.0), np.ones(20, dtype=bool), np.full(20, "all"), 0.9)
    # 2 of 98 lost customers came back within a year: p = 3 / 100
    assert p_return((2, 98)) == pytest.approx(0.03)
    value, low, high = lost_values(table, np.array(["all"]), (2, 98), 0.9)
    assert value[0] == pytest.approx(30.0)
    assert low[0] == 0.0
    assert 30.0 < high[0] < 1000.0
    # without any lost customer to learn from, the prior (1/2) says "unknown": a wide interval
    value, low, high = lost_values(table, np.array(["all"]), (0, 0), 0.9)
    assert value[0] == pytest.approx(500.0) and high[0] > 900.0


def test_not_fitted_names_each_missing_piece_with_its_reason() -> None:
    buyers = pd.DataFrame({"frequency": [0, 1, 2]})
    out = not_fitted(None, None, None, buyers, 20)
    assert set(out) == {"renewal_churn", "bg_nbd"}
    assert "3 buyers, 2 with repeat orders" in out["bg_nbd"]
    out = not_fitted(object(), object(), None, buyers, 20)
    assert set(out) == {"gamma_gamma"}
    assert not_fitted(object(), object(), object(), buyers, 20) == {}
