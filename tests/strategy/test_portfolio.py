"""Portfolio cells, deal zones, and the probability of the cell from the LTV interval."""

from __future__ import annotations

import pandas as pd
import pytest
from scipy.stats import norm

from tillage.strategy.config import loads_strategy
from tillage.strategy.portfolio import deal_zones, value_growth_portfolio

STRATEGY = loads_strategy(
    "[portfolio]\nvalue_threshold = 100\ngrowth_threshold = 10\nhysteresis = 0\n"
)


def test_cells_and_borderline() -> None:
    frame = pd.DataFrame(
        {
            "account_id": [1, 2, 3, 4, 5],
            "ltv": [200.0, 150.0, 50.0, 20.0, 105.0],
            "ltv_low": [180.0, 130.0, 40.0, 10.0, 85.0],
            "ltv_high": [220.0, 170.0, 60.0, 30.0, 125.0],
            "expected_expansion_value": [20.0, 0.0, 30.0, None, 20.0],
        }
    )
    out = value_growth_portfolio(frame, STRATEGY)
    assert out["cell"].tolist() == ["deepen", "maintain", "nurture", "reduce", "deepen"]
    assert out["cell_ja"].tolist() == ["深耕", "維持", "育成", "縮小", "深耕"]
    # account 5: 105 ± 20 at 90% → σ = 20 / 1.6449; P(LTV > 100) = Φ(5 / σ)
    sigma = 20 / norm.ppf(0.95)
    assert out.loc[4, "p_cell"] == pytest.approx(norm.cdf(5 / sigma))
    assert out["borderline"].tolist() == [False, False, False, False, True]
    assert out.attrs["value_threshold"] == 100


def test_quantile_thresholds_without_intervals() -> None:
    frame = pd.DataFrame(
        {"account_id": [1, 2, 3, 4], "ltv": [1.0, 2.0, 3.0, 4.0],
         "expected_expansion_value": [4.0, 3.0, 2.0, 1.0]}
    )  # fmt: skip
    out = value_growth_portfolio(frame)
    assert out["cell"].tolist() == ["nurture", "nurture", "maintain", "maintain"]
    assert (out["p_cell"] == 1).all()
    assert not out["borderline"].any()


def test_deal_zones() -> None:
    deals = pd.DataFrame(
        {
            "opportunity_id": [1, 2, 3, 4],
            "account_id": [10, 10, 11, 12],
            "amount": [100.0, 100.0, 10.0, 10.0],
            "win_probability": [0.8, 0.2, 0.9, 0.1],
            "win_probability_low": [0.7, 0.1, 0.4, 0.0],
            "win_probability_high": [0.9, 0.3, 0.98, 0.2],
        }
    )
    out = deal_zones(deals)
    assert out["zone"].tolist() == ["A", "B", "B", "C"]
    assert out["borderline"].tolist() == [False, False, False, False]
    assert out.loc[2, "p_zone"] < 1


def test_negative_ltv_sits_in_the_low_value_cells() -> None:
    # LTV below zero: the margin does not cover the cost to serve (docs/ltv.md)
    frame = pd.DataFrame(
        {
            "account_id": [1, 2, 3, 4],
            "ltv": [-300_000.0, -20_000.0, 800_000.0, 2_000_000.0],
            "ltv_low": [-320_000.0, -60_000.0, 700_000.0, 1_800_000.0],
            "ltv_high": [-280_000.0, 15_000.0, 900_000.0, 2_200_000.0],
            "expected_expansion_value": [50_000.0, 0.0, 10_000.0, 60_000.0],
        }
    )
    out = value_growth_portfolio(frame).set_index("account_id")
    assert out.loc[1, "cell"] == "nurture" and out.loc[2, "cell"] == "reduce"
    assert not out.loc[[1, 2], "value_high"].any()
    # the interval straddling zero is far from the median split: held with certainty
    assert out.loc[[1, 2], "p_cell"].between(0.99, 1).all()


