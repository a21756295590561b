"""Exports are inert (tillage.inert): text that a spreadsheet would run as a formula is
written as text in XLSX and escaped in CSV, from the import through ``tillage export xlsx|csv``
and ``/api/v1/accounts.csv``."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from openpyxl import Workbook, load_workbook
from typer.testing import CliRunner

from tillage.cli.main import app
from tillage.config import Settings, get_settings
from tillage.inert import csv_frame, csv_row, csv_text, is_formula_like, put
from tillage.server import create_app
from tillage.store.database import make_engine, session_scope
from tillage.store.users import create_user, utcnow

DANGEROUS = [
    "=cmd|' /C calc'!A0",
    "\t=1+1",
    "+81-3-1234",
    "-2+3",
    "@SUM(1+1)",
    '\r=HYPERLINK("http://example.invalid")',
    "＝1+1",
]
SECRET = "test-only-7Qx2Vb9Lm4Kp1Zs8Wd3Rf6Tg0Hy5Nj"


def test_formula_like_text_is_escaped_and_everything_else_kept() -> None:
    for text in DANGEROUS:
        assert is_formula_like(text) and csv_text(text) == "'" + text
    for value in ["株式会社青梅", "A=B", "", " =1", -5, -2.5, None, 0]:
        assert not is_formula_like(value) and csv_text(value) == value
    assert csv_row(["=1", 3, "x"]) == ["'=1", 3, "x"]
    frame = pd.DataFrame({"name": ["=1", "ok", None], "amount": [-1.0, 2.0, 3.0], "=h": [1, 2, 3]})
    out = csv_frame(frame)
    assert out["name"].tolist()[:2] == ["'=1", "ok"] and out["name"].isna().tolist()[2]
    assert out["amount"].tolist() == [-1.0, 2.0, 3.0]  # numbers stay numbers
    assert list(out.columns) == ["name", "amount", "'=h"]
    assert frame["name"].tolist()[0] == "=1"  # the caller's frame is untouched


def test_workbook_text_is_never_a_formula(tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    for i, text in enumerate([*DANGEROUS, "plain", -3.5], start=1):
        put(sheet, i, 1, text)
    book.save(tmp_path / "t.xlsx")
    cells = [row[0] for row in load_workbook(tmp_path / "t.xlsx").active.iter_rows()]
    for cell, text in zip(cells, DANGEROUS, strict=False):
        # XML keeps no bare CR: the file stores it as a line break, still text
        assert cell.data_type == "s" and cell.value == text.replace("\r", "\n")
        assert cell.quotePrefix
    assert cells[-2].value == "plain" and not cells[-2].quotePrefix
    assert cells[-1].value == -3.5 and cells[-1].data_type == "n"


def _cli(*args: str) -> str:
    result = CliRunner().invoke(app, ["--lang", "ja", *args])
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.slow  # a 30-account company through import and scoring
def test_dangerous_names_stay_text_from_import_to_every_export(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'tillage.db'}"
    monkeypatch.setenv("TILLAGE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("TILLAGE_DATABASE_URL", url)
    get_settings.cache_clear()
    try:
        folder = tmp_path / "sf"
        _cli("demo-export", "salesforce", str(folder), "--accounts", "30")
        accounts = pd.read_csv(folder / "Account.csv", dtype=str, keep_default_na=False)
        accounts.loc[: len(DANGEROUS) - 1, "Name"] = DANGEROUS
        accounts.to_csv(folder / "Account.csv", index=False, quoting=csv.QUOTE_ALL)
        _cli("db", "upgrade")
        _cli("import", str(folder), "--format", "salesforce")
        _cli("score", "--as-of", "2026-10-01")
        _cli("export", "xlsx", str(tmp_path / "out.xlsx"))
        _cli("export", "csv", str(tmp_path / "csv"))
    finally:
        get_settings.cache_clear()
    # what the import stored (it strips a leading tab or CR) is what must stay text
    stored = {name.strip() for name in DANGEROUS}

    book = load_workbook(tmp_path / "out.xlsx")
    found = {}
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if cell.value in stored:
                    found[cell.value] = cell
    assert set(found) == stored  # every name reached the workbook …
    assert all(c.data_type == "s" and c.quotePrefix for c in found.values())  # … as text

    portfolio = (tmp_path / "csv" / "portfolio.csv").read_text("utf-8-sig")
    names = {row[2] for row in csv.reader(io.StringIO(portfolio))}
    assert {"'" + name for name in stored} <= names
    assert not any(is_formula_like(name) for name in names)

    engine = make_engine(url)
    with session_scope(engine) as session:
        create_user(
            session,
            login="root",
            display_name="",
            role="admin",
            password="root-pass-1",
            now=utcnow(),
        )
    engine.dispose()
    settings = Settings(database_url=url, secret_key=SECRET, _env_file=None)
    with TestClient(create_app(settings)) as client:
        token = client.post(
            "/api/v1/auth/token", json={"login": "root", "password": "root-pass-1"}
        ).json()["token"]
        response = client.get("/api/v1/accounts.csv", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert len(rows) == 30
    api_names = {row["name"] for row in rows}
    assert {"'" + name for name in stored} <= api_names
    assert not any(is_formula_like(row[k]) for row in rows for k in row)
