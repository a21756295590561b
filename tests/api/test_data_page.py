"""The Data page without a browser: a Salesforce or HubSpot export (its CSVs, or the .zip the
CRM delivers) is chosen on the form and previewed as new / updated / unchanged rows, the API
twin reads it the same way, and a refused file's error count is the rows' count (a line
"N more rows" counts N), consistent with the report beside it. Validation is a dry run: the
shared demo store is not changed."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable
from pathlib import Path

from fastapi.testclient import TestClient

Clients = Callable[[str | None], TestClient]
EXPORTS = Path(__file__).resolve().parents[1] / "data" / "exports"


def _zip(folder: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for file in sorted(folder.iterdir()):
            archive.write(file, f"WE_00D5g000000ABCDE/{file.name}")  # one folder inside, as SF
    return buffer.getvalue()


def _csrf(client: TestClient) -> str:
    return client.get("/api/v1/me").json()["csrf_token"]


def _validate(client: TestClient, name: str, data: bytes, table: str) -> tuple[int, str]:
    response = client.post(
        "/data/validate?lang=en",
        files={"file": (name, data)},
        data={"table": table, "csrf_token": _csrf(client)},
    )
    return response.status_code, response.text


def _counts(html: str, table: str) -> dict[str, str]:
    row = re.search(rf'<tr data-table="{table}">(.*?)</tr>', html, re.S)
    assert row, html[:2000]
    return dict(re.findall(r'data-count="(\w+)">([\d,]+)<', row.group(1)))


def test_the_form_offers_crm_exports_and_zip_files(client: TestClient) -> None:
    page = client.get("/data?lang=en").text
    assert '<option value="salesforce"' in page and '<option value="hubspot"' in page
    assert ".zip" in re.search(r'accept="([^"]*)"', page).group(1)


def test_a_salesforce_zip_is_previewed_as_new_rows(client: TestClient) -> None:
    status, html = _validate(client, "WE_export.zip", _zip(EXPORTS / "salesforce"), "salesforce")
    assert status == 200, html[-3000:]
    assert 'data-outcome="valid"' in html and 'id="confirm"' in html
    assert _counts(html, "accounts") == {"new": "4", "updated": "0", "unchanged": "0"}
    assert int(_counts(html, "opportunities")["new"]) > 0
    # the API twin reads the same upload the same way
    answer = client.post(
        "/api/v1/imports",
        files={"file": ("WE_export.zip", _zip(EXPORTS / "salesforce"))},
        data={"table": "salesforce", "dry_run": "true"},
        headers={"X-CSRF-Token": _csrf(client)},
    ).json()
    assert answer["format"] == "salesforce" and answer["tables"]["accounts"]["inserted"] == 4


def test_a_hubspot_csv_is_read_with_the_shipped_mapping(client: TestClient) -> None:
    file = EXPORTS / "hubspot" / "hubspot-crm-exports-all-companies-2025-11-28.csv"
    status, html = _validate(client, file.name, file.read_bytes(), "hubspot")
    assert status == 200, html[-3000:]
    assert int(_counts(html, "accounts")["new"]) > 0
    # a zip is refused when the upload claims to be one table
    status, html = _validate(client, "export.zip", _zip(EXPORTS / "hubspot"), "accounts")
    assert status == 422 and "unsupported file type" in html


def test_the_error_count_counts_the_rows_behind_more_rows(client: TestClient) -> None:
    rows = 5902
    data = "key,name,employees\n" + "".join(f"BAD-{i:05d},Bad {i},many\n" for i in range(rows))
    status, html = _validate(client, "accounts-bad.csv", data.encode(), "accounts")
    assert status == 422
    assert "errors found: 5,902)" in html  # not the 1,001 lines of the report
    assert "4,902 more rows" in html
    assert "The first 500 of the report's 1,001 lines are shown." in html
    # the API's report says how many rows each line stands for
    refused = client.post(
        "/api/v1/imports",
        files={"file": ("accounts-bad.csv", data.encode())},
        data={"table": "accounts", "dry_run": "true"},
        headers={"X-CSRF-Token": _csrf(client)},
    ).json()["error"]
    assert sum(p["rows"] for p in refused["problems"] if p["severity"] == "error") == rows
    assert "5,902" in refused["message"].split("\n")[0]
