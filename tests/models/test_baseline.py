"""The naive LTV baseline: retention estimate and the discounted sum, by hand."""

from __future__ import annotations

import pandas as pd
import pytest

from tillage.errors import DataValidationError, NotFittedError
from tillage.models.baseline import NaiveLTV


def test_retention_and_ltv_by_hand() -> None:
    frame = pd.DataFrame(
        {"revenue_12m": [100.0, 0.0, 50.0, 10.0], "revenue_prior_12m": [80.0, 20.0, 0.0, 5.0]}
    )
    model = NaiveLTV(margin_rate=0.5, discount_rate=0.1, horizon_years=2).fit(frame)
    assert model.retention_ == pytest.approx(2 / 3)
    q = (2 / 3) / 1.1
    assert model.multiplier_ == pytest.approx(q + q**2)
    ltv = model.predict(frame)
    assert ltv.tolist() == pytest.approx(
        [0.5 * 100 * (q + q**2), 0, 0.5 * 50 * (q + q**2), 0.5 * 10 * (q + q**2)]
    )
    assert model.params()["retention"] == pytest.approx(2 / 3)


def test_unfitted_and_thin_data_are_refused() -> None:
    with pytest.raises(NotFittedError):
        NaiveLTV().predict(pd.DataFrame({"revenue_12m": [1.0]}))
    with pytest.raises(DataValidationError, match="two years"):
        NaiveLTV().fit(pd.DataFrame({"revenue_12m": [1.0], "revenue_prior_12m": [0.0]}))
    with pytest.raises(DataValidationError, match="revenue_prior_12m"):
        NaiveLTV().fit(pd.DataFrame({"revenue_12m": [1.0]}))
