"""Learned action effects (tillage.strategy.effects) against the demo generator's planted ones."""

from __future__ import annotations

import pandas as pd
import pytest

from tillage.demo import DemoConfig, generate
from tillage.demo.playbooks import PLAYBOOK_EFFECTS
from tillage.strategy.config import Strategy
from tillage.strategy.effects import (
    effects_in_use,
    learned_effects,
    renewal_decisions,
    tag_activities,
)

AS_OF = "2026-09-30"


@pytest.fixture(scope="module")
def company():  # type: ignore[no-untyped-def]
    return generate(DemoConfig(n_accounts=600, n_reps=8, n_teams=2, orders_per_account=2))


@pytest.fixture(scope="module")
def effects(company):  # type: ignore[no-untyped-def]
    tables = company.tables
    return learned_effects(tables["contracts"], tables["activities"], AS_OF, Strategy())


def test_the_decisions_see_what_the_generator_planted(company) -> None:  # type: ignore[no-untyped-def]
    """No confounding leaks through measurement: every decision read from the tables has the
    generator's outcome and actions, and the actions' assignment, fitted on the covariates the
    estimator adjusts for, has the generator's slopes (0.5 per sd of log amount, 0.6 per unit
    of log(1 + activities in the 180 days before)): what drives the choice is observed."""
    from sklearn.linear_model import LogisticRegression

    tables = company.tables
    rows = renewal_decisions(tables["contracts"], tables["activities"], AS_OF, Strategy())
    truth = company.truth["renewals"]
    both = rows.merge(truth, on="contract_id", suffixes=("", "_truth"))
    assert len(both) == len(rows) > 1000
    assert (both["churned"] == both["churned_truth"].astype(int)).all()
    for action in PLAYBOOK_EFFECTS:
        assert (both[action] == both["taken_" + action]).all(), action
    z = (both["x_amount"] - 12.0) / 0.9
    x = pd.concat([z, both["x_engagement"]], axis=1).to_numpy()
    for action in PLAYBOOK_EFFECTS:
        fit = LogisticRegression(C=1e6, max_iter=1000).fit(x, both[action])
        assert fit.coef_[0] == pytest.approx([0.5, 0.6], abs=0.2), action


@pytest.mark.parametrize("action", sorted(PLAYBOOK_EFFECTS))
def test_planted_effect_lies_in_the_interval(effects, action: str) -> None:
    _basis, planted, _a = PLAYBOOK_EFFECTS[action]
    found = effects[action]
    assert found.estimate is not None and found.low is not None and found.high is not None
    assert found.low <= planted <= found.high, (planted, found)
    assert found.low <= found.estimate <= found.high


def test_a_real_effect_is_told_from_none(effects) -> None:  # type: ignore[no-untyped-def]
    assert effects["renewal_preparation"].low > 0  # planted 0.40
    none = effects["executive_sponsor_call"]  # planted 0
    assert none.low < 0 < none.high


def test_thin_evidence_stays_assumed(effects) -> None:  # type: ignore[no-untyped-def]
    for found in effects.values():
        if found.source == "assumed":
            assert found.effect == found.assumed
    # no activity is titled as a ticket recovery: nothing to learn from
    assert effects["ticket_recovery"].treated == 0
    assert effects["ticket_recovery"].source == "assumed"
    assert effects["competitive_defence"].estimate is None  # a pipeline playbook


def test_shrinkage_follows_the_formula(effects) -> None:  # type: ignore[no-untyped-def]
    tau = Strategy().effects.prior_sd
    for found in effects.values():
        if found.se is None:
            continue
        weight = tau**2 / (tau**2 + found.se**2)
        assert found.weight == pytest.approx(weight)
        if found.source == "learned":
            mixed = weight * found.estimate + (1 - weight) * found.assumed
            assert found.effect == pytest.approx(min(max(mixed, 0.0), 1.0))


def test_learned_effects_replace_assumed_ones_in_the_plans(effects) -> None:  # type: ignore[no-untyped-def]
    strategy = Strategy()
    forced = {
        k: v.model_copy(update={"source": "learned", "effect": 0.05}) for k, v in effects.items()
    }
    used = effects_in_use(forced, strategy)
    assert used["renewal_preparation"] == 0.05
    off = Strategy.model_validate({"effects": {"learn": False}})
    assert effects_in_use(forced, off)["renewal_preparation"] == 0.30


def test_subjects_tag_activities_in_both_languages() -> None:
    acts = pd.DataFrame(
        {"subject": ["更新準備の打ち合わせ", "Renewal Preparation call", "定例打ち合わせ", None]}
    )
    tags = tag_activities(acts, Strategy().playbooks).tolist()
    assert tags == ["renewal_preparation", "renewal_preparation", None, None]


def test_a_decision_counts_only_actions_inside_its_window() -> None:
    contracts = pd.DataFrame(
        {
            "id": [1, 2],
            "account_id": [7, 7],
            "start_date": ["2025-01-01", "2026-01-01"],
            "end_date": ["2026-01-01", "2027-01-01"],
            "term_months": [12, 12],
            "recurring_amount": [100_000.0, 120_000.0],
            "status": ["renewed", "active"],
            "renewed_from_id": [None, 1],
        }
    )
    acts = pd.DataFrame(
        {
            "account_id": [7, 7],
            "occurred_at": ["2025-12-20", "2025-06-01"],
            "subject": ["renewal preparation", "health check"],
        }
    )
    rows = renewal_decisions(contracts, acts, AS_OF, Strategy())
    assert len(rows) == 1  # the second term has not ended
    row = rows.iloc[0]
    assert row["churned"] == 0 and row["expanded"] == 1.0  # 120k > 100k × 1.05
    assert row["renewal_preparation"] == 1 and row["health_check"] == 0  # June is > 90 days out


def test_the_plan_uses_learned_effects_and_says_so(effects) -> None:  # type: ignore[no-untyped-def]
    import datetime as dt

    from tillage.strategy.plans import account_plans

    accounts = pd.DataFrame(
        {
            "account_id": [1, 2],
            "rep_id": [1, 1],
            "ltv": [10_000_000.0, 8_000_000.0],
            "churn_probability": [0.3, 0.3],
            "days_to_undecided_renewal": [20, 60],
            "segment": ["deepen", "maintain"],
        }
    )
    reps = pd.DataFrame({"rep_id": [1], "capacity_hours": [100.0], "hourly_cost": [5000.0]})
    learned = {
        k: v.model_copy(update={"source": "learned", "effect": 0.1}) for k, v in effects.items()
    }
    _actions, assumed = account_plans(accounts, reps, Strategy(), month=dt.date(2026, 10, 1))
    actions, record = account_plans(
        accounts, reps, Strategy(), month=dt.date(2026, 10, 1), effects=learned
    )
    prep = actions[actions["action"] == "renewal_preparation"]
    # uplift = effect × churn × LTV with the learned 0.1 instead of the assumed 0.3
    assert prep["expected_uplift"].tolist() == pytest.approx([0.1 * 0.3 * 10e6, 0.1 * 0.3 * 8e6])
    assert record["effects"]["renewal_preparation"]["source"] == "learned"
    assert assumed["effects"]["renewal_preparation"]["source"] == "assumed"
    assert assumed["effects"]["renewal_preparation"]["effect"] == 0.3
