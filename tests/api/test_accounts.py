"""/api/v1/accounts, /api/v1/portfolio and their dashboard twin show the same numbers."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from fastapi.testclient import TestClient
from markupsafe import escape

from tillage.config import Settings
from tillage.i18n import format_money
from tillage.models.forecast_text import reason_text
from tillage.server import create_app
from tillage.store.database import make_engine, migrate, session_scope
from tillage.store.users import create_token, create_user, find_user

from .conftest import TEST_SECRET

N_ACCOUNTS = 300  # the size of the session's demo company (tests/api/conftest.py)
NOW = dt.datetime(2026, 10, 1, 9, 0)


def test_accounts_are_paginated_and_sorted_by_ltv(client: TestClient) -> None:
    first = client.get("/api/v1/accounts", params={"limit": 100}).json()
    second = client.get("/api/v1/accounts", params={"limit": 100, "offset": 100}).json()
    assert first["total"] == N_ACCOUNTS
    ltv = [item["ltv"] for item in first["items"] + second["items"]]
    assert ltv == sorted(ltv, reverse=True)
    keys = [item["key"] for item in first["items"] + second["items"]]
    assert len(set(keys)) == 200
    assert first["snapshot"]["as_of"] == "2026-09-30"


def test_zone_filter_and_portfolio_agree(client: TestClient) -> None:
    portfolio = client.get("/api/v1/portfolio").json()
    counts = {z["zone"]: z["accounts"] for z in portfolio["zones"]}
    assert sum(counts.values()) == N_ACCOUNTS
    assert counts["A"] == round(0.2 * N_ACCOUNTS)
    zone_a = client.get("/api/v1/accounts", params={"zone": "A", "limit": 500}).json()
    assert zone_a["total"] == counts["A"]
    assert {item["zone"] for item in zone_a["items"]} == {"A"}
    total_a = next(z["total_ltv"] for z in portfolio["zones"] if z["zone"] == "A")
    assert abs(sum(item["ltv"] for item in zone_a["items"]) - total_a) < 1.0
    # Zone A holds the most valuable accounts.
    zone_b = client.get("/api/v1/accounts", params={"zone": "B", "limit": 1}).json()
    assert min(item["ltv"] for item in zone_a["items"]) >= zone_b["items"][0]["ltv"]


def test_bad_parameters_are_refused(client: TestClient) -> None:
    assert client.get("/api/v1/accounts", params={"limit": 0}).status_code == 422
    assert client.get("/api/v1/accounts", params={"zone": "Z"}).status_code == 422
    assert client.get("/api/v1/accounts", params={"sort": "password"}).status_code == 422


def test_page_shows_what_the_api_returns_in_japanese(client: TestClient) -> None:
    # the page lists by priority by default; compare like with like
    top = client.get("/api/v1/accounts", params={"limit": 1, "sort": "priority"}).json()
    top = top["items"][0]
    page = client.get("/accounts", params={"sort": "priority", "order": "desc"})
    assert page.status_code == 200
    html = page.text
    assert "取引先一覧" in html and "LTV 合計" in html
    assert top["name"] in html
    assert format_money(top["ltv"], "JPY", "ja") in html
    english = client.get("/accounts", params={"lang": "en", "sort": "priority"}).text
    assert "Total LTV" in english and format_money(top["ltv"], "JPY", "en") in english
    # the language choice sticks in a cookie
    assert client.cookies.get("lang") == "en"
    assert "Total LTV" in client.get("/accounts").text


def test_account_detail_says_which_forecast_was_used_and_why(client: TestClient) -> None:
    top = client.get("/api/v1/accounts", params={"limit": 1}).json()["items"][0]
    detail = client.get(f"/api/v1/accounts/{top['account_id']}").json()
    forecast = detail["forecast"]
    assert {"contract_revenue", "order_revenue", "churn", "interval"} <= set(forecast)
    assert forecast["churn"]["forecast"] in ("model", "renewal rate")
    page = client.get(f"/accounts/{top['account_id']}").text
    assert "予測の選び方" in page
    for stream, label in (("order_revenue", "受注売上"), ("churn", "期間内の解約確率")):
        assert label in page
        assert str(escape(reason_text(forecast[stream], "ja"))) in page
    english = client.get(f"/accounts/{top['account_id']}", params={"lang": "en"}).text
    assert "How the forecast was chosen" in english
    assert str(escape(forecast["order_revenue"]["reason"])) in english


def test_page_zone_filter_lists_only_that_zone(client: TestClient) -> None:
    html = client.get("/accounts", params={"zone": "C", "lang": "en"}).text
    badges = re.findall(r'<td[^>]*><span class="badge (\w)">', html)
    assert badges and set(badges) == {"C"}


def test_empty_store_answers_with_the_json_error_shape(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, secret_key=TEST_SECRET, _env_file=None)
    engine = make_engine(settings.resolved_database_url)
    migrate(engine)
    with session_scope(engine) as session:
        create_user(
            session, login="root", display_name="", role="admin", password="pw-long-1", now=NOW
        )
        _token, secret = create_token(
            session, find_user(session, "root"), name="t", scopes=["read"], now=NOW
        )
    engine.dispose()
    with TestClient(create_app(settings)) as client:
        response = client.get("/api/v1/accounts", headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 404
    body = response.json()
    assert body["error"]["type"] == "NotFoundError"
    assert "tillage demo" in body["error"]["message"]


def test_openapi_declares_error_responses(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    responses = spec["paths"]["/api/v1/accounts"]["get"]["responses"]
    assert {"200", "404", "422"} <= set(responses)
