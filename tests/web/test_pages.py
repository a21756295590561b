"""The dashboard pages in Chromium against ``tillage serve`` on the demo company.

Each test compares what the page shows with what the JSON API answers to the same user (the
page's own session calls the API), so a page that drifts from its twin fails.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tillage.i18n import format_money

pytestmark = pytest.mark.browser

DEAL_FIGURE = '[data-figure="deal-figure"]'


def _listed_ids(page: Page, url: str) -> set[int]:
    """Every account id the list shows for ``url``, following the Next links."""
    ids: set[int] = set()
    page.goto(url)
    while True:
        ids |= {
            int(i)
            for i in page.locator("#accounts tbody tr[data-account]").evaluate_all(
                "rows => rows.map(r => r.dataset.account)"
            )
        }
        following = page.locator("nav.pages a[rel=next]")
        if following.count() == 0:
            return ids
        following.click()


def _api_ids(page: Page, **params: str) -> set[int]:
    body = page.request.get("/api/v1/accounts", params={"limit": "500", **params}).json()
    assert body["total"] == len(body["items"])
    return {item["account_id"] for item in body["items"]}


def test_a_rep_sees_only_their_own_accounts(page_as) -> None:
    admin_ids = _api_ids(page_as("admin"))
    page = page_as("rep")
    shown = _listed_ids(page, "/accounts?lang=en")
    assert shown == _api_ids(page)
    assert 0 < len(shown) < len(admin_ids)
    expect(page.locator("header .user")).to_contain_text("Sales rep")
    # someone else's account answers 404, as in the API
    other = min(admin_ids - shown)
    response = page.goto(f"/accounts/{other}")
    assert response is not None and response.status == 404
    expect(page.locator("h1")).to_have_text("Not found")


def test_portfolio_heatmap_counts_match_the_api(page_as) -> None:
    page = page_as("manager")
    page.goto("/portfolio?lang=en")
    page.wait_for_selector(f'{DEAL_FIGURE}[data-rendered="true"]')
    assert page.locator(f"{DEAL_FIGURE} svg.main-svg").count() >= 1
    labels = page.locator(f"{DEAL_FIGURE} .heatmap-label").all_text_contents()
    assert len(labels) == 4  # large/small × likely/unlikely
    drawn: dict[str, int] = {}
    for label in labels:
        match = re.fullmatch(r"Zone ([ABC])(\d+) deals?(.+?)(⚠.*)?", label)
        assert match, label
        drawn[match[1]] = drawn.get(match[1], 0) + int(match[2])
    portfolio = page.request.get("/api/v1/portfolio").json()
    zoned = {z["zone"]: z for z in portfolio["deal_zones"] if z["zone"]}
    # B's two cells add up; a zone without deals is an empty cell here, absent from the API
    assert {z: n for z, n in drawn.items() if n} == {z: v["deals"] for z, v in zoned.items()}
    # the tables under the chart show the same, to the yen
    for z, v in zoned.items():
        row = page.locator(f'tr[data-deal-zone="{z}"] td.num')
        expect(row.nth(0)).to_have_text(str(v["deals"]))
        expect(row.nth(1)).to_have_text(format_money(v["amount"], "JPY", "en"))
    for z in portfolio["zones"]:
        row = page.locator(f'tr[data-zone="{z["zone"]}"] td.num')
        expect(row.nth(0)).to_have_text(str(z["accounts"]))
        expect(row.nth(1)).to_have_text(format_money(z["total_ltv"], "JPY", "en"))


def test_clicking_a_cell_lists_its_accounts(page_as) -> None:
    page = page_as("admin")
    page.goto("/portfolio?lang=en")
    page.wait_for_selector(f'{DEAL_FIGURE}[data-rendered="true"]')
    cell = page.locator(f"{DEAL_FIGURE} .heatmap-label", has_text="Zone A")
    box = cell.bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_url("**/accounts?deal_zone=A")
    deals = page.request.get("/api/v1/deals", params={"zone": "A"}).json()["items"]
    with_a = {d["account_id"] for d in deals}
    assert with_a
    expect(page.locator("main p.muted").first).to_contain_text(f"{len(with_a)} accounts")
    assert _listed_ids(page, "/accounts?deal_zone=A&lang=en") == with_a


def test_switching_to_japanese_shows_japanese_labels_in_a_cjk_font(page_as) -> None:
    page = page_as("rep")
    page.goto("/portfolio?lang=en")
    expect(page.locator("h1")).to_have_text("Portfolio")
    page.click('header a[hreflang="ja"]')
    expect(page.locator("h1")).to_have_text("ポートフォリオ")
    expect(page.locator("header nav")).to_contain_text("取引先")
    page.wait_for_selector(f'{DEAL_FIGURE}[data-rendered="true"]')
    expect(page.locator(f"{DEAL_FIGURE} .heatmap-label").first).to_contain_text("ゾーン")
    # the choice sticks: the next page, without ?lang, is Japanese too
    page.goto("/accounts")
    expect(page.locator("h1")).to_have_text("取引先一覧")
    # the Japanese glyphs come from an installed CJK font, not tofu boxes
    assert page.evaluate("document.fonts.check('16px \"Noto Sans CJK JP\"', '取引先一覧')")
    widths = page.evaluate(
        """() => {
            const c = document.createElement('canvas').getContext('2d');
            const w = s => { c.font = '32px "Noto Sans CJK JP"'; return c.measureText(s).width; };
            return [w('取'), w('引'), w('\\u{10FFFD}')];
        }"""
    )
    assert widths[0] > 20 and widths[1] > 20


def test_account_page_shows_ltv_with_interval_and_history(page_as) -> None:
    page = page_as("manager")
    page.goto("/accounts?lang=en&sort=ltv")
    first = page.locator("#accounts tbody tr[data-account] a").first
    account_id = int(
        page.locator("#accounts tbody tr[data-account]").first.get_attribute("data-account") or 0
    )
    first.click()
    page.wait_for_url(f"**/accounts/{account_id}")
    detail = page.request.get(f"/api/v1/accounts/{account_id}").json()
    expect(page.locator("h1")).to_contain_text(detail["name"])
    ltv = page.locator("#ltv")
    expect(ltv).to_contain_text(format_money(detail["ltv"], "JPY", "en"))
    if detail["ltv_low"] is not None:
        expect(ltv).to_contain_text(format_money(detail["ltv_low"], "JPY", "en"))
        expect(ltv).to_contain_text(format_money(detail["ltv_high"], "JPY", "en"))
    page.wait_for_selector('[data-figure="history-figure"][data-rendered="true"]')
    assert page.locator('[data-figure="history-figure"] svg.main-svg').count() >= 1


def test_filters_search_and_sort_agree_with_the_api(page_as) -> None:
    page = page_as("admin")
    page.goto("/accounts?lang=en")
    name = page.locator("#accounts tbody tr[data-account] a").nth(3).text_content() or ""
    page.fill('input[name="q"]', name)
    page.select_option('select[name="zone"]', "")
    page.click("form.filters button[type=submit]")
    expect(page.locator("#accounts tbody tr[data-account] a").first).to_have_text(name)
    # sort by name, ascending: the page is in the collation order the database uses
    page.goto("/accounts?lang=en&sort=name&order=asc")
    names = page.locator("#accounts tbody tr[data-account] a").all_text_contents()
    api = page.request.get("/api/v1/accounts", params={"sort": "name", "limit": "50"}).json()
    assert names == [item["name"] for item in api["items"]]
