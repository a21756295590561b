"""Every page at a phone's width (390×844) and a desktop's (1440×900), in Japanese and English,
for the admin, a manager and a rep: the page never scrolls sideways (wide tables scroll inside
their panel, the menu folds away), and on a phone the menu opens from its button.

One browser, the one demo company of ``conftest.py``; each test walks its role's pages in one
browser context.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Browser, Page

from .conftest import SCREENSHOTS

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1440, "height": 900}
EVERYONE = ["/portfolio", "/accounts", "/renewals", "/deals", "/plans", "/kpis", "/one-on-one"]
REVIEWERS = ["/review", "/departure"]
ADMIN = ["/data", "/settings", "/settings/users"]
SLOW_PAGE_MS = 120_000  # the KPI and review pages take seconds of server time on a busy machine
WIDTHS = "() => [document.documentElement.scrollWidth, window.innerWidth]"


def _pages(page: Page, role: str) -> list[str]:
    """The pages ``role`` reaches from the menu, one account 360, one 1on1 and one departure."""
    paths = list(EVERYONE)
    accounts = page.request.get("/api/v1/accounts", params={"limit": "1"}).json()["items"]
    paths.append(f"/accounts/{accounts[0]['account_id']}")
    if role in ("admin", "manager"):
        page.goto("/one-on-one")
        agenda = page.locator("main a[href^='/one-on-one/']").first.get_attribute("href")
        assert agenda
        paths += [*REVIEWERS, agenda, "/departure?rep=" + agenda.rsplit("/", 1)[1]]
    if role == "admin":
        paths += ADMIN
    return paths


def _width(page: Page, viewport: dict[str, int]) -> int | None:
    """The document's width at ``viewport`` when wider than the window, else None."""
    page.set_viewport_size(viewport)
    if page.locator("[data-figure]").count():
        page.wait_for_selector("[data-figure][data-rendered='true']")
    page.wait_for_timeout(50)  # let a responsive chart follow the new width
    scroll, inner = page.evaluate(WIDTHS)
    return scroll if scroll > inner else None


@pytest.mark.parametrize("lang", ["ja", "en"])
@pytest.mark.parametrize("role", ["admin", "manager", "rep"])
def test_no_page_scrolls_sideways(
    browser: Browser, server: str, logins: Callable[[str], dict], role: str, lang: str
) -> None:
    """Each page, loaded once at a phone's width, then widened to a desktop's: at neither
    does the document outgrow the window."""
    context = browser.new_context(base_url=server, storage_state=logins(role), viewport=PHONE)
    try:
        page = context.new_page()
        page.set_default_timeout(SLOW_PAGE_MS)
        wide: dict[tuple[str, int], int] = {}
        paths = _pages(page, role)
        for path in paths:
            response = page.goto(f"{path}{'&' if '?' in path else '?'}lang={lang}")
            assert response is not None and response.status == 200, path
            for viewport in (PHONE, DESKTOP):
                width = _width(page, viewport)
                if width is not None:
                    wide[path, viewport["width"]] = width
        assert wide == {}
        assert len(paths) == {"admin": 15, "manager": 12, "rep": 8}[role]  # every page walked
    finally:
        context.close()


def test_the_login_page_fits_a_phone(browser: Browser, server: str) -> None:
    context = browser.new_context(base_url=server, viewport=PHONE)
    try:
        page = context.new_page()
        page.goto("/login?lang=ja")
        scroll, inner = page.evaluate(WIDTHS)
        assert scroll <= inner
    finally:
        context.close()


def test_on_a_phone_the_menu_folds_behind_a_button(
    browser: Browser, server: str, logins: Callable[[str], dict]
) -> None:
    context = browser.new_context(base_url=server, storage_state=logins("manager"), viewport=PHONE)
    try:
        page = context.new_page()
        page.goto("/portfolio?lang=ja")
        link = page.locator("header nav a[href='/accounts']")
        assert not link.is_visible()
        page.click("header .menu-toggle")
        assert link.is_visible()
        link.click()
        page.wait_for_url("**/accounts")
    finally:
        context.close()
    wide = browser.new_context(base_url=server, storage_state=logins("manager"), viewport=DESKTOP)
    try:
        page = wide.new_page()
        page.goto("/portfolio?lang=ja")
        assert page.locator("header nav a[href='/accounts']").is_visible()
        assert not page.locator("header .menu-toggle").is_visible()
    finally:
        wide.close()


LINES = """e => {
  const range = document.createRange();
  range.selectNodeContents(e);
  return new Set([...range.getClientRects()].map(r => Math.round(r.top))).size;
}"""
"""How many lines the contents of an element take (its ::before label not counted)."""


def test_the_kpi_drill_down_is_cards_on_a_phone_and_a_table_on_a_desktop(
    browser: Browser, server: str, logins: Callable[[str], dict]
) -> None:
    """From a figure of the KPI page to the accounts behind it: at 390 px each account is a card
    like the other lists' (no header row, each figure under its column's name), the page does not
    scroll sideways, every name and every amount stays on one line; at 1440 px it is a table."""
    context = browser.new_context(base_url=server, storage_state=logins("admin"), viewport=PHONE)
    try:
        page = context.new_page()
        page.set_default_timeout(SLOW_PAGE_MS)
        page.goto("/kpis?lang=ja")
        href = page.locator("#kpi-table a[href^='/kpis/nrr/accounts']").first.get_attribute("href")
        assert href
        response = page.goto(href + "&lang=ja")
        assert response is not None and response.status == 200
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "kpi-drill-down-phone.png"), full_page=True)
        scroll, inner = page.evaluate(WIDTHS)
        assert scroll <= inner
        table = page.locator("#kpi-accounts")
        assert table.evaluate("e => e.scrollWidth <= e.clientWidth")  # nothing scrolls inside
        assert not page.locator("#kpi-accounts thead").is_visible()
        rows = page.locator("#kpi-accounts tbody tr")
        assert rows.count() > 0
        assert rows.first.evaluate("e => getComputedStyle(e).display") == "grid"
        labels = page.locator("#kpi-accounts tbody tr:first-child td[data-label]").evaluate_all(
            "cells => cells.map(c => getComputedStyle(c, '::before').content)"
        )
        assert '"担当者"' in labels and '"寄与"' in labels, labels
        names = page.locator("#kpi-accounts td.title a").evaluate_all(
            f"links => links.map({LINES})"
        )
        assert names and set(names) == {1}, names
        amounts = page.locator("#kpi-accounts td.num").evaluate_all(f"cells => cells.map({LINES})")
        assert amounts and set(amounts) == {1}, amounts
        page.set_viewport_size(DESKTOP)
        page.screenshot(path=str(SCREENSHOTS / "kpi-drill-down-desktop.png"))
        assert page.evaluate(WIDTHS)[0] <= DESKTOP["width"]
        assert page.locator("#kpi-accounts thead").is_visible()
        assert rows.first.evaluate("e => getComputedStyle(e).display") == "table-row"
    finally:
        context.close()