def test_hysteresis_keeps_a_large_account_in_its_cell() -> None:
    strategy = loads_strategy(
        "[portfolio]\nvalue_threshold = 1000000\ngrowth_threshold = 35000\nhysteresis = 0.5\n"
    )
    # a ¥28M account whose expansion potential fell by ¥10K across the ¥35K split
    frame = pd.DataFrame(
        {
            "account_id": [1, 2, 3],
            "ltv": [28_000_000.0, 28_000_000.0, 500_000.0],
            "expected_expansion_value": [30_000.0, 60_000.0, 60_000.0],
        }
    )
    previous = pd.DataFrame(
        {
            "account_id": [1, 2, 3],
            "cell": ["deepen", "maintain", "reduce"],
            "ltv": [28_000_000.0, 28_000_000.0, 500_000.0],
            "expected_expansion_value": [40_000.0, 20_000.0, 20_000.0],
        }
    )
    out = value_growth_portfolio(frame, strategy, previous=previous)
    # 1 stays deepen (30K > 35K − 17.5K); 2 rose past 35K + 17.5K: deepen; 3 likewise nurture
    assert out["cell"].tolist() == ["deepen", "deepen", "nurture"]
    # without the previous cells the split is plain
    plain = value_growth_portfolio(frame, strategy)
    assert plain["cell"].tolist() == ["maintain", "deepen", "nurture"]


def test_the_cell_probability_counts_the_drift() -> None:
    strategy = loads_strategy(
        "[portfolio]\nvalue_threshold = 100\ngrowth_threshold = 10\nhysteresis = 0.5\n"
    )
    frame = pd.DataFrame({"account_id": [1], "ltv": [200.0], "expected_expansion_value": [20.0]})
    out = value_growth_portfolio(
        frame, strategy, drift={"ltv": 40.0, "expected_expansion_value": 5.0}
    )
    # high on both axes: it moves below 100 − 50 = 50 and below 10 − 5 = 5
    expected = norm.cdf((200 - 50) / 40) * norm.cdf((20 - 5) / 5)
    assert out.loc[0, "p_cell"] == pytest.approx(expected)
    assert out.attrs["growth_drift"] == 5.0
    assert value_growth_portfolio(frame, strategy).loc[0, "p_cell"] == 1.0


def test_portfolio_drift_measures_the_change_near_the_split() -> None:
    from tillage.strategy.portfolio import portfolio_drift

    strategy = loads_strategy("[portfolio]\nvalue_threshold = 100\ngrowth_threshold = 10\n")
    ids = list(range(40))
    previous = pd.DataFrame(
        {"account_id": ids, "ltv": [100.0] * 40, "expected_expansion_value": [10.0] * 40}
    )
    change = [(-1) ** i * 8.0 for i in ids]  # every estimate near the split moves by 8
    current = previous.assign(ltv=previous["ltv"] + change)
    drift = portfolio_drift(previous, current, strategy)
    # σ whose normal puts 90% of |change| below 8: 8 / Φ⁻¹(0.95)
    assert drift["ltv"] == pytest.approx(8 / 1.6448536269514722)
    assert drift["expected_expansion_value"] == 0.0


def test_deal_zones_split_the_company_own_probabilities() -> None:
    # every deal is likely by a fixed 0.5: the default splits at the deals' median instead
    deals = pd.DataFrame(
        {
            "opportunity_id": [1, 2, 3, 4],
            "account_id": [10, 10, 11, 12],
            "amount": [100.0, 10.0, 100.0, 10.0],
            "win_probability": [0.95, 0.92, 0.70, 0.65],
        }
    )
    out = deal_zones(deals)
    assert out["zone"].tolist() == ["A", "B", "B", "C"]
    assert out.attrs["probability_threshold"] == pytest.approx(0.81)
    fixed = deal_zones(deals, loads_strategy("[portfolio]\nwin_probability_threshold = 0.5\n"))
    assert fixed["zone"].tolist() == ["A", "B", "A", "B"]
