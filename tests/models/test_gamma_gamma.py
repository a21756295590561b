"""Gamma-Gamma on the CDNOW repeat buyers against Fader, Hardie & Lee (2005), "RFM and CLV:
Using Iso-Value Curves for Customer Base Analysis", JMR 42(4): p = 6.25, q = 3.74, v = 15.44."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tillage.models import GammaGammaModel


@pytest.fixture(scope="module")
def fitted(cdnow_spend: pd.DataFrame) -> GammaGammaModel:
    return GammaGammaModel().fit(cdnow_spend)


def test_cdnow_parameters(fitted: GammaGammaModel) -> None:
    assert fitted.n_customers_ == 946  # rows with frequency 0 are ignored
    assert fitted.params_["p"] == pytest.approx(6.25, abs=0.005)
    assert fitted.params_["q"] == pytest.approx(3.74, abs=0.005)
    # we find 15.448; the paper prints 15.44 (lifetimes prints 15.45)
    assert fitted.params_["v"] == pytest.approx(15.44, abs=0.01)


def test_expected_average_profit(fitted: GammaGammaModel, cdnow_spend: pd.DataFrame) -> None:
    out = fitted.conditional_expected_average_profit(cdnow_spend)
    assert out.index.equals(cdnow_spend.index)
    p, q, v = (fitted.params_[k] for k in "pqv")
    non_repeat = cdnow_spend["frequency"] == 0
    np.testing.assert_allclose(out[non_repeat], p * v / (q - 1))
    # a weighted average of the population mean and the customer's own mean
    repeat = ~non_repeat
    own = cdnow_spend.loc[repeat, "monetary_value"]
    low = np.minimum(own, p * v / (q - 1))
    high = np.maximum(own, p * v / (q - 1))
    assert ((out[repeat] >= low - 1e-9) & (out[repeat] <= high + 1e-9)).all()


def test_independence_check(fitted: GammaGammaModel, cdnow_spend: pd.DataFrame) -> None:
    check = fitted.frequency_monetary_correlation(cdnow_spend)
    assert check.n == 946
    assert check.correlation == pytest.approx(0.11, abs=0.01)  # FHL 2005 report r = 0.11
    assert not check.warning
    dependent = cdnow_spend.assign(monetary_value=cdnow_spend["frequency"] * 10.0 + 1.0)
    assert GammaGammaModel().frequency_monetary_correlation(dependent).warning
