"""The views a CRM user opens beyond the menu's pages, in Chromium at a phone's width (390 px)
and a desktop's (1440 px), in Japanese and English: a note written on the account 360 (a long
one, with a URL that cannot break at a space) shows there and in the departure handover of the
account's owner; the portfolio's and deals' drill-ins to the accounts behind a number, the plans
of one rep and a later page of them, the KPIs by rep, and the renewals of one rep. No page
scrolls sideways.

Complements ``test_responsive.py`` (every menu page, one account 360, one departure, for three
roles); the demo company of ``conftest.py``.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Browser, Page

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1440, "height": 900}
SLOW_PAGE_MS = 120_000
WIDTHS = "() => [document.documentElement.scrollWidth, window.innerWidth]"
NOTE = (
    "決裁者は購買部長の田中様。次回の更新では複数年契約を提案する。議事録："
    "https://intranet.example.jp/crm/meetings/2026/09/very-long-path-without-any-spaces-"
    "that-a-phone-must-break-somewhere-0123456789"
)


def _sideways(page: Page) -> dict[int, int]:
    """The document's width at each viewport where it outgrows the window."""
    wide = {}
    for viewport in (PHONE, DESKTOP):
        page.set_viewport_size(viewport)
        if page.locator("[data-figure]").count():
            page.wait_for_selector("[data-figure][data-rendered='true']")
        page.wait_for_timeout(50)
        scroll, inner = page.evaluate(WIDTHS)
        if scroll > inner:
            wide[viewport["width"]] = scroll
    return wide


def _open(page: Page, path: str, lang: str) -> None:
    response = page.goto(f"{path}{'&' if '?' in path else '?'}lang={lang}")
    assert response is not None and response.status == 200, path


@pytest.fixture(scope="module")
def noted(server: str, browser: Browser, logins: Callable[[str], dict]) -> dict[str, str]:
    """The admin's note on an account with an undecided renewal: the account's page and its
    owner's key (for the departure page)."""
    context = browser.new_context(base_url=server, storage_state=logins("admin"))
    try:
        page = context.new_page()
        page.set_default_timeout(SLOW_PAGE_MS)
        renewals = page.request.get("/api/v1/renewals", params={"days": "366"}).json()
        item = next(r for r in renewals["items"] if r.get("rep_key"))
        path = f"/accounts/{item['account_id']}"
        page.goto(f"{path}?lang=ja")
        page.fill("#note-text", NOTE)
        page.click("form.note-form button[type=submit]")
        page.wait_for_url(f"**{path}*")
        assert NOTE in page.locator("#notes").inner_text()
    finally:
        context.close()
    return {"account": path, "owner": item["rep_key"]}


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_a_note_shows_on_the_account_and_in_the_handover_at_both_widths(
    browser: Browser,
    server: str,
    logins: Callable[[str], dict],
    noted: dict[str, str],
    lang: str,
) -> None:
    context = browser.new_context(base_url=server, storage_state=logins("admin"), viewport=PHONE)
    try:
        page = context.new_page()
        page.set_default_timeout(SLOW_PAGE_MS)
        _open(page, noted["account"], lang)
        assert NOTE[:20] in page.locator("#notes").inner_text()
        assert _sideways(page) == {}, noted["account"]
        _open(page, f"/departure?rep={noted['owner']}", lang)
        handover = page.locator("td.notes").filter(has_text=NOTE[:20])
        assert handover.count() == 1  # the note travels with the account to its successor
        assert _sideways(page) == {}
    finally:
        context.close()


def _drill_ins(page: Page) -> list[str]:
    """The drill-in pages: the accounts behind the portfolio's first cell and its first deal
    zone, one rep's plans and the next page of the plans, the KPIs by rep, one rep's
    renewals."""
    page.goto("/portfolio?lang=ja")
    cell = page.locator("main a[href^='/accounts?segment=']").first.get_attribute("href")
    zone = page.locator("main a[href^='/accounts?deal_zone=']").first.get_attribute("href")
    page.goto("/plans?lang=ja")
    rep_plan = page.locator("main a[href^='/plans?'][href*='rep=']").first.get_attribute("href")
    later = page.locator("nav.pages a[rel='next']")
    paths = [p for p in (cell, zone, rep_plan) if p]
    assert len(paths) == 3, paths
    if later.count():
        paths.append(str(later.first.get_attribute("href")))
    renewals = page.request.get("/api/v1/renewals", params={"days": "366"}).json()
    rep = next(r["rep_key"] for r in renewals["items"] if r.get("rep_key"))
    return [*paths, "/kpis?by=rep", f"/renewals?rep={rep}&days=366"]


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_the_drill_ins_fit_a_phone_and_a_desktop(
    browser: Browser, server: str, logins: Callable[[str], dict], lang: str
) -> None:
    context = browser.new_context(base_url=server, storage_state=logins("admin"), viewport=PHONE)
    try:
        page = context.new_page()
        page.set_default_timeout(SLOW_PAGE_MS)
        wide = {}
        paths = _drill_ins(page)
        for path in paths:
            _open(page, path.replace("&amp;", "&"), lang)
            found = _sideways(page)
            if found:
                wide[path] = found
        assert wide == {}
        assert len(paths) >= 5
    finally:
        context.close()
