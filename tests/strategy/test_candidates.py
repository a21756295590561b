"""Candidate actions that make sense line by line: must-dos pay for their hours (or are a policy
exception), renewals on file are not due, playbooks serve their portfolio cells, a critical
ticket brings a recovery."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tillage.strategy.candidates import candidate_actions
from tillage.strategy.config import Strategy, loads_strategy

CRITICAL = [{"ticket": "T-1", "severity": 1, "age_days": 177.0}]


def _accounts() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "account_id": [1, 2, 3, 4, 5, 6],
            "rep_id": [9] * 6,
            "ltv": [87e6, 3e6, 2e5, -4e5, 5e6, 5e6],
            "churn_probability": [0.3, 0.3, 0.005, 0.3, 0.05, 0.05],
            "days_to_next_renewal": [1.0, 1.0, 1.0, 1.0, 200.0, 200.0],
            # account 2's renewal is already on file: its next undecided one is far away
            "days_to_undecided_renewal": [1.0, np.nan, 1.0, 1.0, np.nan, np.nan],
            "expected_expansion_value": [4e6, 0.0, 0.0, 0.0, 4e6, 4e6],
            "segment": ["deepen", "maintain", "reduce", "reduce", "nurture", "reduce"],
            "severe_tickets": [CRITICAL, [], [], [], [], []],
            "revenue": [30e6, 1e6, 1e5, 5e5, 2e6, 2e6],
        }
    )


def test_must_dos_pay_for_their_hours() -> None:
    strategy = Strategy()
    cands = candidate_actions(_accounts(), strategy)
    cost = strategy.cost_per_rep_hour
    must = cands[cands["must_do"]]
    # no must-do whose uplift is below the cost of the rep's hours, none negative
    assert (must["uplift"] > must["hours"] * cost).all()
    assert not cands["policy"].any()
    # account 1: renewal tomorrow and a critical ticket, both worth far more than their hours
    assert set(must.loc[must["account_id"] == 1, "action"]) == {
        "renewal_preparation",
        "ticket_recovery",
    }
    # account 2's renewal is on file: nothing is due; account 3's tiny uplift (0.3 × 0.5% ×
    # ¥200K = ¥300 for 4 h) is no must-do; account 4 is worth less than nothing
    assert set(must["account_id"]) == {1}
    assert not cands["account_id"].isin([3, 4]).any()


def test_a_policy_exception_is_marked() -> None:
    strategy = loads_strategy("[capacity]\npolicy_min_revenue = 100000\n")
    cands = candidate_actions(_accounts(), strategy)
    policy = cands[cands["policy"]]
    # account 3's renewal preparation does not pay but its revenue meets the policy; account
    # 4's (negative LTV) meets it too and is kept only as a marked exception
    assert sorted(policy["account_id"]) == [3, 4]
    assert policy["must_do"].all() and policy["action"].eq("renewal_preparation").all()


def test_playbooks_serve_their_cells() -> None:
    cands = candidate_actions(_accounts(), Strategy())
    by_account = cands.groupby("account_id")["action"].apply(set)
    # expansion proposals go to deepen accounts only, not to the nurture or reduce ones
    assert "expansion_proposal" in by_account[1]
    assert "expansion_proposal" not in by_account.get(5, set())
    assert "expansion_proposal" not in by_account.get(6, set())
    # low-touch nurture is no longer always on: never for the deepen account
    assert not cands.loc[cands["account_id"] == 1, "action"].eq("low_touch_nurture").any()
    # without a cell every playbook may serve the account
    loose = _accounts().drop(columns="segment")
    assert "expansion_proposal" in set(
        candidate_actions(loose, Strategy()).query("account_id == 5")["action"]
    )
