"""Margin rates by product family, weighted by the account's revenue mix."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tillage.errors import DataValidationError
from tillage.models.ltv.margins import margin_rates

MARGINS = {"default": 0.5, "licence": 0.9, "hardware": 0.2}


def test_rates_are_revenue_weighted_family_margins() -> None:
    frame = pd.DataFrame({"account_id": [1, 2, 3], "order_margin_rate": [np.nan, 0.33, np.nan]})
    mix = pd.DataFrame(
        {
            "account_id": [1, 1, 2, 2, 1],
            "stream": ["contract", "contract", "order", "contract", "order"],
            "family": ["licence", "hardware", "hardware", "unknown", "licence"],
            "amount": [300.0, 100.0, 50.0, 10.0, 80.0],
        }
    )
    rates = margin_rates(frame, mix, MARGINS, 0.6)
    assert rates["contract"][0] == pytest.approx((300 * 0.9 + 100 * 0.2) / 400)
    assert rates["contract"][1] == pytest.approx(0.5)  # a family not listed: the default
    assert rates["contract"][2] == pytest.approx(0.5)  # no mix: the default
    assert rates["order"][0] == pytest.approx(0.9)
    assert rates["order"][1] == pytest.approx(0.33)  # an observed rate wins
    without = margin_rates(frame, mix, None, 0.6)
    np.testing.assert_allclose(without["contract"], 0.6)


def test_bad_mix_is_named() -> None:
    frame = pd.DataFrame({"account_id": [1]})
    mix = pd.DataFrame({"account_id": [1], "stream": ["rent"], "family": ["x"], "amount": [1.0]})
    with pytest.raises(DataValidationError, match="stream"):
        margin_rates(frame, mix, MARGINS, 0.6)
