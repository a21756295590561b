"""The renewals calendar, the account 360 overview and the new pages' data: what each role gets
back on the scored 300-account demo store, checked against the store's own rows (the permission
matrix checks the statuses)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from tillage.config import Settings
from tillage.store.database import make_engine
from tillage.store.schema import Contract

ROLES = ("admin", "manager", "rep", "rep2")


def _contracts(settings: Settings) -> list[Contract]:
    engine = make_engine(settings.resolved_database_url)
    with Session(engine) as session:
        rows = list(session.scalars(select(Contract)))
        session.expunge_all()
    engine.dispose()
    return rows


def test_renewals_are_the_undecided_ones_of_the_next_days(
    client_as: Callable[[str | None], TestClient], demo_settings: Settings
) -> None:
    contracts = _contracts(demo_settings)
    renewed = {c.renewed_from_id for c in contracts if c.renewed_from_id is not None}
    admin = client_as("admin")
    calendar = admin.get("/api/v1/renewals", params={"days": 365}).json()
    start = dt.date.fromisoformat(calendar["start"])
    end = dt.date.fromisoformat(calendar["end"])
    assert (end - start).days == 365
    expected = {
        c.id
        for c in contracts
        if start < c.end_date <= end
        and c.status not in ("churned", "expired", "renewed")
        and c.id not in renewed
    }
    items = calendar["items"]
    assert {i["contract_id"] for i in items} == expected and expected
    assert calendar["total"] == len(items)
    dates = [i["renewal_date"] for i in items]
    assert dates == sorted(dates)  # soonest first
    by_id = {c.id: c for c in contracts}
    for item in items:
        assert item["arr"] == pytest.approx(12 * by_id[item["contract_id"]].recurring_amount)
    assert calendar["total_arr"] == pytest.approx(sum(i["arr"] for i in items))
    # the default window is 90 days and holds the soonest ones
    short = admin.get("/api/v1/renewals").json()
    assert {i["contract_id"] for i in short["items"]} == {
        i["contract_id"] for i in items if i["days_to_renewal"] <= 90
    }
    # by rep: exactly that owner's; a rep sees a subset of what the admin sees
    rep_key = items[0]["rep_key"]
    mine = admin.get("/api/v1/renewals", params={"days": 365, "rep": rep_key}).json()["items"]
    assert mine and {i["rep_key"] for i in mine} == {rep_key}
    for role in ROLES[1:]:
        seen = {
            i["contract_id"]
            for i in client_as(role).get("/api/v1/renewals", params={"days": 365}).json()["items"]
        }
        assert seen <= expected
    assert admin.get("/api/v1/renewals", params={"days": 0}).status_code == 422


def test_the_overview_splits_priority_and_churn_into_shares(
    client_as: Callable[[str | None], TestClient], demo_settings: Settings
) -> None:
    admin = client_as("admin")
    items = admin.get("/api/v1/accounts", params={"limit": 40, "sort": "priority"}).json()["items"]
    contracts = _contracts(demo_settings)
    checked_churn = False
    for item in items:
        overview = admin.get(f"/api/v1/accounts/{item['account_id']}/overview").json()
        own = [c for c in contracts if c.account_id == item["account_id"]]
        assert {c["contract_id"] for c in overview["contracts"]} == {c.id for c in own}
        in_force = [c for c in overview["contracts"] if c["in_force"]]
        assert overview["arr"] == pytest.approx(sum(c["arr"] for c in in_force))
        parts = overview["priority_parts"]
        assert parts and {p["code"] for p in parts} == {r["code"] for r in item["reasons"]}
        total = sum(p["share"] for p in parts) + (overview["priority_other_share"] or 0.0)
        assert total == pytest.approx(1.0, abs=1e-3)
        if overview["churn_parts"]:
            checked_churn = True
            assert sum(p["share"] for p in overview["churn_parts"]) == pytest.approx(1.0)
        for deal in overview["open_deals"]:
            assert not deal["is_closed"]
        for deal in overview["past_deals"]:
            assert deal["is_closed"] and deal["win_probability"] is None
    assert checked_churn


def test_the_new_pages_answer_their_twins_data(
    client_as: Callable[[str | None], TestClient],
) -> None:
    manager = client_as("manager")
    assert (
        manager.get("/renewals", params={"format": "json"}).json()
        == manager.get("/api/v1/renewals").json()
    )
    assert (
        manager.get("/deals", params={"format": "json", "zone": "A"}).json()
        == manager.get("/api/v1/deals", params={"zone": "A"}).json()
    )
    rep_key = manager.get("/api/v1/renewals", params={"days": 365}).json()["items"][0]["rep_key"]
    page = manager.get("/departure", params={"format": "json", "rep": rep_key}).json()
    assert page == manager.get("/api/v1/simulate/departure", params={"rep": rep_key}).json()
    table = manager.get("/renewals", params={"format": "csv", "days": 365})
    rows = list(csv.DictReader(io.StringIO(table.text.lstrip("\ufeff"))))
    calendar = manager.get("/api/v1/renewals", params={"days": 365}).json()
    assert [int(r["contract_id"]) for r in rows] == [i["contract_id"] for i in calendar["items"]]
    html = manager.get("/renewals", params={"lang": "ja"}).text
    assert "更新予定" in html and "未決定" in html


def test_the_departure_page_shows_its_accounts_a_page_at_a_time(
    client_as: Callable[[str | None], TestClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Most LTV at risk first, a page at a time; the totals and the CSV twin keep every account
    (a rep of a large company holds thousands: the page rendered them all)."""
    monkeypatch.setattr("tillage.web.views.DEPARTURE_PER_PAGE", 3)
    manager = client_as("manager")
    rep_key = manager.get("/api/v1/renewals", params={"days": 365}).json()["items"][0]["rep_key"]
    every = manager.get("/api/v1/simulate/departure", params={"rep": rep_key}).json()["accounts"]
    assert len(every) > 3
    ranked = sorted(every, key=lambda a: -a["ltv_at_risk"])
    pages = -(-len(every) // 3)
    seen = []
    for number in range(1, pages + 1):
        html = manager.get("/departure", params={"rep": rep_key, "page": number}).text
        seen += [int(v) for v in re.findall(r'<tr data-account="(\d+)"', html)]
        assert f'<dd id="affected">{len(every):,}</dd>' in html  # the total covers them all
        assert ('rel="next"' in html) == (number < pages)
    assert seen == [a["account_id"] for a in ranked]
    table = manager.get("/departure", params={"rep": rep_key, "format": "csv", "page": 2})
    assert len(list(csv.DictReader(io.StringIO(table.text.lstrip("\ufeff"))))) == len(every)
