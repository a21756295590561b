"""The fits' hand-written numerics against plain references: the rows collapsed by one hash
(against a pandas group-by, also when two rows share a hash), the closed-form gradients and
Hessians of the Newton fits (against central differences), trigamma by its recurrence (against
SciPy), and a large fit's warm start (against a fit from the default start)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.special import polygamma

from tillage.models import BetaGeoModel, GammaGammaModel, beta_geo, gamma_gamma
from tillage.models import _rows as rows
from tillage.models.simulate import simulate_gamma_gamma, simulate_pareto_nbd
from tillage.models.special import trigamma_steps


@pytest.mark.parametrize("mix", [None, 0])  # 0: every row's hash is its last column's
@pytest.mark.parametrize("n", [1, 700, 30_000])
def test_distinct_rows_match_group_by(monkeypatch: pytest.MonkeyPatch, mix, n: int) -> None:
    if mix is not None:
        monkeypatch.setattr(rows, "_MIX", np.uint64(mix))
    rng = np.random.default_rng(n)
    x = rng.integers(0, 5, n).astype(float)
    t = rng.integers(0, 9, n).astype(float)
    T = rng.integers(8, 10, n).astype(float)
    w = rng.integers(1, 3, n).astype(float)
    data, weights = rows.distinct_rows({"x": x, "t": t, "T": T}, w)
    expected = (
        pd.DataFrame({"x": x, "t": t, "T": T, "w": w})
        .groupby(["x", "t", "T"], sort=False)["w"]
        .sum()
        .reset_index()
    )
    for col in ("x", "t", "T"):
        np.testing.assert_array_equal(data[col], expected[col].to_numpy())
    np.testing.assert_array_equal(weights, expected["w"].to_numpy())


def test_continuous_rows_are_not_collapsed() -> None:
    rng = np.random.default_rng(0)
    T = rng.uniform(27.0, 39.0, 50_000)
    data, weights = rows.distinct_rows({"T": T}, np.ones(T.size), continuous="T")
    assert weights.size == T.size
    np.testing.assert_array_equal(data["T"], T)
    repeated = np.repeat(T[:20_000], 2)  # every value twice: collapsed
    data, weights = rows.distinct_rows({"T": repeated}, np.ones(repeated.size), continuous="T")
    assert weights.size == 20_000 and (weights == 2.0).all()
    np.testing.assert_array_equal(data["T"], T[:20_000])


def _prepared(model, frame: pd.DataFrame):
    arrays: dict = {}
    model._validate(frame, arrays=arrays)
    data, weights = model._fit_rows(frame, arrays)
    return model._prepare(data), weights


@pytest.mark.parametrize(
    ("model", "theta"),
    [
        (GammaGammaModel(), np.array([5.0, 3.0, 0.9])),
        (BetaGeoModel(), np.array([0.3, 5.0, 0.7, 2.0])),
    ],
)
def test_closed_form_derivatives_match_differences(
    cdnow_spend: pd.DataFrame, cdnow_summary: pd.DataFrame, model, theta
) -> None:
    frame = cdnow_spend if isinstance(model, GammaGammaModel) else cdnow_summary
    data, weights = _prepared(model, frame)
    total, grad, hess = model._loglik_totals(theta, data, weights, order=2)
    assert total == pytest.approx(float(model._loglik(theta, data, grad=False) @ weights))
    assert model._loglik_totals(theta, data, weights, order=0)[0] == pytest.approx(total)
    for j in range(theta.size):
        h = 1e-6 * theta[j]
        up, down = theta.copy(), theta.copy()
        up[j] += h
        down[j] -= h
        t_up, g_up, _ = model._loglik_totals(up, data, weights, order=1)
        t_down, g_down, _ = model._loglik_totals(down, data, weights, order=1)
        assert grad[j] == pytest.approx((t_up - t_down) / (2 * h), rel=1e-6, abs=1e-6)
        np.testing.assert_allclose(hess[:, j], (g_up - g_down) / (2 * h), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("start", [0.01, 0.24, 3.3, 500.0])
@pytest.mark.parametrize("count", [1, 2, 40, 3000])
def test_trigamma_steps_match_scipy(start: float, count: int) -> None:
    got = trigamma_steps([start, start + 0.5], count)
    expected = polygamma(1, np.array([[start], [start + 0.5]]) + np.arange(count))
    np.testing.assert_allclose(got, expected, rtol=1e-13)


def test_gamma_gamma_warm_start_reaches_the_same_estimate(monkeypatch) -> None:
    n = 250_000  # about 98,000 repeat buyers, over 4 x 20,000: warm-started from a sample
    T = np.random.default_rng(1).uniform(27.0, 39.0, n)
    base = simulate_pareto_nbd(n, r=0.55, alpha=10.6, s=0.61, beta=11.7, T=T, seed=3)
    base["monetary_value"] = simulate_gamma_gamma(
        base["frequency"], p=6.25, q=3.74, v=15.44, seed=4
    ).clip(1e-6)
    starts: list[tuple[np.ndarray, np.ndarray]] = []
    sampled = gamma_gamma.warm_start

    def recorded(model, data, weights, guess, *, rows):
        start = sampled(model, data, weights, guess, rows=rows)
        starts.append((guess, start))
        return start

    monkeypatch.setattr(gamma_gamma, "warm_start", recorded)
    warm = GammaGammaModel().fit(base)
    guess, start = starts[-1]
    assert not np.array_equal(guess, start)  # the sample's estimate started the fit
    monkeypatch.setattr(gamma_gamma, "_WARM_ROWS", 10**9)
    cold = GammaGammaModel().fit(base)
    assert np.array_equal(*starts[-1])  # this one from the moments of all the rows
    for name in ("p", "q", "v"):
        assert warm.params_[name] == pytest.approx(cold.params_[name], rel=1e-8)
    assert warm.log_likelihood_ == pytest.approx(cold.log_likelihood_, rel=1e-12)
    assert warm.params_["p"] == pytest.approx(6.25, rel=0.05)


def test_bg_nbd_totals_in_blocks_equal_one_pass(
    monkeypatch: pytest.MonkeyPatch, cdnow_summary: pd.DataFrame
) -> None:
    theta = np.array([0.3, 5.0, 0.7, 2.0])
    data, weights = _prepared(BetaGeoModel(), cdnow_summary)
    whole = BetaGeoModel()._loglik_totals(theta, data, weights, order=2)
    monkeypatch.setattr(beta_geo, "_BLOCK", 100)  # 1,016 histories in 11 blocks
    data, weights = _prepared(BetaGeoModel(), cdnow_summary)
    blocks = BetaGeoModel()._loglik_totals(theta, data, weights, order=2)
    assert blocks[0] == pytest.approx(whole[0], rel=1e-13)
    np.testing.assert_allclose(blocks[1], whole[1], rtol=1e-11)
    np.testing.assert_allclose(blocks[2], whole[2], rtol=1e-11)
