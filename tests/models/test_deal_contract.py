"""The estimator contract for the deal models (one parametrised test per rule)."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pytest

from tillage.errors import DataValidationError, NotFittedError
from tillage.models.expansion import ExpansionModel
from tillage.models.suggestions import ProductSuggestions
from tillage.models.win_probability import WinProbabilityModel

from .test_expansion import FEATURES as EXPANSION_FEATURES
from .test_expansion import accounts
from .test_suggestions import PURCHASES
from .test_win_probability import FEATURES as WIN_FEATURES
from .test_win_probability import deals


@dataclass(frozen=True)
class Spec:
    make: Callable[[], Any]
    frame: Callable[[], pd.DataFrame]
    predict: Callable[[Any, pd.DataFrame], pd.Series | pd.DataFrame]
    column: str


SPECS = {
    "WinProbabilityModel": Spec(
        lambda: WinProbabilityModel(features=WIN_FEATURES),
        lambda: deals(1500, seed=5),
        lambda m, f: m.predict_proba(f),
        "stage_as_of",
    ),
    "ExpansionModel": Spec(
        lambda: ExpansionModel(features=EXPANSION_FEATURES),
        lambda: pd.concat([accounts(800, 1, "2024-03-31"), accounts(800, 2, "2024-06-30")]),
        lambda m, f: m.predict(f),
        "label_expansion",
    ),
    "ProductSuggestions": Spec(
        lambda: ProductSuggestions(min_accounts=2),
        lambda: PURCHASES.copy(),
        lambda m, f: m.suggest(f),
        "product_id",
    ),
}


@pytest.fixture(params=list(SPECS))
def spec(request: pytest.FixtureRequest) -> Spec:
    return SPECS[request.param]


def test_settings_are_keyword_only_and_stored(spec: Spec) -> None:
    model = spec.make()
    params = inspect.signature(type(model).__init__).parameters
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for n, p in params.items() if n != "self")
    assert model.get_params() == {n: getattr(model, n) for n in params if n != "self"}


def test_fit_returns_self_and_does_not_mutate(spec: Spec) -> None:
    frame = spec.frame()
    before = frame.copy(deep=True)
    model = spec.make()
    assert model.fit(frame) is model
    spec.predict(model, frame)
    pd.testing.assert_frame_equal(frame, before)
    assert [k for k in vars(model) if k.endswith("_")]


def test_unfitted_model_raises(spec: Spec) -> None:
    with pytest.raises(NotFittedError):
        spec.predict(spec.make(), spec.frame())


def test_outputs_are_indexed_by_id(spec: Spec) -> None:
    frame = spec.frame().reset_index(drop=True)
    out = spec.predict(spec.make().fit(frame), frame)
    if isinstance(spec.make(), ProductSuggestions):
        assert (out.index == out["account_id"]).all()
    else:
        assert out.index.equals(frame.index)
        assert np.isfinite(np.asarray(out, dtype=float)).all()


def test_missing_column_is_named(spec: Spec) -> None:
    with pytest.raises(DataValidationError, match=repr(spec.column)):
        spec.make().fit(spec.frame().drop(columns=[spec.column]))
