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
