"""Deals, plans, diffs, reviews, 1on1 agendas, departures and the audit log: what each role
gets back, on the scored 300-account demo store (the permission matrix checks the statuses)."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from tillage.config import Settings
from tillage.services.snapshot_frames import deal_cells
from tillage.store.access import account_filter, reach_ids
from tillage.store.database import make_engine
from tillage.store.records import AccountScore, PageCacheEntry
from tillage.store.schema import Account, Rep
from tillage.store.snapshots import latest_snapshot
from tillage.store.users import find_user, principal_for
from tillage.web.portfolio import likely_threshold

ROLES = ("admin", "manager", "rep", "rep2")


def _visible_names(client: TestClient) -> set[str]:
    page = client.get("/api/v1/accounts", params={"limit": 500}).json()
    return {item["name"] for item in page["items"]}


def _rep_ids(settings: Settings, login: str) -> tuple[int, set[int] | None]:
    """The rep id of ``login`` and the rep ids of their reach."""
    engine = make_engine(settings.resolved_database_url)
    with Session(engine) as session:
        user = find_user(session, login)
        own = session.scalar(select(Rep.id).where(Rep.key == user.rep_key))
        reach = reach_ids(session, principal_for(user, via="session"))
    engine.dispose()
    return own, reach


def test_deal_zones_and_deals_count_only_visible_deals(
    client_as: Callable[[str | None], TestClient],
) -> None:
    counts = {}
    for role in ROLES:
        client = client_as(role)
        zones = client.get("/api/v1/portfolio").json()["deal_zones"]
        deals = client.get("/api/v1/deals", params={"limit": 500}).json()
        assert deals["total"] == sum(z["deals"] for z in zones) == len(deals["items"])
        value = sum(d["expected_value"] or 0.0 for d in deals["items"])
        assert abs(value - sum(z["expected_value"] for z in zones)) < 1e-6 * max(1.0, value)
        edge = sum(bool(d["borderline"]) for d in deals["items"])
        assert edge == sum(z["borderline"] for z in zones)
        assert {d["account"] for d in deals["items"]} <= _visible_names(client)
        evs = [d["expected_value"] for d in deals["items"]]
        assert evs == sorted(evs, reverse=True)
        counts[role] = deals["total"]
    assert counts["admin"] > 0
    assert counts["rep"] <= counts["manager"] < counts["admin"]
    zone_a = client_as("admin").get("/api/v1/deals", params={"zone": "A", "limit": 500}).json()
    assert {d["zone"] for d in zone_a["items"]} <= {"A"}


def test_deal_pages_are_slices_of_the_whole_list(
    client_as: Callable[[str | None], TestClient],
) -> None:
    """The deal list is paged in the database: pages of 7 (any zone) join into the whole list,
    each with the whole list's total."""
    for role in ("admin", "manager"):
        client = client_as(role)
        for zone in (None, "B"):
            zoned = {} if zone is None else {"zone": zone}
            whole = client.get("/api/v1/deals", params={"limit": 500, **zoned}).json()
            paged = []
            for offset in range(0, whole["total"] + 7, 7):
                page = client.get(
                    "/api/v1/deals", params={"limit": 7, "offset": offset, **zoned}
                ).json()
                assert page["total"] == whole["total"]
                paged += page["items"]
            assert paged == whole["items"] and whole["total"] == len(whole["items"]) > 0


def test_the_deal_matrix_splits_each_callers_deals_as_the_deal_list_does(
    client_as: Callable[[str | None], TestClient], demo_settings: Settings
) -> None:
    """The portfolio page's four deal cells (summed in the database) hold the caller's open
    deals of the deal list: zone A and C whole, zone B split at the likely threshold."""
    engine = make_engine(demo_settings.resolved_database_url)
    for role in ROLES:
        deals = client_as(role).get("/api/v1/deals", params={"limit": 500}).json()
        with Session(engine) as session:
            snapshot = latest_snapshot(session).id
            likely_at = likely_threshold(session, snapshot)
            assert likely_at is not None
            principal = principal_for(find_user(session, role), via="session")
            cells = deal_cells(
                session, snapshot, visible=account_filter(principal), likely_at=likely_at
            )
        expected: dict[tuple[bool, bool], list[dict]] = {}
        for deal in deals["items"]:
            if deal["zone"] is None:
                continue
            likely = deal["win_probability"] is not None and deal["win_probability"] >= likely_at
            place = {"A": (True, True), "C": (False, False)}.get(deal["zone"], (not likely, likely))
            expected.setdefault(place, []).append(deal)
        assert [(c.large, c.likely) for c in cells] == [
            (False, False),
            (False, True),
            (True, False),
            (True, True),
        ]
        for cell in cells:
            members = expected.get((cell.large, cell.likely), [])
            assert cell.deals == len(members), (role, cell)
            assert cell.accounts == len({d["account_id"] for d in members})
            assert cell.amount == pytest.approx(sum(d["amount"] or 0.0 for d in members))
            assert cell.expected_value == pytest.approx(
                sum(d["expected_value"] or 0.0 for d in members)
            )
            assert cell.borderline == sum(bool(d["borderline"]) for d in members)
        assert sum(c.deals for c in cells) > 0 or role != "admin"
    engine.dispose()


