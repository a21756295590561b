"""Account hierarchy from the exports: Salesforce ParentId, HubSpot Parent Company, Maven
subsidiary_of; kept on re-import, cleared when the source clears it."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pandas as pd
from sqlalchemy import Engine

from tillage.ingest import import_path
from tillage.ingest.currency import Rate

FIXTURES = Path(__file__).parent / "fixtures"
ROOT = Path(__file__).resolve().parents[2]
RATES = [Rate("USD", 150.0), Rate("PEN", 40.0), Rate("MXN", 8.0)]


def _import(engine: Engine, path: Path, **kwargs):  # type: ignore[no-untyped-def]
    return import_path(
        engine, path, as_of=dt.date(2024, 12, 31), imported_at=dt.datetime(2025, 1, 1), **kwargs
    )


def _parents(engine: Engine) -> dict[str, str | None]:
    frame = pd.read_sql(
        "SELECT a.name, p.name AS parent FROM accounts a "
        "LEFT JOIN accounts p ON p.id = a.parent_account_id ORDER BY a.key",
        engine,
    )
    return {
        n: (None if pd.isna(p) else p) for n, p in zip(frame["name"], frame["parent"], strict=True)
    }


def test_salesforce_parent_id(engine: Engine, tmp_path: Path) -> None:
    folder = Path(shutil.copytree(FIXTURES / "salesforce_multicurrency", tmp_path / "export"))
    _import(engine, folder, rates=RATES)
    assert _parents(engine) == {
        "Grupo Andino S.A.": None,
        "Andino Logistics Inc.": "Grupo Andino S.A.",
        "Andino México S.A. de C.V.": "Grupo Andino S.A.",
        "株式会社アンディーノ・ジャパン": "Andino Logistics Inc.",
    }
    accounts = folder / "Account.csv"  # the Japanese subsidiary is sold off: no parent any more
    accounts.write_text(
        accounts.read_text("utf-8").replace('"0015g00000CCCCCC02","JPY"', '"","JPY"'), "utf-8"
    )
    again = _import(engine, folder, rates=RATES)
    assert again.tables["accounts"].updated == 1
    assert _parents(engine)["株式会社アンディーノ・ジャパン"] is None


def test_salesforce_export_without_parent_id_imports_without_a_warning(
    engine: Engine, tmp_path: Path
) -> None:
    folder = Path(shutil.copytree(FIXTURES / "salesforce", tmp_path / "export"))
    result = _import(engine, folder)
    assert not [p for p in result.problems if p.column == "ParentId"]
    assert set(_parents(engine).values()) == {None}


def test_hubspot_parent_company(engine: Engine, tmp_path: Path) -> None:
    folder = tmp_path / "hubspot"
    folder.mkdir()
    (folder / "hubspot-crm-exports-all-companies-2025-11-28.csv").write_text(
        "Record ID,Company name,Company owner,Parent Company\n"
        "7001,髙橋ホールディングス株式会社,鈴木 一郎,\n"
        "7002,髙橋精機株式会社,鈴木 一郎,7001\n"
        "7003,髙橋物流株式会社,鈴木 一郎,7001\n"
        "7004,別グループ株式会社,鈴木 一郎,9999\n",  # a parent not in the export
        "utf-8",
    )
    result = _import(engine, folder, format="hubspot")
    parents = _parents(engine)
    assert (
        parents["髙橋精機株式会社"] == parents["髙橋物流株式会社"] == "髙橋ホールディングス株式会社"
    )
    assert parents["別グループ株式会社"] is None
    (unknown,) = [p for p in result.warnings if p.column == "Parent Company"]
    assert unknown.row == 5 and unknown.value == "9999"


def test_maven_subsidiary_of(engine: Engine) -> None:
    _import(
        engine,
        FIXTURES / "crm_opportunities",
        mapping=ROOT / "examples" / "mappings" / "crm_opportunities.toml",
        currency="USD",
    )
    assert _parents(engine) == {"Hatchbright": None, "Kitewave": None, "Ozonic Labs": "Kitewave"}
