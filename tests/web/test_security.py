"""Security of the pages (tillage.web.security) against ``tillage serve`` on the demo company:
no page or API answer is kept by the browser, the pages run under a Content-Security-Policy with
no inline code and cannot be framed, error pages speak the user's language, and the API docs
work offline."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Page, expect

from tillage.api.imports import MULTIPART_SLACK
from tillage.config import Settings
from tillage.server import create_app
from tillage.web.security import CONTENT_SECURITY_POLICY

browser = pytest.mark.browser
SECRET = "test-only-7Qx2Vb9Lm4Kp1Zs8Wd3Rf6Tg0Hy5Nj"

CSP_LISTENER = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__violations.push(e.violatedDirective + " " + e.blockedURI + " " + e.sourceFile);
});
"""
PAGES = [
    "/portfolio",
    "/accounts",
    "/plans",
    "/kpis",
    "/review",
    "/one-on-one",
    "/data",
    "/settings",
    "/settings/users",
]


def _cookies(logins: Callable[[str], dict], user: str) -> dict[str, str]:
    return {c["name"]: c["value"] for c in logins(user)["cookies"]}


@browser
def test_every_answer_is_no_store_and_unframeable(
    server: str, logins: Callable[[str], dict]
) -> None:
    cookies = _cookies(logins, "manager")
    with httpx.Client(base_url=server, cookies=cookies) as client:
        for path in ["/accounts", "/portfolio", "/api/v1/accounts", "/api/v1/me", "/nowhere"]:
            response = client.get(path)
            assert response.headers["cache-control"] == "no-store", path
            assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
            assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
            assert response.headers["x-frame-options"] == "DENY"
            assert response.headers["x-content-type-options"] == "nosniff"
        csv = client.get("/api/v1/accounts.csv")
        assert csv.status_code == 200 and csv.headers["cache-control"] == "no-store"
        # static files are public and may be cached; they still carry the policy
        static = client.get("/static/tillage.css")
        assert static.headers["cache-control"].startswith("public")
        assert static.headers["x-frame-options"] == "DENY"
    anonymous = httpx.get(f"{server}/login")
    assert anonymous.headers["cache-control"] == "no-store"


@browser
def test_back_after_logout_shows_the_login_page_not_the_data(page_as) -> None:
    # a user of its own: logging out ends every session of that user, and the demo users'
    # sessions are shared by the other tests
    admin = page_as("admin")
    csrf = admin.request.get("/api/v1/me").json()["csrf_token"]
    rep_key = admin.request.get("/api/v1/users").json()
    rep_key = next(u["rep_key"] for u in rep_key if u["login"] == "rep")
    created = admin.request.post(
        "/api/v1/users",
        data={"login": "leaver", "role": "rep", "rep_key": rep_key, "password": "leaver-pass-1"},
        headers={"X-CSRF-Token": csrf},
    )
    assert created.status == 201, created.text()
    page = page_as(None)
    page.goto("/login?next=/accounts%3Flang%3Dja")
    page.fill("#login", "leaver")
    page.fill("#password", "leaver-pass-1")
    page.click("form.login button[type=submit]")
    page.wait_for_url("**/accounts?lang=ja")
    first = page.locator("#accounts tbody tr[data-account] td").first.inner_text()
    assert first.strip()
    page.locator("header.top form[action='/logout'] button").click()
    page.wait_for_url("**/login")
    page.go_back()
    page.wait_for_load_state()
    assert "/login" in page.url
    expect(page.locator("#accounts")).to_have_count(0)
    assert first not in page.content()


def _no_violations(page: Page) -> list[str]:
    return page.evaluate("window.__violations")


@browser
def test_pages_run_under_the_policy_with_their_charts(page_as) -> None:
    page = page_as("admin")
    page.add_init_script(CSP_LISTENER)
    for path in PAGES:
        response = page.goto(f"{path}?lang=ja")
        assert response is not None and response.status == 200, path
        page.wait_for_load_state("networkidle")
        figures = page.locator("[data-figure]")
        for i in range(figures.count()):
            expect(figures.nth(i)).to_have_attribute("data-rendered", "true")
        assert _no_violations(page) == [], path
    # an account page and its value chart
    page.goto("/accounts?lang=ja")
    page.locator("#accounts tbody tr[data-account] a").first.click()
    page.wait_for_load_state("networkidle")
    for i in range(page.locator("[data-figure]").count()):
        expect(page.locator("[data-figure]").nth(i)).to_have_attribute("data-rendered", "true")
    assert _no_violations(page) == []


@browser
def test_an_inline_script_is_refused(page_as) -> None:
    """The policy really forbids inline code: a script injected into a page does not run."""
    page = page_as("rep")
    page.add_init_script(CSP_LISTENER)
    page.goto("/accounts")
    page.evaluate(
        """() => { const s = document.createElement("script");
        s.textContent = "window.__ran = true"; document.body.appendChild(s); }"""
    )
    assert page.evaluate("window.__ran") is None
    assert any("script-src" in v for v in _no_violations(page))


@browser
def test_error_pages_speak_japanese_and_lead_on(page_as) -> None:
    page = page_as("rep")
    response = page.goto("/accounts/999999999?lang=ja")
    assert response is not None and response.status == 404
    expect(page.locator("h1")).to_have_text("見つかりません")
    expect(page.locator("header.top nav")).to_be_visible()  # the menu, as on every page
    expect(page.locator("main a[href='/portfolio']")).to_be_visible()
    response = page.goto("/accounts?page=abc&lang=ja")
    assert response is not None and response.status == 422
    expect(page.locator("h1")).to_have_text("リクエストを受け付けられませんでした")
    response = page.goto("/settings/users?lang=ja")
    assert response is not None and response.status == 403
    expect(page.locator("h1")).to_have_text("権限がありません")
    anonymous = page_as(None)
    response = anonymous.goto("/no-such-page?lang=ja")
    assert response is not None and response.status == 404
    expect(anonymous.locator("main a[href='/login']")).to_be_visible()


@browser
def test_api_docs_work_offline(page_as) -> None:
    page = page_as(None)  # page_as fails the test if any request leaves localhost
    page.add_init_script(CSP_LISTENER)
    page.goto("/api/docs")
    expect(page.locator(".swagger-ui .opblock").first).to_be_visible(timeout=15_000)
    expect(page.locator(".swagger-ui")).to_contain_text("/api/v1/accounts")
    assert _no_violations(page) == []


def test_an_unexpected_error_or_a_refused_upload_has_the_headers(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, secret_key=SECRET, upload_limit_mb=0.001, _env_file=None)
    app = create_app(settings)

    @app.get("/api/v1/boom")
    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("a bug")

    with TestClient(app, raise_server_exceptions=False) as client:
        api = client.get("/api/v1/boom")
        assert api.status_code == 500
        assert api.json()["error"]["type"] == "InternalError"
        assert "a bug" not in api.text  # no internals to the caller; the log has them
        page = client.get("/boom?lang=ja")
        assert page.status_code == 500 and "予期しないエラーが発生しました" in page.text
        assert "a bug" not in page.text
        # answers of the other middleware (an upload over the limit) carry the headers too
        too_large = client.post(
            "/api/v1/imports", content=b"x" * (settings.upload_limit_bytes + MULTIPART_SLACK + 1)
        )
        assert too_large.status_code == 413
        for response in (api, page, too_large):
            assert response.headers["cache-control"] == "no-store"
            assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
            assert response.headers["x-frame-options"] == "DENY"
