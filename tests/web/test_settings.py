"""The Settings pages in Chromium: the strategy editor shows a pydantic error beside the text,
naming the field and its line, and saves nothing; a valid edit saves a new version; users are
added and disabled through the page as through /api/v1/users; a rep is refused.

The strategy edit is undone at the end of its test (a new version with the old text), so the
demo store's strategy is the same for the tests after it.
"""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import Page, expect

from tillage.web.settings import field_line


def _csrf(page: Page) -> dict[str, str]:
    return {"X-CSRF-Token": page.request.get("/api/v1/me").json()["csrf_token"]}


def _edit(page: Page, old: str, new: str) -> str:
    text = page.locator("#strategy-text").input_value()
    assert old in text
    edited = text.replace(old, new, 1)
    page.fill("#strategy-text", edited)
    return edited


@pytest.mark.browser
def test_an_invalid_strategy_shows_the_error_in_place_and_saves_nothing(page_as) -> None:
    page = page_as("admin")
    versions = page.request.get("/api/v1/strategy/versions").json()
    page.goto("/settings?lang=en")
    edited = _edit(page, "discount_rate = 0.1\n", "discount_rate = 7\n")
    with page.expect_navigation():
        page.click("#save")
    error = page.locator('#strategy-errors li[data-field="discount_rate"]')
    expect(error).to_contain_text("less than 1")
    line = edited.splitlines().index("discount_rate = 7") + 1
    expect(error.locator("a.line")).to_have_text(f"line {line}")
    # the text stays in the editor as typed, marked invalid; nothing was saved
    assert page.locator("#strategy-text").input_value() == edited
    expect(page.locator("#strategy-text")).to_have_attribute("aria-invalid", "true")
    assert page.request.get("/api/v1/strategy/versions").json() == versions
    # the page reports what the API's validation reports
    api = page.request.post(
        "/api/v1/strategy/validate", data={"text": edited}, headers=_csrf(page)
    ).json()
    assert api["valid"] is False and "discount_rate" in api["message"]
    # a click on the line selects it in the editor
    error.locator("a.line").click()
    selected = page.evaluate(
        "(() => { const a = document.getElementById('strategy-text');"
        " return a.value.slice(a.selectionStart, a.selectionEnd); })()"
    )
    assert selected == "discount_rate = 7"


@pytest.mark.browser
def test_a_valid_edit_saves_a_new_version(page_as) -> None:
    page = page_as("admin")
    before = page.request.get("/api/v1/strategy").json()
    page.goto("/settings?lang=en")
    _edit(page, "discount_rate = 0.1\n", "discount_rate = 0.12\n")
    page.fill('input[name="comment"]', "browser test")
    try:
        with page.expect_navigation():
            page.click("#validate")
        expect(page.locator("#strategy-valid")).to_be_visible()
        with page.expect_navigation():
            page.click("#save")
        expect(page.locator("#notice")).to_contain_text("Saved as version")
        now = page.request.get("/api/v1/strategy").json()
        assert now["strategy"]["discount_rate"] == 0.12
        assert now["version"]["comment"] == "browser test"
        assert now["version"]["created_by"] == "admin"
        newest = page.locator("#versions tbody tr").first
        expect(newest).to_have_attribute("data-version", str(now["version"]["id"]))
        expect(newest).to_contain_text("browser test")
        assert page.locator("#strategy-text").input_value() == now["text"]
        audit = page.request.get("/api/v1/audit", params={"action": "strategy.update"}).json()
        assert audit["items"][0]["object_id"] == str(now["version"]["id"])
    finally:  # put the strategy back as it was for the later tests
        restored = page.request.put(
            "/api/v1/strategy",
            data={"text": before["text"], "comment": "restore after browser test"},
            headers=_csrf(page),
        )
        assert restored.ok and restored.json()["sha256"] == before["sha256"]


@pytest.mark.browser
def test_an_admin_adds_and_disables_a_user(page_as) -> None:
    page = page_as("admin")
    login = f"web-{uuid.uuid4().hex[:8]}@example.com"
    page.goto("/settings/users?lang=en")
    rep_key = page.locator("#users tr[data-user=rep] small").text_content()
    page.fill('input[name="login"]', login)
    page.select_option('select[name="role"]', "rep")
    page.fill('input[name="rep_key"]', rep_key or "")
    page.fill('input[name="password"]', "web-password-1")
    with page.expect_navigation():
        page.click("#add-user button[type=submit]")
    row = page.locator(f'#users tr[data-user="{login}"]')
    expect(row).to_contain_text("Sales rep")
    expect(row.locator("td.state")).to_have_text("Active")
    with page.expect_navigation():
        row.get_by_role("button", name="Disable").click()
    expect(row.locator("td.state")).to_have_text("Disabled")
    user = next(u for u in page.request.get("/api/v1/users").json() if u["login"] == login)
    assert user["disabled"] is True and user["rep_key"] == rep_key
    # a duplicate login is refused beside the form, and nothing is added
    page.fill('input[name="login"]', login)
    page.fill('input[name="rep_key"]', rep_key or "")
    page.fill('input[name="password"]', "web-password-1")
    with page.expect_navigation():
        page.click("#add-user button[type=submit]")
    expect(page.locator("#user-error")).to_contain_text("already exists")
    assert [u["login"] for u in page.request.get("/api/v1/users").json()].count(login) == 1


@pytest.mark.browser
def test_a_rep_is_refused_settings_and_data(page_as) -> None:
    page = page_as("rep")
    page.goto("/portfolio?lang=en")
    nav = page.locator("header nav")
    expect(nav).not_to_contain_text("Settings")
    expect(nav).not_to_contain_text("Data")
    for path in ("/settings", "/settings/users", "/data"):
        response = page.goto(path)
        assert response is not None and response.status == 403, path
        expect(page.locator("h1")).to_have_text("Not allowed")
        assert page.locator("#strategy-text, #users, #imports").count() == 0


def test_field_line_finds_the_line_setting_a_field() -> None:
    text = (
        "discount_rate = 0.1\n"
        "[portfolio]\n"
        "# value_quantile = 0.4\n"
        "value_quantile = 2\n"
        "[[playbooks]]\n"
        'action = "a"\n'
        "[[playbooks]]\n"
        'action = "b"\n'
        "hours = -1\n"
    )
    assert field_line(text, "discount_rate") == 1
    assert field_line(text, "portfolio.value_quantile") == 4
    assert field_line(text, "playbooks.1.hours") == 9
    assert field_line(text, "playbooks.1.effect") == 7  # not set: its table's header
    assert field_line(text, "kpi.targets") is None
