"""The estimator contract, run over every model (scikit-learn's ``check_estimator`` idea, one
parametrised test per rule so a failure names the model)."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from tillage.errors import ConfigurationError, DataValidationError, NotFittedError
from tillage.models import (
    BetaGeoModel,
    GammaGammaModel,
    ParetoNBDModel,
    RenewalChurnModel,
    ShiftedBetaGeoModel,
)
from tillage.models._settings import EstimatorSettings
from tillage.models.account_ltv import AccountLTV
from tillage.models.base import BaseModel
from tillage.models.baseline import NaiveLTV
from tillage.models.expansion import ExpansionModel
from tillage.models.simulate import (
    simulate_beta_geo,
    simulate_gamma_gamma,
    simulate_shifted_beta_geo,
)
from tillage.models.win_probability import WinProbabilityModel

from .test_account_ltv import _accounts as ltv_accounts
from .test_account_ltv import _decisions as ltv_decisions
from .test_expansion import FEATURES as EXPANSION_FEATURES
from .test_expansion import accounts as expansion_accounts
from .test_win_probability import FEATURES as WIN_FEATURES
from .test_win_probability import deals


@dataclass(frozen=True)
class Spec:
    model: type[BaseModel]
    frame: Callable[[], pd.DataFrame]
    predict: Callable[[BaseModel, pd.DataFrame], pd.Series]
    columns: tuple[str, ...]


def _purchases() -> pd.DataFrame:
    frame = simulate_beta_geo(
        400, r=0.5, alpha=5.0, a=0.8, b=2.5, T=np.linspace(20, 40, 400), seed=7
    )
    frame["monetary_value"] = simulate_gamma_gamma(frame["frequency"], p=6, q=4, v=15, seed=8)
    frame.index = pd.Index([f"acct-{i:04d}" for i in range(len(frame))], name="account")
    return frame


def _contracts() -> pd.DataFrame:
    frame = simulate_shifted_beta_geo(400, gamma=0.7, delta=1.2, T=7, seed=9)
    frame.index = pd.Index([f"acct-{i:04d}" for i in range(len(frame))], name="account")
    return frame


SPECS = {
    "BetaGeoModel": Spec(
        BetaGeoModel,
        _purchases,
        lambda m, f: m.conditional_probability_alive(f),
        ("frequency", "recency", "T"),
    ),
    "ParetoNBDModel": Spec(
        ParetoNBDModel,
        _purchases,
        lambda m, f: m.conditional_expected_purchases(10.0, f),
        ("frequency", "recency", "T"),
    ),
    "GammaGammaModel": Spec(
        GammaGammaModel,
        _purchases,
        lambda m, f: m.conditional_expected_average_profit(f),
        ("frequency", "monetary_value"),
    ),
    "ShiftedBetaGeoModel": Spec(
        ShiftedBetaGeoModel,
        _contracts,
        lambda m, f: m.discounted_expected_residual_lifetime(f, discount_rate=0.1),
        ("recency", "T", "alive"),
    ),
}
NAMES = list(SPECS)


@pytest.fixture(params=NAMES)
def spec(request: pytest.FixtureRequest) -> Spec:
    return SPECS[request.param]


def test_init_stores_settings_unchanged(spec: Spec) -> None:
    start = {"a": 1.0} if "a" in spec.model._param_names else None
    model = spec.model(
        penalizer=0.0, max_iter=321, tol=1e-7, initial_params=start, boundary="accept"
    )
    assert model.get_params() == {
        "penalizer": 0.0,
        "max_iter": 321,
        "tol": 1e-7,
        "initial_params": start,
        "boundary": "accept",
    }
    with pytest.raises(TypeError):
        spec.model(0.1)  # settings are keyword-only


def test_fit_returns_self_and_sets_learned_attributes(spec: Spec) -> None:
    model = spec.model()
    assert model.fit(spec.frame()) is model
    assert set(model.params_) == set(spec.model._param_names)
    assert np.isfinite(model.log_likelihood_)
    assert set(model.standard_errors_) == set(spec.model._param_names)


def test_refit_is_idempotent(spec: Spec) -> None:
    frame = spec.frame()
    model = spec.model().fit(frame)
    first = dict(model.params_)
    model.fit(frame)
    assert model.params_ == first


def test_fit_and_predict_do_not_mutate_input(spec: Spec) -> None:
    frame = spec.frame()
    before = frame.copy(deep=True)
    model = spec.model().fit(frame)
    spec.predict(model, frame)
    pd.testing.assert_frame_equal(frame, before)


def test_predictions_are_indexed_like_input(spec: Spec) -> None:
    frame = spec.frame()
    out = spec.predict(spec.model().fit(frame), frame)
    assert isinstance(out, pd.Series)
    assert out.index.equals(frame.index)
    assert np.isfinite(out.to_numpy()).all()


def test_unfitted_model_raises(spec: Spec) -> None:
    model = spec.model()
    with pytest.raises(NotFittedError, match=spec.model.__name__):
        spec.predict(model, spec.frame())
    with pytest.raises(NotFittedError):
        model.summary()


def test_save_load_round_trip(spec: Spec, tmp_path) -> None:
    frame = spec.frame()
    model = spec.model(penalizer=0.0, max_iter=500).fit(frame)
    path = tmp_path / "model.json"
    model.save(path)
    loaded = spec.model.load(path)
    assert loaded.params_ == model.params_
    assert loaded.get_params() == model.get_params()
    assert loaded.log_likelihood_ == model.log_likelihood_
    pd.testing.assert_series_equal(spec.predict(loaded, frame), spec.predict(model, frame))


def test_load_refuses_another_model(spec: Spec, tmp_path) -> None:
    model = spec.model().fit(spec.frame())
    path = tmp_path / "model.json"
    model.save(path)
    other = next(s.model for s in SPECS.values() if s.model is not spec.model)
    with pytest.raises(DataValidationError):
        other.load(path)


BAD_INPUTS = [(name, column) for name, s in SPECS.items() for column in s.columns]


@pytest.mark.parametrize(("name", "column"), BAD_INPUTS)
def test_missing_column_is_named(name: str, column: str) -> None:
    s = SPECS[name]
    frame = s.frame().drop(columns=[column])
    with pytest.raises(DataValidationError, match=repr(column)):
        s.model().fit(frame)


#: a negative mean spend is real data (returns exceeding the repeat orders): the spend model
#: leaves such customers out with a warning (tests/models/test_robust_inputs.py)
NEGATIVE_REFUSED = [b for b in BAD_INPUTS if b != ("GammaGammaModel", "monetary_value")]


@pytest.mark.parametrize(("name", "column"), NEGATIVE_REFUSED)
def test_negative_value_is_named(name: str, column: str) -> None:
    s = SPECS[name]
    frame = s.frame()
    frame.iloc[3, frame.columns.get_loc(column)] = -1.0
    with pytest.raises(DataValidationError, match=repr(column)):
        s.model().fit(frame)


@pytest.mark.parametrize("name", [n for n, s in SPECS.items() if "recency" in s.columns])
def test_recency_above_t_is_named(name: str) -> None:
    s = SPECS[name]
    frame = s.frame()
    frame.iloc[5, frame.columns.get_loc("recency")] = frame["T"].iloc[5] + 1.0
    with pytest.raises(DataValidationError, match="'recency'"):
        s.model().fit(frame)


@pytest.mark.parametrize("name", NAMES)
def test_missing_value_is_named(name: str) -> None:
    s = SPECS[name]
    frame = s.frame()
    column = s.columns[-1]
    frame[column] = frame[column].astype(float)
    frame.iloc[2, frame.columns.get_loc(column)] = np.nan
    with pytest.raises(DataValidationError, match=repr(column)):
        s.model().fit(frame)


@pytest.mark.parametrize("name", NAMES)
def test_negative_weight_is_refused(name: str) -> None:
    s = SPECS[name]
    frame = s.frame().assign(weight=1.0)
    frame.iloc[0, frame.columns.get_loc("weight")] = -2.0
    with pytest.raises(DataValidationError, match="'weight'"):
        s.model().fit(frame)


# ---------------------------------------------------------------------------------------------
# One contract for every model family (not only the maximum-likelihood ones): keyword-only
# settings, get_params(deep=True) / set_params, sklearn.base.clone, fit -> self with params_,
# NotFittedError before fit, predictions indexed like the input (or by its account_id).


@dataclass(frozen=True)
class Family:
    make: Callable[[], Any]
    fit: Callable[[Any], Any]
    predict: Callable[[Any], pd.Series | pd.DataFrame]
    frame: Callable[[], pd.DataFrame]


def _ltv_inputs() -> tuple[pd.DataFrame, pd.DataFrame]:
    return ltv_accounts(200, 1), ltv_decisions(200, 2)


def _naive_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {"revenue_12m": [100.0, 0.0, 50.0, 10.0], "revenue_prior_12m": [80.0, 20.0, 0.0, 5.0]},
        index=pd.Index(["a", "b", "c", "d"], name="account_id"),
    )


def _base_family(name: str) -> Family:
    s = SPECS[name]
    return Family(s.model, lambda m: m.fit(s.frame()), lambda m: s.predict(m, s.frame()), s.frame)


FAMILIES = {
    **{name: _base_family(name) for name in SPECS},
    "RenewalChurnModel": Family(
        lambda: RenewalChurnModel(covariates=["x"]),
        lambda m: m.fit(ltv_decisions(200, 2)),
        lambda m: m.predict_proba(ltv_decisions(200, 2)),
        lambda: ltv_decisions(200, 2),
    ),
    "AccountLTV": Family(
        lambda: AccountLTV(covariates=["x"], horizon_months=12, n_draws=10),
        lambda m: m.fit(*_ltv_inputs()),
        lambda m: m.predict(_ltv_inputs()[0]),
        lambda: _ltv_inputs()[0],
    ),
    "NaiveLTV": Family(
        lambda: NaiveLTV(margin_rate=0.5),
        lambda m: m.fit(_naive_frame()),
        lambda m: m.predict(_naive_frame()),
        _naive_frame,
    ),
    "WinProbabilityModel": Family(
        lambda: WinProbabilityModel(features=WIN_FEATURES),
        lambda m: m.fit(deals(600, seed=5)),
        lambda m: m.predict_proba(deals(600, seed=5)),
        lambda: deals(600, seed=5),
    ),
    "ExpansionModel": Family(
        lambda: ExpansionModel(features=EXPANSION_FEATURES),
        lambda m: m.fit(expansion_accounts(800, 1, "2024-03-31")),
        lambda m: m.predict(expansion_accounts(800, 1, "2024-03-31")),
        lambda: expansion_accounts(800, 1, "2024-03-31"),
    ),
}


@pytest.fixture(params=list(FAMILIES))
def family(request: pytest.FixtureRequest) -> Family:
    return FAMILIES[request.param]


def test_every_family_has_keyword_only_settings_and_get_set_params(family: Family) -> None:
    model = family.make()
    names = type(model)._setting_names()
    params = inspect.signature(type(model).__init__).parameters
    assert [n for n in params if n != "self"] == names  # every setting is keyword-only
    shallow = model.get_params(deep=False)
    assert shallow == {n: getattr(model, n) for n in names}
    assert model.get_params(deep=True) == shallow  # no setting is itself an estimator
    first = names[0]
    assert model.set_params(**{first: shallow[first]}) is model
    with pytest.raises(ConfigurationError, match="no setting 'no_such_setting'"):
        model.set_params(no_such_setting=1)


def test_every_family_is_cloned_by_sklearn(family: Family) -> None:
    model = family.fit(family.make())
    copy = clone(model)
    assert type(copy) is type(model) and copy is not model
    assert copy.get_params(deep=False).keys() == model.get_params(deep=False).keys()
    for key, value in model.get_params(deep=False).items():
        assert copy.get_params(deep=False)[key] == value  # settings carried over
    assert not hasattr(copy, "n_accounts_") and not hasattr(copy, "log_likelihood_")
    with pytest.raises(NotFittedError):  # the clone is unfitted
        family.predict(copy)


def test_every_family_fits_to_self_with_params(family: Family) -> None:
    model = family.make()
    with pytest.raises(NotFittedError):
        family.predict(model)
    assert family.fit(model) is model
    assert isinstance(model.params_, dict) and model.params_
    out = family.predict(model)
    frame = family.frame()
    assert isinstance(out, pd.Series | pd.DataFrame)
    by_row = list(out.index) == list(frame.index)
    by_account = "account_id" in frame.columns and list(out.index) == list(frame["account_id"])
    assert by_row or by_account


def test_nested_settings_are_reached_with_double_underscores() -> None:
    class Wrapper(EstimatorSettings):
        def __init__(self, *, inner: BetaGeoModel, scale: float = 1.0) -> None:
            self.inner = inner
            self.scale = scale

    wrapper = Wrapper(inner=BetaGeoModel(penalizer=0.1))
    assert wrapper.get_params(deep=True)["inner__penalizer"] == 0.1
    assert "inner__penalizer" not in wrapper.get_params(deep=False)
    wrapper.set_params(inner__penalizer=0.2, scale=3.0)
    assert wrapper.inner.penalizer == 0.2 and wrapper.scale == 3.0
    copy = clone(wrapper)
    assert copy.inner is not wrapper.inner and copy.inner.penalizer == 0.2
    with pytest.raises(ConfigurationError, match="not an estimator"):
        wrapper.set_params(scale__x=1)
