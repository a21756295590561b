"""The period review page in Chromium against the demo company: Japanese headings, the API's
KPI rows, and a rep refused as the API refuses them."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_review_page_in_japanese_shows_japanese_headings(page_as) -> None:
    page = page_as("manager")
    page.goto("/review?period=2026-Q3&lang=ja")
    expect(page.locator("h1")).to_contain_text("期間レビュー")
    headings = page.locator(".report h2").all_text_contents()
    assert headings == [
        "KPI",
        "セグメント移動",
        "計画の実行状況",
        "予測精度",
        "定例訪問と顧客維持",
        "改善（Act）",
    ]
    expect(page.locator("header nav")).to_contain_text("期間レビュー")
    api = page.request.get("/api/v1/reviews/2026-Q3", params={"lang": "ja"}).json()
    rows = page.locator("#review-kpis tbody tr")
    expect(rows).to_have_count(len(api["kpis"]))
    expect(rows.first.locator("td").first).to_have_text(api["kpis"][0]["name"])
    for note in api["notes"]:
        expect(page.locator(".report")).to_contain_text(note)


def test_a_rep_gets_403_for_the_review_as_from_the_api(page_as) -> None:
    page = page_as("rep")
    assert page.request.get("/api/v1/reviews/2026-Q3").status == 403
    response = page.goto("/review?period=2026-Q3&lang=en")
    assert response is not None and response.status == 403
    expect(page.locator("h1")).to_have_text("Not allowed")
