"""POST /api/v1/imports: good files are imported and logged; malformed, wrongly encoded and
oversized ones are refused with the validation report, and write nothing. SQLite and PostgreSQL."""

from __future__ import annotations

import io
import os
from collections.abc import Callable

import pandas as pd
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tillage.config import Settings
from tillage.server import create_app
from tillage.serving.auth import SESSION_COOKIE
from tillage.serving.errors import ProblemOut
from tillage.store.database import make_engine, session_scope
from tillage.store.schema import AuditEntry, Import, Team

Clients = Callable[[str | None], TestClient]
MAPPING = """
name = "teams sheet"
[[tables]]
table = "teams"
key = "チームコード"
columns = { name = "チーム名" }
""".encode()


def _counts(settings: Settings) -> tuple[int, int, int]:
    """Teams, logged imports and refused-import audit entries in the store."""
    engine = make_engine(settings.resolved_database_url)
    with session_scope(engine) as session:
        found = (
            session.scalar(select(func.count()).select_from(Team)),
            session.scalar(select(func.count()).select_from(Import)),
            session.scalar(select(func.count()).where(AuditEntry.action == "import.refused")),
        )
    engine.dispose()
    return found  # type: ignore[return-value]


def _csrf(client: TestClient) -> dict[str, str]:
    return {"X-CSRF-Token": client.get("/api/v1/me").json()["csrf_token"]}


def _post(client: TestClient, name: str, data: bytes, **form: str) -> dict:
    response = client.post(
        "/api/v1/imports",
        files={"file": (name, data)},
        data=form or {"table": "teams"},
        headers=_csrf(client),
    )
    return {"status": response.status_code, **response.json()}


def test_a_file_is_imported_logged_and_audited(client: TestClient, demo_settings: Settings) -> None:
    teams, imports, _refused = _counts(demo_settings)
    done = _post(client, "teams.csv", b"key,name\nTEAM-API-1,API team\nTEAM-API-2,Second\n")
    assert done["status"] == 201, done
    assert done["tables"]["teams"]["inserted"] == 2 and done["id"] is not None
    assert _counts(demo_settings)[:2] == (teams + 2, imports + 1)
    log = client.get("/api/v1/imports").json()
    assert log[0]["id"] == done["id"] and log[0]["imported_by"] == "admin"
    assert log[0]["rows_inserted"] == 2 and log[0]["source"] == "teams.csv"
    again = _post(client, "teams.csv", b"key,name\nTEAM-API-1,API team renamed\n")
    assert again["tables"]["teams"]["updated"] == 1
    dry = _post(client, "teams.csv", b"key,name\nTEAM-API-3,x\n", table="teams", dry_run="true")
    assert dry["status"] == 201 and dry["id"] is None and dry["dry_run"] is True
    assert _counts(demo_settings)[0] == teams + 2


def test_a_mapping_reads_a_cp932_file(client: TestClient, demo_settings: Settings) -> None:
    teams = _counts(demo_settings)[0]
    data = "チームコード,チーム名\nTEAM-JP-1,東日本営業部\n".encode("cp932")
    response = client.post(
        "/api/v1/imports",
        files={"file": ("チーム.csv", data), "mapping": ("mapping.toml", MAPPING)},
        headers=_csrf(client),
    )
    assert response.status_code == 201, response.text
    assert _counts(demo_settings)[0] == teams + 1


def _workbook() -> bytes:
    buffer = io.BytesIO()
    pd.DataFrame({"key": ["TEAM-XL-1"], "name": ["Excel team"]}).to_excel(buffer, index=False)
    return buffer.getvalue()


def test_refused_files_write_nothing_and_answer_with_the_report(
    client: TestClient, demo_settings: Settings
) -> None:
    before = _counts(demo_settings)
    cases = {
        "malformed": ("teams.csv", b"key,name\nTEAM-BAD-1,ok\nTEAM-BAD-1,twice\n"),
        "no key column": ("teams.csv", b"code,name\nX,y\n"),
        "wrong encoding": ("teams.csv", b"key,name\n" + os.urandom(4000)),
        "not a workbook": ("teams.xlsx", b"PK\x03\x04 this is not a zip file"),
        "a truncated workbook": ("teams.xlsx", _workbook()[:600]),
        "a NUL byte": ("teams.csv", b"key,name\nTEAM-NUL-1,Te\x00am\n"),
        "an extra field": ("teams.csv", b"key,name\nTEAM-X-1,a,b\n"),
        "unsupported type": ("teams.exe", b"MZ\x90\x00"),
        "empty": ("teams.csv", b""),
    }
    for what, (name, data) in cases.items():
        refused = _post(client, name, data)
        assert refused["status"] == 422, (what, refused)
        error = refused["error"]
        assert error["type"] in {"DataValidationError", "ImportRefused"}, (what, error)
        assert error["problems"] and all(p["file"] for p in error["problems"]), (what, error)
        # every key the schema requires, null where the problem has no row or column
        assert all(set(ProblemOut.model_fields) <= set(p) for p in error["problems"]), error
    duplicate = _post(client, *cases["malformed"])["error"]["problems"]
    assert any(p["row"] == 3 and p["column"] for p in duplicate)  # names the spreadsheet row
    teams, imports, refused_audits = _counts(demo_settings)
    assert (teams, imports) == before[:2]
    assert refused_audits == before[2] + len(cases) + 1  # the malformed file twice
    both = client.post(
        "/api/v1/imports",
        files={"file": ("t.csv", b"key,name\n"), "mapping": ("m.toml", MAPPING)},
        data={"table": "teams"},
        headers=_csrf(client),
    )
    assert both.status_code == 422
    unknown = _post(client, "t.csv", b"key,name\nA,b\n", table="passwords")
    assert unknown["status"] == 422 and "unknown table" in unknown["error"]["message"]


