"""The revenue is the streams' sum: its total error and MAE keep the rule as well
(:func:`tillage.models.forecast.honour_total`)."""

from __future__ import annotations

import numpy as np
import pytest

from tillage.models.forecast import (
    LEVEL_WEIGHTS,
    ChosenForecast,
    Fold,
    choose_forecast,
    honour_total,
    level_to_run_rate,
)
from tillage.models.forecast_text import reason_text


def _streams(
    rng: np.random.Generator, n: int, contract_bias: float, order_bias: float, model_bias: float
) -> tuple[Fold, Fold, Fold]:
    """One fold of a contract stream (run rate off by ``contract_bias``, the model right on
    total), an order stream (run rate off by ``order_bias``, the model's own total off by
    ``model_bias``; both models see each account far better than the run rate) and their sum
    (the revenue: its run rate the two run rates' sum)."""
    c_rate = rng.gamma(2.0, 500.0, n) * (rng.random(n) < 0.5)
    c_actual = c_rate * rng.lognormal(0.0, 0.05, n)
    c_naive = c_rate * (1.0 + contract_bias) * rng.lognormal(-0.18, 0.6, n)  # mean 1
    c_model = c_rate * rng.lognormal(0.0, 0.05, n)
    o_rate = rng.gamma(1.0, 2.0, n)
    o_actual = 100.0 * rng.poisson(o_rate)
    o_naive = 100.0 * rng.poisson(o_rate * (1.0 + order_bias))
    o_model = 100.0 * o_rate * (1.0 + model_bias) * rng.lognormal(0.0, 0.05, n)
    depth = rng.poisson(o_rate * 4).astype(float)
    contract = Fold(c_model, c_naive, depth, c_actual)
    orders = Fold(o_model, o_naive, depth, o_actual)
    revenue = Fold(c_model + o_model, c_naive + o_naive, depth, c_actual + o_actual)
    return contract, orders, revenue


def _pooled(
    choices: dict[str, ChosenForecast], streams: dict[str, list[Fold]], total: list[Fold]
) -> tuple[float, float, float, float]:
    """MAE and total error of the summed chosen forecast, and of the revenue run rate."""
    forecast = np.concatenate(
        [
            sum(
                choices[s].apply(folds[k].model, folds[k].naive, folds[k].orders)
                for s, folds in streams.items()
            )
            for k in range(len(total))
        ]
    )
    actual = np.concatenate([f.actual for f in total])
    naive = np.concatenate([f.naive for f in total])

    def score(f: np.ndarray) -> tuple[float, float]:
        return float(np.mean(np.abs(f - actual))), float((f.sum() - actual.sum()) / actual.sum())

    return (*score(forecast), *score(naive))


def _choose(
    rng: np.random.Generator, contract_bias: float, order_bias: float, model_bias: float
) -> tuple[dict[str, ChosenForecast], dict[str, ChosenForecast], dict, list[Fold]]:
    folds = [_streams(rng, 3000, contract_bias, order_bias, model_bias) for _ in range(2)]
    streams = {"contract_revenue": [f[0] for f in folds], "order_revenue": [f[1] for f in folds]}
    total = [f[2] for f in folds]
    per_stream = {
        "contract_revenue": choose_forecast(streams["contract_revenue"], level=False),
        "order_revenue": choose_forecast(streams["order_revenue"], level=True),
    }
    return per_stream, honour_total(per_stream, streams, total), streams, total


def test_the_level_moves_where_the_run_rates_level_makes_the_total_worse() -> None:
    # the run rate: contracts 10 % under, orders 25 % over (offsetting in the sum); the models
    # right per account; on the run rate's level the orders keep their +25 % and the corrected
    # contracts no longer offset it: the sum is worse than the run rate on total error
    per_stream, chosen, streams, total = _choose(np.random.default_rng(5), -0.10, 0.25, 0.0)
    assert per_stream["contract_revenue"].name == "model"
    assert per_stream["order_revenue"].name != "naive"
    _mae, before, _n_mae, naive_error = _pooled(per_stream, streams, total)
    assert abs(before) > abs(naive_error)  # the per-stream rule alone breaks it on the sum
    mae, error, naive_mae, naive_error = _pooled(chosen, streams, total)
    assert abs(error) <= abs(naive_error)
    assert mae <= naive_mae
    weight = chosen["order_revenue"].level_weight
    assert weight in LEVEL_WEIGHTS
    # the smallest weight that honours the rule: the one before it does not
    smaller = [w for w in (0.0, *LEVEL_WEIGHTS) if w < weight][-1]
    lower = {**chosen, "order_revenue": chosen["order_revenue"]}
    lower["order_revenue"] = ChosenForecast(
        chosen["order_revenue"].name, "lowest_mae", level=True, level_weight=smaller
    )
    assert abs(_pooled(lower, streams, total)[1]) > abs(naive_error)
    # the contract stream keeps its own level and its candidate
    assert chosen["contract_revenue"].name == "model"
    assert chosen["contract_revenue"].level_weight == 0.0
    record = chosen["order_revenue"].record()
    assert record["level_weight"] == weight
    assert f"moved {weight:.0%} of the way" in str(record["reason"])
    assert "水準を予測自身の水準へ" in reason_text(record, "ja")


def test_the_choice_is_unchanged_where_the_sum_keeps_the_rule() -> None:
    # both run rates over-forecast: the corrected contracts bring the sum closer, not further
    per_stream, chosen, *_folds = _choose(np.random.default_rng(6), 0.10, 0.25, 0.0)
    assert chosen == per_stream
    assert chosen["order_revenue"].level_weight == 0.0


def test_the_run_rate_is_kept_where_no_level_keeps_the_rule() -> None:
    # the run rate's errors nearly offset; the order model's own total is as high as the run
    # rate's: no level of the orders brings the sum back to the run rate's total error
    per_stream, chosen, streams, total = _choose(np.random.default_rng(7), -0.15, 0.25, 0.25)
    assert per_stream["contract_revenue"].name == "model"
    for name in streams:
        assert chosen[name].name == "naive"
        assert chosen[name].code == "run_rate_total"
        assert "run rate is kept" in chosen[name].reason
    mae, error, naive_mae, naive_error = _pooled(chosen, streams, total)
    assert error == pytest.approx(naive_error) and mae == pytest.approx(naive_mae)


def test_a_level_weight_moves_the_total_toward_the_forecasts_own() -> None:
    f, n = np.array([1.0, 3.0]), np.array([10.0, 10.0])
    assert level_to_run_rate(f, n, 0.0).sum() == pytest.approx(20.0)
    assert level_to_run_rate(f, n, 0.5).sum() == pytest.approx(12.0)
    assert level_to_run_rate(f, n, 1.0).tolist() == f.tolist()
