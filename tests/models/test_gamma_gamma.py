"""Gamma-Gamma on the CDNOW repeat buyers against Fader, Hardie & Lee (2005), "RFM and CLV:
Using Iso-Value Curves for Customer Base Analysis", JMR 42(4): p = 6.25, q = 3.74, v = 15.44."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tillage.models import GammaGammaModel, gamma_gamma
from tillage.models.gamma_gamma import _log_moment_start
from tillage.models.simulate import simulate_gamma_gamma


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


def _start(x: np.ndarray, z: np.ndarray) -> tuple[float, float]:
    """The start of unweighted buyers, their frequencies indexed as the fit indexes them."""
    xu, xi = np.unique(x, return_inverse=True)
    return _log_moment_start(xu, xi, z, np.ones_like(z))


@pytest.mark.parametrize(("p", "q"), [(6.25, 3.74), (2.0, 5.0), (10.0, 1.5), (30.0, 8.0)])
def test_the_start_from_log_moments_is_near_the_estimate(
    p: float, q: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The starting point from the spread of the log spend, on 20,000 repeat buyers simulated
    from known parameters: within a fifth of the estimate, which it reaches in fewer Newton
    iterations than from the fixed start p = 1, q = 2."""
    x = np.random.default_rng(7).negative_binomial(1, 0.3, 20_000) + 1.0
    z = simulate_gamma_gamma(x, p=p, q=q, v=10.0, seed=8)
    frame = pd.DataFrame({"frequency": x, "monetary_value": z})
    start_p, start_q = _start(x, z / z.mean())
    fitted = GammaGammaModel().fit(frame)
    assert start_p == pytest.approx(fitted.params_["p"], rel=0.2)
    assert start_q == pytest.approx(fitted.params_["q"], rel=0.2)
    monkeypatch.setattr(gamma_gamma, "_log_moment_start", lambda *_: (1.0, 2.0))
    fixed = GammaGammaModel().fit(frame)
    assert fixed.params_["p"] == pytest.approx(fitted.params_["p"], rel=1e-5)  # to its stop
    assert fitted.n_iter_ < fixed.n_iter_


def test_the_start_falls_back_where_the_moments_say_nothing() -> None:
    """One frequency for every buyer (no line to draw), or spends that spread more among the
    frequent buyers than among the rare ones (a line rising with x): the fixed start p = 1,
    q = 2."""
    same = np.full(50, 3.0)
    spend = np.random.default_rng(1).gamma(2.0, 1.0, 50)
    assert _start(same, spend) == (1.0, 2.0)
    x = np.repeat([1.0, 10.0], 50)
    z = np.where(x == 1.0, 1.0 + 0.01 * (np.arange(100) % 3), np.exp(np.arange(100) % 5))
    assert _start(x, z) == (1.0, 2.0)