def test_oversized_uploads_get_413_before_anything_is_read(
    demo_settings: Settings, session_cookies: dict[str, str]
) -> None:
    small = demo_settings.model_copy(update={"upload_limit_mb": 0.001})  # 1,000 bytes
    before = _counts(demo_settings)
    with TestClient(create_app(small)) as client:
        client.cookies.set(SESSION_COOKIE, session_cookies["admin"])
        csrf = client.get("/api/v1/me").json()["csrf_token"]
        for size in (5_000, 500_000):  # caught by the route; by the middleware (Content-Length)
            data = b"key,name\n" + b"TEAM-BIG,x\n" * (size // 11)
            response = client.post(
                "/api/v1/imports",
                files={"file": ("teams.csv", data)},
                data={"table": "teams"},
                headers={"X-CSRF-Token": csrf},
            )
            assert response.status_code == 413, (size, response.text)
            body = response.json()
            assert body["error"]["type"] == "TooLarge" and "0.001 MB" in body["error"]["message"]
    assert _counts(demo_settings)[:2] == before[:2]


def test_only_admins_import(client_as: Clients) -> None:
    for role in ("manager", "rep"):
        client = client_as(role)
        csrf = client.get("/api/v1/me").json()["csrf_token"]
        response = client.post(
            "/api/v1/imports",
            files={"file": ("teams.csv", b"key,name\nT,x\n")},
            data={"table": "teams"},
            headers={"X-CSRF-Token": csrf},
        )
        assert response.status_code == 403
        assert client.get("/api/v1/imports").status_code == 403


def test_the_preview_counts_rows_and_flags_companies_under_other_keys(
    client: TestClient, demo_settings: Settings
) -> None:
    items = client.get("/api/v1/accounts", params={"limit": "2"}).json()["items"]
    rows = [f"{a['key']},{a['name']}" for a in items]  # the same rows: unchanged
    rows += [f"DUP-{n},{a['name']}" for n, a in enumerate(items)]  # same names, new keys
    data = ("key,name\n" + "\n".join(rows) + "\n").encode()
    dry = _post(client, "accounts.csv", data, table="accounts", dry_run="true")
    assert dry["status"] == 201, dry
    counts = dry["tables"]["accounts"]
    assert (counts["inserted"], counts["updated"], counts["unchanged"]) == (2, 0, 2)
    flagged = [w for w in dry["warnings"] if w["column"] == "name"]
    assert [w["row"] for w in flagged] == [4, 5]
    assert items[0]["key"] in flagged[0]["reason"]
    assert isinstance(dry["quality"], list)  # the note of the store as the import leaves it
    assert all({"code", "effect", "message", "missing", "total"} <= set(n) for n in dry["quality"])


def test_parent_accounts_roll_up_in_the_portfolio_and_show_on_the_account(
    client: TestClient,
) -> None:
    items = client.get("/api/v1/accounts", params={"limit": "3"}).json()["items"]
    top, child, grandchild = items
    linked = (
        "key,name,parent_account_id\n"
        f"{child['key']},{child['name']},{top['key']}\n"
        f"{grandchild['key']},{grandchild['name']},{child['key']}\n"
    ).encode()
    done = _post(client, "parents.csv", linked, table="accounts")
    assert done["status"] == 201 and done["tables"]["accounts"]["updated"] == 2, done
    try:
        groups = client.get("/api/v1/portfolio").json()["groups"]
        (group,) = [g for g in groups if g["group_id"] == top["account_id"]]
        assert group["name"] == top["name"] and group["accounts"] == 3
        ltvs = [a["ltv"] or 0.0 for a in items]
        assert abs(group["ltv"] - sum(ltvs)) < 1e-6 * max(1.0, sum(ltvs))
        detail = client.get(f"/api/v1/accounts/{child['account_id']}").json()
        assert detail["parent"] == {"account_id": top["account_id"], "name": top["name"]}
        assert detail["subsidiaries"] == [
            {"account_id": grandchild["account_id"], "name": grandchild["name"]}
        ]
    finally:  # the shared demo store goes back to having no groups
        unlinked = (
            "key,name,parent_account_id\n"
            f"{child['key']},{child['name']},\n{grandchild['key']},{grandchild['name']},\n"
        ).encode()
        assert _post(client, "parents.csv", unlinked, table="accounts")["status"] == 201
    assert client.get("/api/v1/portfolio").json()["groups"] == []
