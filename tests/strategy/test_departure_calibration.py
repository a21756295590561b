"""The departure effect calibrated from reps who left (tillage.strategy.departure)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tillage.strategy.config import Strategy
from tillage.strategy.departure import calibrate_departure

PLANTED = 0.20


def _history(n: int = 3000, seed: int = 3) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """n renewal decisions of n accounts; the rep of every fifth account left 60 days before
    its decision, which raises its churn probability by PLANTED (base 0.1 + 0.05·amount z)."""
    rng = np.random.default_rng(seed)
    decided = pd.Timestamp("2026-06-30")
    z = rng.normal(size=n)
    exposed = np.arange(n) % 5 == 0
    p = np.clip(0.1 + 0.05 * z, 0.01, 0.5) + PLANTED * exposed
    decisions = pd.DataFrame(
        {
            "account_id": np.arange(n),
            "contract_id": np.arange(n),
            "decided_on": decided,
            "churned": (rng.random(n) < p).astype(int),
            "x_amount": z,
            "x_monthly": 0.0,
            "x_engagement": rng.normal(size=n),
            "x_terms": 0.0,
        }
    )
    rep = np.where(exposed, 1, 2)
    activities = pd.DataFrame(
        {"account_id": np.arange(n), "rep_id": rep, "occurred_at": decided - pd.Timedelta(days=100)}
    )
    reps = pd.DataFrame({"rep_id": [1, 2], "left_on": [decided - pd.Timedelta(days=60), pd.NaT]})
    return decisions, activities, reps


def test_leavers_calibrate_the_uplift() -> None:
    decisions, activities, reps = _history()
    found = calibrate_departure(decisions, activities, reps, Strategy())
    assert found.treated == 600
    assert found.low is not None and found.high is not None
    assert found.low <= PLANTED <= found.high
    assert found.source == "learned"
    assert found.uplift != Strategy().key_person.churn_uplift_if_owner_leaves


def test_without_leavers_the_uplift_is_assumed() -> None:
    decisions, activities, reps = _history(n=200)
    reps["left_on"] = pd.NaT
    found = calibrate_departure(decisions, activities, reps, Strategy())
    assert found.source == "assumed" and found.estimate is None
    assert found.uplift == pytest.approx(0.25)
