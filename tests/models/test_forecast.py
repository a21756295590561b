"""Forecasts chosen by the folds: candidates, the choice rule, the conformal interval."""

from __future__ import annotations

import numpy as np
import pytest

from tillage.models.forecast import (
    Fold,
    candidate_forecasts,
    choose_forecast,
    fit_interval,
    level_to_run_rate,
)


def _fold(rng: np.random.Generator, n: int, model_noise: float, naive_noise: float) -> Fold:
    """Accounts whose true rate the model sees with ``model_noise`` and the run rate with
    ``naive_noise`` (relative, log-normal); outcomes are Poisson orders of 100 each."""
    rate = rng.gamma(1.0, 2.0, n)
    actual = 100.0 * rng.poisson(rate)
    model = 100.0 * rate * rng.lognormal(0.0, model_noise, n)
    naive = 100.0 * rng.poisson(rate * rng.lognormal(0.0, naive_noise, n))
    return Fold(model, naive, rng.poisson(rate * 4), actual)


def test_candidates_blend_between_model_and_run_rate() -> None:
    model = np.array([10.0, 0.0, 4.0])
    naive = np.array([0.0, 10.0, 4.0])
    orders = np.array([0.0, 8.0, 1.0])
    own = candidate_forecasts(model, naive, orders, level=False)
    assert own["model"].tolist() == model.tolist()
    assert own["naive"].tolist() == naive.tolist()
    assert own["blend 0.25"].tolist() == [2.5, 7.5, 4.0]
    # shrink k: weight k / (k + orders) on the model; a long record keeps its run rate
    assert own["shrink 1"].tolist() == pytest.approx([10.0, 10.0 * 8 / 9, 4.0])
    scaled = candidate_forecasts(model, naive, orders)
    for values in scaled.values():
        assert values.sum() == pytest.approx(naive.sum())


def test_level_to_run_rate_keeps_the_shares_and_takes_the_run_rates_total() -> None:
    out = level_to_run_rate(np.array([1.0, 3.0]), np.array([10.0, 10.0]))
    assert out.tolist() == [5.0, 15.0]
    # nothing to scale by: unchanged
    assert level_to_run_rate(np.zeros(2), np.ones(2)).tolist() == [0.0, 0.0]


def test_a_model_that_clearly_beats_the_run_rate_is_chosen() -> None:
    rng = np.random.default_rng(1)
    folds = [_fold(rng, 3000, 0.05, 0.8) for _ in range(2)]
    choice = choose_forecast(folds)
    assert choice.name != "naive"
    assert choice.folds == 2
    scores = choice.scores
    assert scores[choice.name]["mae"] < scores["naive"]["mae"]
    assert abs(scores[choice.name]["total_error"]) <= abs(scores["naive"]["total_error"]) + 1e-12
    assert choice.name.split()[0] in choice.reason


def test_the_run_rate_stays_when_no_candidate_beats_it_clearly() -> None:
    rng = np.random.default_rng(2)
    # the model is pure noise around the run rate's own information
    fold = _fold(rng, 400, 0.0, 0.0)
    fold.model = fold.model * rng.lognormal(0.0, 1.5, len(fold.model))
    choice = choose_forecast([fold], level=False)
    assert choice.name == "naive"
    assert "run rate" in choice.reason
    # the chosen forecast is the run rate itself, so never worse than it
    forecast = choice.apply(fold.model, fold.naive, fold.orders)
    assert forecast.tolist() == fold.naive.tolist()


def test_without_folds_the_run_rate_is_kept_and_says_so() -> None:
    choice = choose_forecast([])
    assert choice.name == "naive"
    assert "no backtest" in choice.reason
    assert choice.record()["folds"] == 0


def test_interval_covers_the_nominal_share_of_new_outcomes() -> None:
    rng = np.random.default_rng(3)
    fit_on = _fold(rng, 4000, 0.1, 0.5)
    table = fit_interval(fit_on.model, fit_on.actual, 0.8)
    assert table is not None
    assert table.coverage == pytest.approx(0.8, abs=0.02)
    fresh = _fold(rng, 4000, 0.1, 0.5)
    low, high = table.apply(fresh.model)
    assert np.all(low <= fresh.model) and np.all(fresh.model <= high)
    covered = np.mean((fresh.actual >= low) & (fresh.actual <= high))
    assert 0.75 <= covered <= 0.85
    # intervals are over outcomes: far wider than a few per cent around the point
    positive = fresh.model > 0
    assert np.median((high - low)[positive] / fresh.model[positive]) > 0.5


def test_interval_needs_enough_accounts() -> None:
    assert fit_interval(np.ones(5), np.ones(5)) is None
