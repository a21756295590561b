"""Parameter recovery: fit data simulated (seeded) from known parameters, 100,000 customers.

Each estimate must be within 5 % of the truth or within 3 standard errors (the Pareto/NBD's
beta is weakly identified at this size: its standard error is ~8 % of its value).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tillage.models import BetaGeoModel, GammaGammaModel, ParetoNBDModel, ShiftedBetaGeoModel
from tillage.models.simulate import (
    simulate_beta_geo,
    simulate_gamma_gamma,
    simulate_pareto_nbd,
    simulate_shifted_beta_geo,
)

N = 100_000


def _assert_recovered(model, truth: dict[str, float]) -> None:
    for name, value in truth.items():
        estimate = model.params_[name]
        se = model.standard_errors_[name]
        assert abs(estimate - value) <= max(0.05 * value, 3 * se), (name, estimate, value, se)


def _horizons(seed: int) -> np.ndarray:
    # customers acquired over 12 weeks, observed until week 39 (like CDNOW)
    return np.random.default_rng(seed).uniform(27.0, 39.0, N)


def test_bg_nbd_recovery() -> None:
    truth = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    frame = simulate_beta_geo(N, **truth, T=_horizons(1), seed=11)
    _assert_recovered(BetaGeoModel().fit(frame), truth)


@pytest.mark.slow
def test_pareto_nbd_recovery() -> None:
    truth = {"r": 0.5534, "alpha": 10.5802, "s": 0.6061, "beta": 11.6562}
    frame = simulate_pareto_nbd(N, **truth, T=38.0, seed=12)
    _assert_recovered(ParetoNBDModel().fit(frame), truth)


def test_gamma_gamma_recovery() -> None:
    truth = {"p": 6.25, "q": 3.74, "v": 15.44}
    frequency = np.random.default_rng(13).poisson(3.0, N) + 1.0
    frame = pd.DataFrame(
        {
            "frequency": frequency,
            "monetary_value": simulate_gamma_gamma(frequency, **truth, seed=14),
        }
    )
    _assert_recovered(GammaGammaModel().fit(frame), truth)


def test_sbg_recovery() -> None:
    truth = {"gamma": 0.704, "delta": 1.182}
    frame = simulate_shifted_beta_geo(N, **truth, T=7, seed=15)
    model = ShiftedBetaGeoModel().fit(frame)
    assert model.n_distinct_rows_ == 8  # 7 churn periods + the active ones
    _assert_recovered(model, truth)


def test_simulated_bg_nbd_matches_its_expectation() -> None:
    truth = {"r": 0.5, "alpha": 5.0, "a": 0.8, "b": 2.5}
    frame = simulate_beta_geo(N, **truth, T=30.0, seed=16)
    model = BetaGeoModel()
    model.params_ = truth
    expected = model.expected_purchases_new_customer(30.0)
    se = frame["frequency"].std() / np.sqrt(N)
    assert abs(frame["frequency"].mean() - expected) < 4 * se
