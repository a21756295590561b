"""Applying the review's recommendations to the strategy file (tillage.services.strategy_changes)
and writing it back as TOML."""

from __future__ import annotations

import pytest

from tillage.errors import DataValidationError
from tillage.kpi.act import Recommendation
from tillage.services.strategy_changes import apply_recommendations
from tillage.strategy.config import Strategy, loads_strategy
from tillage.strategy.config_text import strategy_toml


def _change(field: str, proposed: float) -> Recommendation:
    return Recommendation(key=field, field=field, current=0.3, proposed=proposed, evidence="e")


def test_an_accepted_change_moves_only_its_playbook() -> None:
    before = Strategy.model_validate({"kpi": {"team_targets": {"東日本": {"nrr": 110}}}})
    after = apply_recommendations(before, [_change("playbooks.renewal_preparation.effect", 0.08)])
    effects = {p.action: p.effect for p in after.playbooks}
    assert effects["renewal_preparation"] == 0.08
    assert effects["health_check"] == 0.15
    text = strategy_toml(after)
    assert loads_strategy(text) == after  # the saved text reads back as the changed strategy
    assert after.kpi.team_targets == {"東日本": {"nrr": 110}}


def test_a_change_to_an_unknown_field_is_refused() -> None:
    with pytest.raises(DataValidationError, match=r"no field playbooks\.nothing\.effect"):
        apply_recommendations(Strategy(), [_change("playbooks.nothing.effect", 0.1)])


def test_an_accepted_departure_change_moves_the_key_person_uplift() -> None:
    field = "key_person.churn_uplift_if_owner_leaves"
    after = apply_recommendations(Strategy(), [_change(field, 0.12)])
    assert after.key_person.churn_uplift_if_owner_leaves == 0.12
    assert [p.effect for p in after.playbooks] == [p.effect for p in Strategy().playbooks]
    with pytest.raises(DataValidationError, match=r"no field key_person\.nothing"):
        apply_recommendations(Strategy(), [_change("key_person.nothing", 0.1)])
