"""The Data page in Chromium: a bad file's validation report names file, row and column and
imports nothing; a good file is validated, then imported, and shows in the history; an
oversized file is stopped with a message, in the browser and by the server.

The good file re-imports three accounts' own keys and names, so the demo store's data stays as
it was (only the imports log grows) for the other tests of the session.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tillage.web.data import shown_value

UPLOAD_LIMIT_MB = 50  # the serve default the session's server runs with


def _upload(page: Page, name: str, data: bytes, table: str) -> None:
    page.set_input_files("#file", files=[{"name": name, "mimeType": "text/csv", "buffer": data}])
    page.select_option("#table", table)
    with page.expect_navigation():
        page.click("form.upload button[type=submit]")


def _accounts_csv(page: Page, n: int) -> tuple[bytes, list[dict]]:
    items = page.request.get("/api/v1/accounts", params={"limit": str(n)}).json()["items"]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["key", "name"])
    writer.writerows([item["key"], item["name"]] for item in items)
    return out.getvalue().encode(), items


@pytest.mark.browser
def test_a_bad_csv_shows_row_level_errors_and_imports_nothing(page_as) -> None:
    page = page_as("admin")
    log_before = page.request.get("/api/v1/imports").json()
    audit = {"action": "import.refused"}
    refused_before = page.request.get("/api/v1/audit", params=audit).json()["total"]
    page.goto("/data?lang=en")
    _data, items = _accounts_csv(page, 1)
    key = items[0]["key"]
    bad = f"key,name,employees\n{key},Renamed,12\n{key},Twice,3\nNEW-WEB-1,New,many\n".encode()
    _upload(page, "accounts-bad.csv", bad, "accounts")
    report = page.locator("#report")
    expect(report).to_have_attribute("data-outcome", "refused")
    expect(report.locator("p.error")).to_contain_text("Nothing was imported")
    rows = page.locator("#problems tbody tr").evaluate_all(
        "rows => rows.map(r => Array.from(r.cells).map(c => c.textContent.trim()))"
    )
    located = {(file, row, column) for file, row, column, *_rest in rows}
    assert ("accounts-bad.csv", "2", "key") in located
    assert ("accounts-bad.csv", "3", "key") in located
    assert ("accounts-bad.csv", "4", "employees") in located
    assert page.locator("#confirm").count() == 0  # no way to import a refused file
    # nothing imported: the log and the account are as before; the refusal is audit-logged
    assert page.request.get("/api/v1/imports").json() == log_before
    account = page.request.get(f"/api/v1/accounts/{items[0]['account_id']}").json()
    assert account["name"] == items[0]["name"]
    refused = page.request.get("/api/v1/audit", params=audit).json()
    assert refused["total"] == refused_before + 1
    assert refused["items"][0]["detail"]["source"] == "accounts-bad.csv"


@pytest.mark.browser
def test_a_valid_upload_is_validated_then_imported_into_the_history(page_as) -> None:
    page = page_as("admin")
    page.goto("/data?lang=en")
    data, _items = _accounts_csv(page, 3)
    log_before = page.request.get("/api/v1/imports").json()
    _upload(page, "accounts-web.csv", data, "accounts")
    expect(page.locator("#report")).to_have_attribute("data-outcome", "valid")
    expect(page.locator('#report tr[data-table="accounts"] td.num').first).to_have_text("3")
    assert page.request.get("/api/v1/imports").json() == log_before  # validating wrote nothing
    confirm = {
        name: page.locator(f'#report form input[name="{name}"]').input_value()
        for name in ("csrf_token", "token")
    }
    with page.expect_navigation():
        page.click("#confirm")
    expect(page.locator("#notice")).to_contain_text("Imported accounts-web.csv")
    log = page.request.get("/api/v1/imports").json()
    assert len(log) == len(log_before) + 1
    newest = log[0]
    assert newest["source"] == "accounts-web.csv" and newest["imported_by"] == "admin"
    assert (newest["rows_read"], newest["rows_unchanged"]) == (3, 3)
    row = page.locator(f'#imports tr[data-import="{newest["id"]}"]')
    expect(row).to_have_class("highlight")
    expect(row).to_contain_text("accounts-web.csv")
    # the validated upload is used up: confirming it again imports nothing and says why
    again = page.request.post("/data/confirm?lang=en", form=confirm)
    assert again.status == 404 and "no longer kept" in again.text()
    assert len(page.request.get("/api/v1/imports").json()) == len(log)


@pytest.mark.browser
def test_an_oversized_file_is_stopped_with_a_message(
    page_as, browser: Browser, logins: Callable[[str], dict], server: str, tmp_path: Path
) -> None:
    big = tmp_path / "huge.csv"
    with big.open("wb") as out:  # a sparse file over the limit, written in no time
        out.write(b"key,name\n")
        out.truncate(UPLOAD_LIMIT_MB * 1_000_000 + 100_000)
    page = page_as("admin")
    page.goto("/data?lang=en")
    sent: list[str] = []
    page.on("request", lambda r: sent.append(r.url) if r.method == "POST" else None)
    page.set_input_files("#file", str(big))
    page.select_option("#table", "accounts")
    page.click("form.upload button[type=submit]")
    expect(page.locator("#upload-error")).to_be_visible()
    expect(page.locator("#upload-error")).to_contain_text(f"upload limit of {UPLOAD_LIMIT_MB} MB")
    assert sent == []  # stopped in the browser, before sending
    # without JavaScript the server stops it, unread, and the page says why
    context = browser.new_context(
        base_url=server, storage_state=logins("admin"), java_script_enabled=False
    )
    try:
        plain = context.new_page()
        plain.goto("/data?lang=en")
        plain.set_input_files("#file", str(big))
        plain.select_option("#table", "accounts")
        with plain.expect_navigation():
            plain.click("form.upload button[type=submit]")
        assert plain.url.endswith("/data?refused=too-large")
        expect(plain.locator("#notice")).to_contain_text(f"upload limit of {UPLOAD_LIMIT_MB} MB")
    finally:
        context.close()


def test_missing_values_show_as_empty_cells() -> None:
    assert [shown_value(v) for v in (None, float("nan"), "x", 3)] == ["", "", "x", "3"]


def _codes(page: Page, selector: str) -> list[str]:
    return page.locator(f"{selector} li").evaluate_all("items => items.map(i => i.dataset.code)")


@pytest.mark.browser
def test_the_preview_counts_rows_and_flags_a_company_under_another_key(page_as) -> None:
    page = page_as("admin")
    page.goto("/data?lang=en")
    items = page.request.get("/api/v1/accounts", params={"limit": "1"}).json()["items"]
    (account,) = items
    data = f"key,name\n{account['key']},{account['name']}\nWEB-DUP-1,{account['name']}\n"
    _upload(page, "accounts-dup.csv", data.encode(), "accounts")
    report = page.locator('#report tr[data-table="accounts"]')
    expect(report.locator('[data-count="new"]')).to_have_text("1")
    expect(report.locator('[data-count="unchanged"]')).to_have_text("1")
    warnings = page.locator("#warnings tbody tr").evaluate_all(
        "rows => rows.map(r => Array.from(r.cells).map(c => c.textContent.trim()))"
    )
    flagged = [w for w in warnings if w[2] == "name"]
    assert [(w[0], w[1], w[3]) for w in flagged] == [("accounts-dup.csv", "3", account["name"])]
    assert account["key"] in flagged[0][5]
    # the note of the checked file is the API's for the same dry run; the store's differs
    dry = page.request.post(
        "/api/v1/imports",
        multipart={
            "file": {"name": "a.csv", "mimeType": "text/csv", "buffer": data.encode()},
            "table": "accounts",
            "dry_run": "true",
        },
        headers={"X-CSRF-Token": page.request.get("/api/v1/me").json()["csrf_token"]},
    ).json()
    checked = _codes(page, "#checked-quality")
    assert checked == [n["code"] for n in dry["quality"]]
    assert "some_owners" in checked  # the new account has no owner: no plan for it
    assert "some_owners" not in _codes(page, "#store-quality")  # as the store is now
    page.click("#report a[href='/data']")  # cancel: nothing imported
    assert page.request.get("/api/v1/accounts?q=WEB-DUP-1").json()["total"] == 0


def _link(page: Page, rows: str) -> None:
    _upload(page, "parents.csv", f"key,name,parent_account_id\n{rows}".encode(), "accounts")
    expect(page.locator("#report")).to_have_attribute("data-outcome", "valid")
    with page.expect_navigation():
        page.click("#confirm")


@pytest.mark.browser
def test_the_account_page_shows_the_parent_and_the_subsidiaries(page_as) -> None:
    page = page_as("admin")
    page.goto("/data?lang=en")
    parent, child = page.request.get("/api/v1/accounts", params={"limit": "2"}).json()["items"]
    _link(page, f"{child['key']},{child['name']},{parent['key']}\n")
    try:
        page.goto(f"/accounts/{child['account_id']}?lang=en")
        expect(page.locator("#parent a")).to_have_text(parent["name"])
        expect(page.locator("#parent a")).to_have_attribute(
            "href", f"/accounts/{parent['account_id']}"
        )
        page.goto(f"/accounts/{parent['account_id']}?lang=ja")
        expect(page.locator("#subsidiaries a")).to_have_text([child["name"]])
        expect(page.locator("dt", has_text="子会社")).to_have_count(1)
    finally:
        page.goto("/data?lang=en")
        _link(page, f"{child['key']},{child['name']},\n")
    page.goto(f"/accounts/{child['account_id']}?lang=en")
    expect(page.locator("#parent")).to_have_count(0)
