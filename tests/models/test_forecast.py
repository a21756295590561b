"""Forecasts chosen by the folds: candidates, the choice rule, the conformal interval."""

from __future__ import annotations

import numpy as np
import pytest

from tillage.models.evaluation import interval_coverage
from tillage.models.forecast import (
    Fold,
    IntervalTable,
    candidate_forecasts,
    choose_churn,
    choose_forecast,
    fit_interval,
    interval_groups,
    level_to_run_rate,
)
from tillage.models.forecast_text import reason_text


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
    # randomised at the atom 0: a realised 0 counts as the interval's probability of holding it
    covered = interval_coverage(low, high, fresh.actual, table.zero_inclusion(fresh.model))
    assert 0.75 <= covered <= 0.85
    # intervals are over outcomes: far wider than a few per cent around the point
    positive = fresh.model > 0
    assert np.median((high - low)[positive] / fresh.model[positive]) > 0.5


def test_interval_needs_enough_accounts() -> None:
    assert fit_interval(np.ones(5), np.ones(5)) is None


def test_a_certain_zero_counts_as_the_intervals_probability_of_including_it() -> None:
    rng = np.random.default_rng(4)
    # half the accounts churned: forecast 0 and realised 0 for certain; the others Poisson
    fold = _fold(rng, 2000, 0.1, 0.5)
    fold.model[:1000] = 0.0
    fold.actual[:1000] = 0.0
    table = fit_interval(fold.model, fold.actual, 0.8)
    assert table is not None
    assert table.coverage == pytest.approx(0.8, abs=0.02)
    inclusion = table.zero_inclusion(fold.model)
    # a closed [0, 0] would "cover" every certain zero; randomised at the atom it counts less
    assert np.all(inclusion[:1000] < 1.0)
    low, high = table.apply(fold.model)
    closed = interval_coverage(low, high, fold.actual)
    randomised = interval_coverage(low, high, fold.actual, inclusion)
    assert closed > 0.85
    assert randomised == pytest.approx(0.8, abs=0.02)


def test_the_level_of_each_fold_is_taken_out_and_its_spread_widens_the_interval() -> None:
    rng = np.random.default_rng(5)
    folds = [_fold(rng, 2000, 0.1, 0.5) for _ in range(2)]
    folds[0].actual *= 0.8  # a quarter of attrition, then one of growth
    folds[1].actual *= 1.25
    forecast = np.concatenate([f.model for f in folds])
    actual = np.concatenate([f.actual for f in folds])
    labels = np.repeat([0, 1], 2000)
    table = fit_interval(forecast, actual, 0.8, fold=labels)
    flat = fit_interval(forecast, actual, 0.8)
    assert table is not None and flat is not None
    assert table.band == pytest.approx(1.25, rel=0.05)
    assert flat.band == pytest.approx(1.0, abs=0.02)  # one pooled level, near the forecast's
    # a new period at either level is covered about as often as nominal, or more
    for shift in (0.8, 1.25):
        fresh = _fold(rng, 4000, 0.1, 0.5)
        low, high = table.apply(fresh.model)
        y = fresh.actual * shift
        assert interval_coverage(low, high, y, table.zero_inclusion(fresh.model)) >= 0.75


