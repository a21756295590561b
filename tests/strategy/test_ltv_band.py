"""The LTV interval carries the next year's band over outcomes, also where the chosen forecast
is 0 (:func:`tillage.strategy.revenue_forecast.ltv_band`)."""

from __future__ import annotations

import numpy as np
import pytest

from tillage.strategy.revenue_forecast import ltv_band


def test_a_positive_forecast_widens_the_ltv_by_its_own_band() -> None:
    low, high = ltv_band([1000.0], [950.0], [1050.0], [200.0], [300.0], [50.0], [500.0])
    # the share of the chosen forecast: 0.25 and 2.5
    assert low.tolist() == [250.0] and high.tolist() == [2500.0]


def test_a_zero_forecast_reads_its_band_against_the_models_own() -> None:
    # no revenue in the run rate's window: the chosen forecast is 0, its interval [0, 1031] in
    # amounts; the LTV (541, bootstrap 519-575: the parameters' few per cent) is the model's
    low, high = ltv_band([541.0], [519.0], [575.0], [0.0], [298.0], [0.0], [1031.0])
    assert low.tolist() == [0.0]
    assert high[0] == pytest.approx(541.0 * 1031.0 / 298.0)
    assert (high[0] - low[0]) / 541.0 > 1.0  # an interval over outcomes, not a few per cent


def test_nothing_forecast_anywhere_keeps_the_bootstrap_interval() -> None:
    low, high = ltv_band(
        np.array([0.0, 10.0]),
        [0.0, 9.0],
        [0.0, 11.0],
        [0.0, 0.0],
        [0.0, 0.0],
        [0.0, 0.0],
        [0.0, 80.0],
    )
    assert low.tolist() == [0.0, 9.0] and high.tolist() == [0.0, 11.0]


def test_a_negative_ltv_whose_band_reaches_zero_ends_at_zero_not_minus_zero() -> None:
    # cost to serve above the margin: a negative LTV; the revenue's band reaches 0
    low, high = ltv_band([-600.0], [-650.0], [-550.0], [380.0], [340.0], [0.0], [760.0])
    assert low[0] == pytest.approx(-1200.0)
    assert high[0] == 0.0 and not np.signbit(high[0])
    assert f"{high[0]:,.0f}" == "0"