def test_the_account_list_keeps_the_accounts_with_a_deal_in_a_zone(
    client_as: Callable[[str | None], TestClient],
) -> None:
    for role in ROLES:
        client = client_as(role)
        for zone in "ABC":
            deals = client.get("/api/v1/deals", params={"zone": zone, "limit": 500}).json()
            listed = client.get("/api/v1/accounts", params={"deal_zone": zone, "limit": 500}).json()
            assert listed["total"] == len(listed["items"])
            assert {a["account_id"] for a in listed["items"]} == {
                d["account_id"] for d in deals["items"]
            }
    assert client_as("admin").get("/api/v1/accounts", params={"deal_zone": "A"}).json()["total"]


def test_plans_a_rep_sees_their_own_a_manager_their_reach(
    client_as: Callable[[str | None], TestClient], demo_settings: Settings
) -> None:
    admin = client_as("admin").get("/api/v1/plans").json()
    assert admin["actions"] and admin["gap"] is not None
    assert abs(admin["uplift"] - sum(r["uplift"] or 0.0 for r in admin["reps"])) < 1e-6
    assert all(r["rep"] for r in admin["reps"])  # named, with or without planned actions
    month = admin["month"]
    assert {a["month"] for a in admin["actions"]} == {month}

    rep_id, _reach = _rep_ids(demo_settings, "rep")
    mine = client_as("rep").get("/api/v1/plans", params={"month": month[:7]}).json()
    assert {a["rep_id"] for a in mine["actions"]} <= {rep_id}
    assert [r["rep_id"] for r in mine["reps"]] == [rep_id]
    assert mine["gap"] is None
    assert mine["actions"] == [a for a in admin["actions"] if a["rep_id"] == rep_id]

    _own, reach = _rep_ids(demo_settings, "manager")
    assert reach
    team = client_as("manager").get("/api/v1/plans").json()
    assert {a["rep_id"] for a in team["actions"]} <= reach
    assert {r["rep_id"] for r in team["reps"]} <= reach
    assert team["gap"] == admin["gap"]
    assert len(team["actions"]) < len(admin["actions"])
    assert client_as("manager").get("/api/v1/plans", params={"month": "1999-01"}).status_code == 404


def test_diff_counts_only_visible_accounts(
    client_as: Callable[[str | None], TestClient],
) -> None:
    for role in ROLES:
        client = client_as(role)
        snapshot = client.get("/api/v1/snapshots").json()[0]["id"]
        visible = client.get("/api/v1/accounts", params={"limit": 1}).json()["total"]
        for by in ("segment", "zone"):
            diff = client.get(
                "/api/v1/diffs", params={"from": snapshot, "to": snapshot, "by": by}
            ).json()
            assert diff["accounts"] == visible == sum(c["accounts"] for c in diff["cells"])
            assert diff["moved"] == 0 and diff["moved_accounts"] == []
            assert all(c["from_value"] == c["to_value"] for c in diff["cells"])
    missing = client_as("admin").get("/api/v1/diffs", params={"from": 1, "to": 999_999})
    assert missing.status_code == 404


def test_review_of_a_manager_covers_their_reach_only(
    client_as: Callable[[str | None], TestClient],
) -> None:
    admin = client_as("admin").get("/api/v1/reviews/2026-Q3", params={"lang": "en"}).json()
    manager = client_as("manager").get("/api/v1/reviews/2026-q3", params={"lang": "en"}).json()
    assert admin["period"] == manager["period"] == "2026-Q3"
    admin_teams = {k["cut_value"] for k in admin["kpis"] if k["cut"] == "team"}
    manager_teams = {k["cut_value"] for k in manager["kpis"] if k["cut"] == "team"}
    assert manager_teams and manager_teams < admin_teams
    company = {k["kpi"]: k["value"] for k in admin["kpis"] if k["cut"] == "all"}
    assert company == {k["kpi"]: k["value"] for k in manager["kpis"] if k["cut"] == "all"}
    if admin["execution"]:
        total = {e["rep"]: e for e in admin["execution"] if e["rep_id"] is None}
        mine = {e["rep"]: e for e in manager["execution"] if e["rep_id"] is None}
        assert mine["Total"]["planned_actions"] <= total["Total"]["planned_actions"]


def test_one_on_one_lists_only_visible_accounts_in_either_language(
    client_as: Callable[[str | None], TestClient], demo_settings: Settings
) -> None:
    rep_key = find_rep_key(demo_settings, "rep")
    rep = client_as("rep")
    en = rep.get(f"/api/v1/one-on-one/{rep_key}", params={"lang": "en"}).json()
    ja = rep.get(f"/api/v1/one-on-one/{rep_key}", params={"lang": "ja"}).json()
    assert en["rep_key"] == ja["rep_key"] == rep_key
    assert en["top_accounts"]
    assert {a["name"] for a in en["top_accounts"] + en["at_risk"]} <= _visible_names(rep)
    assert en["questions"][-1]["question"] != ja["questions"][-1]["question"]
    by_id = rep.get(f"/api/v1/one-on-one/{en['rep_id']}", params={"lang": "en"}).json()
    assert by_id["top_accounts"] == en["top_accounts"]


