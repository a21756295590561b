"""``forecast_clv``: the model choice, the spend-free fallback and the notes it returns."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tillage.errors import ConvergenceError, DataValidationError
from tillage.models import BetaGeoModel, ParetoNBDModel
from tillage.models.clv import customer_lifetime_value, forecast_clv


def _codes(forecast) -> list[str]:  # type: ignore[no-untyped-def]
    return [note.code for note in forecast.notes]


def test_auto_keeps_the_higher_likelihood(cdnow_spend: pd.DataFrame) -> None:
    forecast = forecast_clv(cdnow_spend, model="auto", horizon=39, discount_rate=0.0)
    assert forecast.chosen == "bgnbd"  # -9582.4 against -9595.0 on CDNOW
    assert forecast.fits["pareto"]["log_likelihood"] < forecast.fits["bgnbd"]["log_likelihood"]
    assert _codes(forecast) == ["chosen"]
    expected = BetaGeoModel().fit(cdnow_spend).conditional_expected_purchases(39.0, cdnow_spend)
    pd.testing.assert_series_equal(forecast.frame["expected_purchases"], expected)


def test_named_model_is_the_one_used(cdnow_spend: pd.DataFrame) -> None:
    forecast = forecast_clv(cdnow_spend, model="pareto", horizon=10, discount_rate=0.001)
    assert forecast.chosen == "pareto" and isinstance(forecast.purchases, ParetoNBDModel)
    assert "bgnbd" not in forecast.fits
    clv = customer_lifetime_value(
        forecast.purchases, forecast.spend, cdnow_spend, horizon=10, discount_rate=0.001
    )
    np.testing.assert_allclose(forecast.frame["clv"], clv)


def test_auto_falls_back_and_says_so(
    cdnow_spend: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(self, frame):  # type: ignore[no-untyped-def]
        raise ConvergenceError("ParetoNBDModel: refused for the test")

    monkeypatch.setattr(ParetoNBDModel, "fit", refuse)
    forecast = forecast_clv(cdnow_spend, model="auto", horizon=5, discount_rate=0.0)
    assert forecast.chosen == "bgnbd"
    assert _codes(forecast) == ["model_failed", "fell_back"]
    assert forecast.notes[1].values == {"model": "Pareto/NBD", "chosen": "BG/NBD"}
    assert forecast.fits["pareto"] == {"error": "ParetoNBDModel: refused for the test"}
    with pytest.raises(ConvergenceError, match="try --model auto"):
        forecast_clv(cdnow_spend, model="pareto", horizon=5, discount_rate=0.0)


def test_spend_free_forecast_without_a_spend_model(cdnow_spend: pd.DataFrame) -> None:
    few = cdnow_spend.copy()
    repeaters = few.index[few["frequency"] > 0]
    few.loc[repeaters[2:], "monetary_value"] = 0.0  # two repeat buyers with a positive spend
    forecast = forecast_clv(few, model="bgnbd", horizon=39, discount_rate=0.0)
    assert forecast.spend is None and _codes(forecast) == ["no_spend_model"]
    assert "only 2 repeat buyer(s)" in forecast.notes[0].values["reason"]
    assert forecast.frame["clv"].isna().all()
    assert (forecast.frame["note"] == "no_spend_model").all()
    assert forecast.frame["expected_purchases"].notna().all()  # purchase counts need no spend
    assert forecast.frame["p_alive"].between(0, 1).all()
    # and a summary without any spend column needs no spend model at all
    counts = forecast_clv(
        cdnow_spend.drop(columns="monetary_value"), model="bgnbd", horizon=39, discount_rate=0.0
    )
    assert counts.spend is None and counts.frame["expected_purchases"].notna().all()


def test_customers_outside_the_spend_model_are_blank_and_noted(cdnow_spend: pd.DataFrame) -> None:
    frame = cdnow_spend.copy()
    repeaters = frame.index[frame["frequency"] > 0]
    frame.loc[repeaters[0], "monetary_value"] = -40.0  # returns exceeding the repeat orders
    forecast = forecast_clv(frame, model="bgnbd", horizon=39, discount_rate=0.0)
    row = forecast.frame.loc[repeaters[0]]
    assert np.isnan(row["clv"]) and row["note"] == "spend_not_positive"
    assert (forecast.frame["clv"].dropna() >= 0).all()
    excluded = [n for n in forecast.notes if n.code == "rows_excluded"]
    assert excluded and excluded[0].values["n"] == 1
    assert excluded[0].values["first"] == str(repeaters[0])


def test_unknown_model_is_refused(cdnow_spend: pd.DataFrame) -> None:
    with pytest.raises(DataValidationError, match="bgnbd, pareto, auto"):
        forecast_clv(cdnow_spend, model="lifetimes", horizon=1, discount_rate=0.0)  # type: ignore[arg-type]
