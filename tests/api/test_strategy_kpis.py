"""/api/v1/strategy (read, validate, save with history and audit) and /api/v1/kpis (company
rows for everyone, cut rows as far as the caller reaches)."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import select

from tillage.config import Settings
from tillage.store.database import make_engine, session_scope
from tillage.store.schema import AuditEntry, Rep
from tillage.store.users import find_user
from tillage.strategy.config import Strategy

Clients = Callable[[str | None], TestClient]


def _csrf(client: TestClient) -> dict[str, str]:
    return {"X-CSRF-Token": client.get("/api/v1/me").json()["csrf_token"]}


def test_strategy_is_validated_saved_as_a_version_and_audited(
    client: TestClient, demo_settings: Settings
) -> None:
    current = client.get("/api/v1/strategy").json()
    if current["version"] is None:  # nothing saved yet in this store: the defaults
        assert current["strategy"] == Strategy().model_dump(mode="json")
    csrf = _csrf(client)
    check = client.post(
        "/api/v1/strategy/validate", json={"text": "discount_rate = 1.5"}, headers=csrf
    ).json()
    assert check["valid"] is False and "discount_rate" in check["message"]
    bad_toml = client.post(
        "/api/v1/strategy/validate", json={"text": "[unclosed"}, headers=csrf
    ).json()
    assert bad_toml["valid"] is False and "TOML" in bad_toml["message"]
    good = client.post(
        "/api/v1/strategy/validate", json={"text": "horizon_months = 24"}, headers=csrf
    ).json()
    assert good["valid"] and good["strategy"]["horizon_months"] == 24
    refused = client.put(
        "/api/v1/strategy", json={"text": "horizon_months = -1"}, headers=_csrf(client)
    )
    assert refused.status_code == 422 and "horizon_months" in refused.json()["error"]["message"]
    assert client.get("/api/v1/strategy").json() == current  # nothing saved
    text = "# shorter horizon\nhorizon_months = 24\n"
    saved = client.put(
        "/api/v1/strategy", json={"text": text, "comment": "test"}, headers=_csrf(client)
    ).json()
    assert saved["text"] == text and saved["strategy"]["horizon_months"] == 24
    assert saved["version"]["created_by"] == "admin" and saved["version"]["comment"] == "test"
    assert client.get("/api/v1/strategy").json() == saved
    versions = client.get("/api/v1/strategy/versions").json()
    assert versions[0] == saved["version"]
    one = client.get(f"/api/v1/strategy/versions/{versions[0]['id']}").json()
    assert one["text"] == text and one["sha256"] == saved["sha256"]
    engine = make_engine(demo_settings.resolved_database_url)
    with session_scope(engine) as session:
        entry = session.scalars(
            select(AuditEntry)
            .where(AuditEntry.action == "strategy.update")
            .order_by(AuditEntry.id.desc())
        ).first()
        assert entry.actor == "admin" and entry.object_id == str(saved["version"]["id"])
    engine.dispose()


def _rows(client: TestClient, **params: str) -> list[dict]:
    response = client.get("/api/v1/kpis", params={"period": "2026-Q3", **params})
    assert response.status_code == 200, response.text
    return response.json()["rows"]


def test_kpi_rows_follow_what_each_role_may_see(
    client_as: Clients, demo_settings: Settings
) -> None:
    admin = _rows(client_as("admin"), by="rep")
    company = [r for r in admin if r["cut"] == "all"]
    assert company and all(r["cut_value"] == "all" for r in company)
    admin_reps = {r["cut_value"] for r in admin if r["cut"] == "rep"}
    engine = make_engine(demo_settings.resolved_database_url)
    with session_scope(engine) as session:
        rep_name = session.scalars(
            select(Rep.name).where(Rep.key == find_user(session, "rep").rep_key)
        ).one()
    engine.dispose()
    rep = _rows(client_as("rep"), by="rep")
    assert {r["cut_value"] for r in rep if r["cut"] == "rep"} == {rep_name}
    manager_reps = {
        r["cut_value"] for r in _rows(client_as("manager"), by="rep") if r["cut"] == "rep"
    }
    assert {rep_name} < manager_reps < admin_reps
    assert [r for r in rep if r["cut"] == "all"] == company  # the company row is shared
    mine = [r for r in admin if r["cut_value"] == rep_name]
    assert mine == [r for r in rep if r["cut"] == "rep"]
    teams = {r["cut_value"] for r in _rows(client_as("rep2"), by="team") if r["cut"] == "team"}
    assert len(teams) == 1

    # by segment, a rep's rows count only the accounts they may see
    def accounts(rows: list[dict]) -> float:
        return sum(
            r["denominator"] or 0 for r in rows if r["cut"] == "segment" and r["kpi"] == "grr"
        )

    assert (
        0
        < accounts(_rows(client_as("rep"), by="segment"))
        < accounts(_rows(client_as("admin"), by="segment"))
    )
    bad = client_as("rep").get("/api/v1/kpis", params={"period": "2026-Q5"})
    assert bad.status_code == 422 and set(bad.json()) == {"error"}
