"""Accepting some of the review's recommendations: the page lists them with a tick box each
(the departure effect among them), the form and the API save only the ticked ones, and none
ticked is refused. The evidence is planted (``review_evidence`` returns effects whose intervals
exclude the strategy file's assumptions) so that the demo's review recommends three changes;
the strategy in force is put back after."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tillage.config import Settings
from tillage.services import page_pieces
from tillage.store.database import make_engine
from tillage.store.page_cache import clear_entries
from tillage.strategy.config import Strategy
from tillage.strategy.departure import DepartureCalibration
from tillage.strategy.effects import ActionEffect

PERIOD = "2026-10"
PREP = "playbooks.renewal_preparation.effect"
HEALTH = "playbooks.health_check.effect"
LEAVE = "key_person.churn_uplift_if_owner_leaves"


def _effect(action: str, estimate: float, low: float, high: float) -> ActionEffect:
    assumed = next(p.effect for p in Strategy().playbooks if p.action == action)
    return ActionEffect(
        action=action,
        basis="churn",
        assumed=assumed,
        estimate=estimate,
        low=low,
        high=high,
        se=0.05,
        weight=0.8,
        effect=estimate,
        source="learned",
        decisions=900,
        treated=300,
        note="",
    )


def _evidence(_engine, _as_of, _strategy):  # type: ignore[no-untyped-def]
    effects = {
        "renewal_preparation": _effect("renewal_preparation", 0.48, 0.35, 0.59),
        "health_check": _effect("health_check", 0.02, -0.1, 0.09),
    }
    departure = DepartureCalibration(
        uplift=0.1,
        assumed=0.25,
        source="learned",
        estimate=0.1,
        low=0.04,
        high=0.16,
        treated=70,
        note="",
    )
    return effects, departure


def _clear_page_cache(settings: Settings) -> None:
    """Reviews cached by other tests hold the store's own evidence, not the planted one."""
    engine = make_engine(settings.resolved_database_url)
    with Session(engine) as session:
        clear_entries(session)
    engine.dispose()


@pytest.fixture
def admin(
    client_as: Callable[[str | None], TestClient],
    demo_settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[TestClient]:
    monkeypatch.setattr(page_pieces, "review_evidence", _evidence)  # the review reads it there
    _clear_page_cache(demo_settings)
    client = client_as("admin")
    before = client.get("/api/v1/strategy").json()["text"]
    yield client
    token = {"X-CSRF-Token": client.get("/api/v1/me").json()["csrf_token"]}
    body = {"text": before, "comment": "test: put back"}
    assert client.put("/api/v1/strategy", json=body, headers=token).status_code == 200
    _clear_page_cache(demo_settings)  # the planted reviews must not outlive the test


def _in_force(client: TestClient) -> dict:
    return client.get("/api/v1/strategy").json()["strategy"]


def test_the_page_ticks_each_change_and_saves_only_the_ticked(admin: TestClient) -> None:
    page = admin.get(f"/review?period={PERIOD}&lang=ja")
    assert page.status_code == 200
    boxes = re.findall(r'<input type="checkbox" name="keys" value="([^"]+)" checked>', page.text)
    assert boxes == [PREP, HEALTH, LEAVE]
    assert "担当者が離任したときの解約リスクの上乗せ" in page.text  # the departure, in words
    assert "key_person" not in re.sub(r'value="[^"]*"', "", page.text)  # no code in the text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert csrf is not None
    before = _in_force(admin)
    answer = admin.post(
        f"/review/{PERIOD}/accept",
        data={"csrf_token": csrf.group(1), "keys": [HEALTH, LEAVE]},
        follow_redirects=False,
    )
    assert answer.status_code == 303 and answer.headers["location"].startswith("/settings?saved=")
    after = _in_force(admin)
    effect = {p["action"]: p["effect"] for p in after["playbooks"]}
    old = {p["action"]: p["effect"] for p in before["playbooks"]}
    assert effect["health_check"] == 0.02  # ticked
    assert effect["renewal_preparation"] == old["renewal_preparation"]  # unticked: unchanged
    assert after["key_person"]["churn_uplift_if_owner_leaves"] == 0.1
    # none ticked: refused, nothing saved
    versions = admin.get("/api/v1/strategy/versions").json()
    refused = admin.post(f"/review/{PERIOD}/accept", data={"csrf_token": csrf.group(1)})
    assert refused.status_code == 422
    assert admin.get("/api/v1/strategy/versions").json() == versions


def test_the_api_accepts_the_chosen_keys(admin: TestClient) -> None:
    token = {"X-CSRF-Token": admin.get("/api/v1/me").json()["csrf_token"]}
    before = _in_force(admin)
    answer = admin.post(
        f"/api/v1/reviews/{PERIOD}/accept?lang=en", json={"keys": [PREP]}, headers=token
    )
    assert answer.status_code == 200, answer.text
    assert [c["key"] for c in answer.json()["changes"]] == [PREP]
    after = _in_force(admin)
    assert {p["action"]: p["effect"] for p in after["playbooks"]}["renewal_preparation"] == 0.48
    assert after["key_person"] == before["key_person"]
    comment = admin.get("/api/v1/strategy/versions").json()[0]["comment"]
    assert comment.startswith(f"Review of {PERIOD}: Renewal preparation: assumed effect")