def _mixed(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Half contract-only accounts (no order in the year: revenue scheduled, within 2 % of the
    forecast), half buyers (Poisson orders of 100): forecast, outcome and history depth."""
    contract = rng.uniform(20.0, 600.0, n // 2)
    fold = _fold(rng, n - n // 2, 0.1, 0.5)
    forecast = np.concatenate([contract, fold.model])
    actual = np.concatenate([contract * rng.normal(1.0, 0.02, n // 2), fold.actual])
    depth = np.concatenate([np.zeros(n // 2), np.maximum(fold.orders, 1.0)])
    return forecast, actual, depth


def test_mondrian_groups_by_history_depth_each_cover_the_nominal_share() -> None:
    rng = np.random.default_rng(8)
    forecast, actual, depth = _mixed(rng, 6000)
    pooled = fit_interval(forecast, actual, 0.8)
    grouped = fit_interval(forecast, actual, 0.8, group=interval_groups(depth))
    assert pooled is not None and grouped is not None
    assert set(grouped.groups) == {"none", "light", "heavy"}
    fresh_f, fresh_y, fresh_d = _mixed(rng, 6000)
    group = interval_groups(fresh_d)
    scheduled = group == "none"

    def cover(table: IntervalTable, by: np.ndarray | None, pick: np.ndarray) -> float:
        low, high = table.apply(fresh_f, by)
        inclusion = table.zero_inclusion(fresh_f, by)
        return interval_coverage(low[pick], high[pick], fresh_y[pick], inclusion[pick])

    # pooled, one table's bins by size mix the kinds: the scheduled revenue is nearly always
    # inside, the buyers' much less often than nominal
    assert cover(pooled, None, scheduled) > 0.95
    assert cover(pooled, None, ~scheduled) < 0.7
    # per group, each kind is covered about as often as nominal
    assert 0.75 <= cover(grouped, group, scheduled) <= 0.85
    assert 0.75 <= cover(grouped, group, ~scheduled) <= 0.85


def test_a_zero_forecast_without_enough_zeros_in_the_folds_reads_the_smallest_forecasts() -> None:
    rng = np.random.default_rng(9)
    fold = _fold(rng, 3000, 0.1, 0.5)
    fold.model[:10] = 0.0  # ten zero forecasts in the folds, all realised 0
    fold.actual[:10] = 0.0
    table = fit_interval(fold.model, fold.actual, 0.8)
    assert table is not None
    # a zero forecast's interval is that of the smallest forecasts' amounts, not [0, 0]
    assert table.zero_high > 0.0
    smallest = np.sort(fold.model[fold.model > 0])[: len(fold.model) // 10].max()
    near = (fold.model > 0) & (fold.model <= smallest)
    assert table.zero_high == pytest.approx(np.quantile(fold.actual[near], 0.9), rel=0.5)


def _churn_fold(rng: np.random.Generator, n: int, model_skill: bool) -> Fold:
    """Contract holders whose churn probability varies; the model sees it (``model_skill``) or
    says 0.9 for everyone; the baseline is the population rate."""
    p = rng.beta(1.0, 6.0, n)
    churned = (rng.random(n) < p).astype(float)
    model = p if model_skill else np.full(n, 0.9)
    return Fold(model, np.full(n, p.mean()), np.zeros(n), churned)


def test_churn_keeps_the_model_only_where_it_beats_the_renewal_rate_out_of_time() -> None:
    rng = np.random.default_rng(6)
    good = choose_churn([_churn_fold(rng, 3000, True)])
    assert good.name == "model"
    assert good.scores["model"]["brier"] < good.scores["renewal rate"]["brier"]
    bad = choose_churn([_churn_fold(rng, 3000, False), _churn_fold(rng, 3000, False)])
    assert bad.name == "renewal rate"
    assert bad.folds == 2
    assert "did not beat" in bad.reason
    assert reason_text(bad.record(), "ja").startswith("更新率：")
    unchecked = choose_churn([])
    assert unchecked.name == "model" and "not checked" in unchecked.reason


def test_net_returns_are_not_carried_forward_as_negative_revenue() -> None:
    model = np.array([50.0, 0.0, 20.0])
    naive = np.array([-30.0, 100.0, 40.0])  # the first account returned more than it bought
    orders = np.array([1.0, 4.0, 2.0])
    for level in (False, True):
        for name, values in candidate_forecasts(model, naive, orders, level=level).items():
            assert (values >= 0).all(), name
    # the run rate's total stays the level
    assert candidate_forecasts(model, naive, orders)["naive"].sum() == pytest.approx(110.0)
