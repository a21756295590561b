"""Capacity-constrained plans: a hand-checked optimum, must-dos, and beating the naive plan."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tillage.strategy.allocation import allocate, available_hours, candidate_actions
from tillage.strategy.config import Strategy


def _cands(rows: list[tuple]) -> pd.DataFrame:
    cols = ["account_id", "rep_id", "action", "hours", "uplift", "must_do", "revenue"]
    return pd.DataFrame(rows, columns=cols)


def test_hand_made_instance_has_the_known_optimum() -> None:
    # rep 1 has 10 h. The richest account's 6 h / 60 action crowds out two 5 h / 40 actions:
    # the optimum takes those two (80), the naive plan the big one (60).
    cands = _cands(
        [
            (1, 1, "renewal", 6, 60.0, False, 1000.0),
            (2, 1, "renewal", 5, 40.0, False, 500.0),
            (3, 1, "renewal", 5, 40.0, False, 400.0),
            (3, 1, "upsell", 4, 10.0, False, 400.0),
        ]
    )
    result = allocate(cands, pd.Series({1: 10.0}))
    assert result.plan.loc[result.plan["chosen"], "account_id"].tolist() == [2, 3]
    assert result.uplift == 80
    assert result.naive_uplift == 60 + 10
    assert result.decomposed
    # LP relaxation: the 10/h action whole (60) and 4 of 5 h of an 8/h one (32) = 92
    assert result.lp_bound == pytest.approx(92)
    assert result.gap == pytest.approx(12 / 92)


def test_must_do_action_account_limit_and_one_per_kind() -> None:
    cands = _cands(
        [
            (1, 1, "renewal", 4, 1.0, True, 10.0),  # must-do, worth little
            (2, 1, "health", 2, 30.0, False, 5.0),
            (2, 1, "upsell", 2, 20.0, False, 5.0),
            (2, 2, "upsell", 2, 25.0, False, 5.0),  # the same kind by another rep
        ]
    )
    strategy = Strategy.model_validate({"capacity": {"max_actions_per_account": 2}})
    result = allocate(cands, pd.Series({1: 6.0, 2: 4.0}), strategy)
    chosen = result.plan.loc[result.plan["chosen"]]
    assert set(zip(chosen["account_id"], chosen["action"], chosen["rep_id"], strict=True)) == {
        (1, "renewal", 1),
        (2, "health", 1),
        (2, "upsell", 2),
    }
    assert not result.decomposed  # account 2 spans two reps: solved whole


def test_must_dos_beyond_capacity_are_overtime() -> None:
    cands = _cands([(1, 7, "renewal", 4, 1.0, True, 10.0), (2, 7, "renewal", 4, 1.0, True, 9.0)])
    result = allocate(cands, pd.Series({7: 5.0}))
    assert result.plan["chosen"].all()
    assert "rep 7" in result.notes[0]


def _brute_force(cands: pd.DataFrame, capacity: pd.Series, max_actions: int) -> float:
    """The best uplift over every subset of the candidates (2ⁿ plans, checked one by one)."""
    n = len(cands)
    plans = ((np.arange(2**n)[:, None] >> np.arange(n)) & 1).astype(bool)
    ok = plans[:, cands["must_do"].to_numpy()].all(axis=1)
    for rep, hours in capacity.items():
        mine = (cands["rep_id"] == rep).to_numpy()
        ok &= plans[:, mine] @ cands["hours"].to_numpy()[mine] <= hours + 1e-9
    for _, idx in cands.groupby("account_id").indices.items():
        ok &= plans[:, idx].sum(axis=1) <= max_actions
    for _, idx in cands.groupby(["account_id", "action"]).indices.items():
        ok &= plans[:, idx].sum(axis=1) <= 1
    return float((plans[ok] @ cands["uplift"].to_numpy()).max())


@pytest.mark.parametrize("seed", range(12))
def test_plan_is_the_exhaustive_optimum(seed: int) -> None:
    # 13 candidates on 2 reps and 5 accounts, repeated kinds, a must-do: every one of the 8,192
    # plans is checked, and the LP bound lies above the optimum
    rng = np.random.default_rng(seed)
    n = 13
    cands = _cands(
        [
            (
                int(a),
                int(a) % 2 if seed % 3 else int(rng.integers(0, 2)),
                f"k{int(rng.integers(0, 4))}",
                float(rng.choice([1, 2, 3, 5])),
                float(rng.lognormal(3, 1)),
                j == 0,
                100.0 - a,
            )
            for j, a in enumerate(rng.integers(0, 5, n))
        ]
    )
    capacity = pd.Series({0: 7.0, 1: 6.0})
    strategy = Strategy.model_validate({"capacity": {"max_actions_per_account": 2}})
    best = _brute_force(cands, capacity, 2)
    result = allocate(cands, capacity, strategy)
    assert result.uplift == pytest.approx(best, rel=1e-9)
    assert result.lp_bound >= best - 1e-9


def test_optimizer_beats_naive_on_a_demo_like_instance() -> None:
    rng = np.random.default_rng(8)
    n = 600
    accounts = pd.DataFrame(
        {
            "account_id": np.arange(n),
            "rep_id": rng.integers(0, 12, n),
            "ltv": rng.lognormal(15, 1.2, n),
            "churn_probability": rng.beta(1.5, 6, n),
            "expected_expansion_value": rng.lognormal(13, 1.5, n) * rng.binomial(1, 0.5, n),
            "days_to_next_renewal": rng.integers(0, 365, n).astype(float),
            "open_with_competitor": rng.binomial(1, 0.15, n),
            "open_pipeline_with_competitor": rng.lognormal(14, 1, n),
            "win_probability": rng.uniform(0.1, 0.8, n),
        }
    )
    accounts["revenue"] = accounts["ltv"] / 3 * rng.uniform(0.5, 1.5, n)
    strategy = Strategy()
    cands = candidate_actions(accounts, strategy)
    assert set(cands["action"]) >= {"renewal_preparation", "expansion_proposal"}
    assert cands.loc[cands["must_do"], "action"].eq("renewal_preparation").all()
    reps = pd.DataFrame({"rep_id": np.arange(12), "capacity_hours": 80.0})
    result = allocate(cands, available_hours(reps, strategy), strategy)
    assert result.decomposed
    assert result.uplift > 1.2 * result.naive_uplift
    assert result.gap < 1e-3
    planned = result.plan.loc[result.plan["chosen"]].groupby("rep_id")["hours"].sum()
    assert (planned <= 56 + 1e-9).all() or result.notes
    per_account = result.plan.loc[result.plan["chosen"]].groupby("account_id").size()
    assert per_account.max() <= strategy.capacity.max_actions_per_account
    assert result.reps["uplift"].sum() == pytest.approx(result.uplift)


def test_two_processes_give_the_same_plan() -> None:
    rng = np.random.default_rng(3)
    n = 400
    cands = _cands(
        [
            (i // 4, i // 40, f"k{i % 4}", float(rng.choice([1, 2, 4])), rng.lognormal(3), False, i)
            for i in range(n)
        ]
    )
    capacity = pd.Series(12.0, index=range(10))
    one = allocate(cands, capacity, workers=1)
    two = allocate(cands, capacity, workers=2)
    assert two.plan["chosen"].tolist() == one.plan["chosen"].tolist()
    assert two.lp_bound == pytest.approx(one.lp_bound)
    assert one.plan["chosen"].sum() > 0 and 0 <= one.gap < 0.01