def test_departure_of_a_managed_rep(
    client_as: Callable[[str | None], TestClient], demo_settings: Settings
) -> None:
    rep_key = find_rep_key(demo_settings, "rep")
    manager = client_as("manager")
    result = manager.get("/api/v1/simulate/departure", params={"rep": rep_key}).json()
    assert result["accounts"]
    assert {a["account"] for a in result["accounts"]} <= _visible_names(manager)
    at_risk = sum(a["ltv_at_risk"] for a in result["accounts"])
    assert abs(result["ltv_at_risk"] - at_risk) < 1e-6 * max(1.0, at_risk)
    assert result["single_threaded"] == sum(a["single_threaded"] for a in result["accounts"])
    assert all(a["ltv_at_risk"] == 0 for a in result["accounts"] if not a["single_threaded"])


def test_audit_log_pages_newest_first(client_as: Callable[[str | None], TestClient]) -> None:
    admin = client_as("admin")
    first = admin.get("/api/v1/audit", params={"limit": 2}).json()
    assert first["total"] >= 2 and len(first["items"]) == 2
    second = admin.get("/api/v1/audit", params={"limit": 2, "offset": 2}).json()
    ids = [e["id"] for e in first["items"] + second["items"]]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == len(ids)
    logins = admin.get("/api/v1/audit", params={"action": "login", "limit": 500}).json()
    assert logins["total"] >= 1
    assert {e["action"] for e in logins["items"]} == {"login"}


def find_rep_key(settings: Settings, login: str) -> str:
    """The rep key of a demo user."""
    engine = make_engine(settings.resolved_database_url)
    with Session(engine) as session:
        key = find_user(session, login).rep_key
    engine.dispose()
    assert key is not None
    return key


def test_the_review_acts_and_only_an_admin_accepts_its_changes(
    client_as: Callable[[str | None], TestClient], demo_settings: Settings
) -> None:
    admin = client_as("admin")
    # October: planned by the demo's snapshot of 2026-09-30, the Act's start
    review = admin.get("/api/v1/reviews/2026-10", params={"lang": "en"}).json()
    act = review["act"]
    assert [c["group"] for c in act["coverage"]] == ["covered", "uncovered"]
    assert act["cells"] and all(c["logged_hours"] >= 0 for c in act["cells"])
    assert {v["model"] for v in act["verdicts"]} == {"churn", "deals"}
    manager = client_as("manager")
    token = {"X-CSRF-Token": manager.get("/api/v1/me").json()["csrf_token"]}
    assert manager.post("/api/v1/reviews/2026-10/accept", json={}, headers=token).status_code == 403
    # an unknown recommendation is refused and nothing is saved
    before = admin.get("/api/v1/strategy/versions").json()
    token = {"X-CSRF-Token": admin.get("/api/v1/me").json()["csrf_token"]}
    answer = admin.post(
        "/api/v1/reviews/2026-10/accept", json={"keys": ["playbooks.nope.effect"]}, headers=token
    )
    assert answer.status_code == 422
    assert admin.get("/api/v1/strategy/versions").json() == before
    rep_key = find_rep_key(demo_settings, "rep")
    departure = admin.get("/api/v1/simulate/departure", params={"rep": rep_key}).json()
    assert departure["uplift_source"] == "assumed"  # no rep of the demo has left


def test_an_account_the_snapshot_did_not_score_is_marked_on_the_departure_page(
    own_store: tuple[Settings, Callable[[], TestClient]],
) -> None:
    """An account of the leaving rep missing from the snapshot (imported after it) shows
    「（未スコア）」 as its LTV at risk, not ¥0, which a sales manager would read as "no value"."""
    settings, admin_client = own_store
    engine = make_engine(settings.resolved_database_url)
    with Session(engine) as session:
        snapshot = latest_snapshot(session)
        assert snapshot is not None
        account_id, rep_key = session.execute(
            select(Account.id, Rep.key)
            .join(Rep, Rep.id == Account.owner_id)
            .order_by(Account.id)
            .limit(1)
        ).one()
        session.execute(
            delete(AccountScore).where(
                AccountScore.snapshot_id == snapshot.id, AccountScore.account_id == account_id
            )
        )
        session.execute(delete(PageCacheEntry))
        session.commit()
    engine.dispose()
    admin = admin_client()
    row = None
    for page in range(1, 50):
        html = admin.get("/departure", params={"rep": rep_key, "page": page}).text
        match = re.search(rf'<tr data-account="{account_id}">(.*?)</tr>', html, re.S)
        if match or 'rel="next"' not in html:
            row = match.group(1) if match else None
            break
    assert row is not None, "the unscored account is on no page of the departure"
    assert "（未スコア）" in row
    assert "￥0<" not in row and "¥0<" not in row
