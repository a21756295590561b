"""Real-shaped inputs the models must take without aborting a run: T = 0, zero and negative
spend, a very heavy buyer, and a likelihood whose maximum lies on the boundary."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from tillage.errors import BoundaryWarning, ConvergenceError, DataValidationError, DataWarning
from tillage.models import BetaGeoModel, GammaGammaModel, ParetoNBDModel

PURCHASE_MODELS = [BetaGeoModel, ParetoNBDModel]


def _with_edge_rows(cdnow: pd.DataFrame) -> pd.DataFrame:
    """CDNOW plus two customers who first bought on the calibration-end day (T = 0) and one
    who bought 200 times."""
    extra = pd.DataFrame(
        {"frequency": [0.0, 0.0, 200.0], "recency": [0.0, 0.0, 38.5], "T": [0.0, 0.0, 38.86]},
        index=pd.Index([90001, 90002, 90003], name=cdnow.index.name),
    )
    return pd.concat([cdnow, extra])


@pytest.mark.parametrize("model_class", PURCHASE_MODELS)
def test_t_zero_and_a_heavy_buyer_are_valid_histories(
    model_class: type[BetaGeoModel] | type[ParetoNBDModel], cdnow_summary: pd.DataFrame
) -> None:
    frame = _with_edge_rows(cdnow_summary)
    plain = model_class().fit(cdnow_summary)
    # a T = 0 history has likelihood 1 (nothing observed yet): it leaves the estimate alone
    t_zero = model_class().fit(frame.drop(index=[90003]))
    for name, value in plain.params_.items():
        assert t_zero.params_[name] == pytest.approx(value, rel=1e-5)
    model = model_class().fit(frame)
    # one heavy buyer among 2,357 moves the estimate (the dropout side is loosely identified),
    # but does not throw it off
    for name, value in plain.params_.items():
        assert model.params_[name] == pytest.approx(value, rel=0.5)
    alive = model.conditional_probability_alive(frame)
    expected = model.conditional_expected_purchases(39.0, frame)
    assert np.isfinite(alive).all() and np.isfinite(expected).all()
    assert alive.loc[90001] == pytest.approx(1.0)  # nobody can have left before being seen
    # a new customer is expected to buy as the population does
    assert expected.loc[90001] == pytest.approx(model.expected_purchases_new_customer(39.0), 1e-6)
    # the heavy buyer, active to the end, is expected to keep buying at about 200/39 a week
    assert expected.loc[90003] > 100


@pytest.mark.parametrize("model_class", PURCHASE_MODELS)
def test_negative_t_is_still_refused_with_the_row(
    model_class: type[BetaGeoModel] | type[ParetoNBDModel],
) -> None:
    frame = pd.DataFrame({"frequency": [0.0, 1.0], "recency": [0.0, -1.0], "T": [-2.0, 3.0]})
    with pytest.raises(DataValidationError, match="'T'") as info:
        model_class().fit(frame)
    assert any(p.column == "T" for p in info.value.problems)


def test_gamma_gamma_leaves_out_zero_and_negative_spend_and_names_them(
    cdnow_spend: pd.DataFrame,
) -> None:
    frame = cdnow_spend.copy()
    repeaters = frame.index[frame["frequency"] > 0]
    zero, negative = repeaters[0], repeaters[1]
    frame.loc[zero, "monetary_value"] = 0.0  # free items only
    frame.loc[negative, "monetary_value"] = -12.5  # returns exceeding the repeat orders
    with pytest.warns(DataWarning, match=r"2 of 2357 row\(s\) left out") as record:
        model = GammaGammaModel().fit(frame)
    assert str(zero) in str(record[0].message)
    assert sorted(model.excluded_.index) == sorted([zero, negative])
    # the estimate is the one without those customers
    reference = GammaGammaModel().fit(frame.drop(index=[zero, negative]))
    for name, value in reference.params_.items():
        assert model.params_[name] == pytest.approx(value, rel=1e-6)
    value = model.conditional_expected_average_profit(frame)
    assert np.isnan(value.loc[zero]) and np.isnan(value.loc[negative])
    others = value.drop(index=[zero, negative])
    assert np.isfinite(others).all() and (others > 0).all()


def test_gamma_gamma_on_clean_data_warns_nothing(cdnow_spend: pd.DataFrame) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataWarning)
        model = GammaGammaModel().fit(cdnow_spend)
    assert model.excluded_.empty


def _no_drop_outs() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {
            "frequency": rng.integers(1, 20, 200).astype(float),
            "recency": 40.0 - rng.uniform(0, 0.01, 200),
            "T": 40.0,
        }
    )


@pytest.mark.parametrize("model_class", PURCHASE_MODELS)
def test_boundary_maximum_is_reported_when_accepted(
    model_class: type[BetaGeoModel] | type[ParetoNBDModel],
) -> None:
    frame = _no_drop_outs()
    with pytest.raises(ConvergenceError, match="too little information"):
        model_class().fit(frame)
    with pytest.warns(BoundaryWarning, match="edge of the parameter space") as record:
        model = model_class(boundary="accept").fit(frame)
    assert model.boundary_, "the parameters on the edge are listed"
    assert all(name in str(record[0].message) for name in model.boundary_)
    assert all(np.isnan(model.standard_errors_[n]) for n in model.boundary_) or any(
        abs(np.log(model.params_[n])) > 20 for n in model.boundary_
    )
    alive = model.conditional_probability_alive(frame)
    assert (alive > 0.95).all()  # the boundary solution says: nobody drops out
    expected = model.conditional_expected_purchases(10.0, frame)
    r, alpha = model.params_["r"], model.params_["alpha"]
    # with nobody leaving, a customer buys at the posterior mean of their Poisson rate
    rate = (r + frame["frequency"]) / (alpha + frame["T"])
    assert np.allclose(expected, 10.0 * rate, rtol=0.02)


def test_interior_maximum_has_no_boundary(cdnow_summary: pd.DataFrame) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", BoundaryWarning)
        model = BetaGeoModel(boundary="accept").fit(cdnow_summary)
    assert model.boundary_ == []
    assert model.params_["r"] == pytest.approx(0.243, abs=5e-4)  # Fader, Hardie & Lee (2005)


def test_unknown_boundary_setting_is_refused(cdnow_summary: pd.DataFrame) -> None:
    with pytest.raises(DataValidationError, match="boundary must be"):
        BetaGeoModel(boundary="ignore").fit(cdnow_summary)
