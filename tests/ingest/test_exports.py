"""Files laid out like real exports (tests/data/exports, sources in its README) import with the
right numbers through the built-in readers, and import again without a change."""

from __future__ import annotations

import datetime as dt
import shutil
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import Engine

from tillage.ingest import ImportResult, import_path

EXPORTS = Path(__file__).resolve().parents[1] / "data" / "exports"
AS_OF = dt.date(2024, 12, 31)


def _import(engine: Engine, path: Path, mapping: Path | None = None) -> ImportResult:
    return import_path(
        engine,
        path,
        mapping=mapping,
        as_of=AS_OF,
        imported_at=dt.datetime(2025, 1, 1, 9),
        timezone="Asia/Tokyo",
    )


def _sql(engine: Engine, query: str) -> pd.DataFrame:
    return pd.read_sql(query, engine)


def _warned(result: ImportResult, file: str, column: str) -> list[str]:
    return [p.reason for p in result.warnings if p.file == file and p.column == column]


def _assert_idempotent(engine: Engine, path: Path, mapping: Path | None = None) -> None:
    again = _import(engine, path, mapping)
    assert (again.inserted, again.updated) == (0, 0)
    assert again.unchanged > 0


def test_salesforce_export_folder(engine: Engine) -> None:
    result = _import(engine, EXPORTS / "salesforce")
    assert result.errors == []
    counts = {t: (c.read, c.inserted, c.rejected) for t, c in result.tables.items()}
    assert counts["accounts"] == (5, 4, 1)  # one IsDeleted row skipped and counted
    assert counts["opportunities"] == (5, 4, 1)
    assert counts["activities"] == (7, 6, 1)  # 5 tasks (one deleted) + 2 events
    assert counts["reps"] == (4, 4, 0)
    assert _warned(result, "Account.csv", "IsDeleted")

    reps = _sql(engine, "SELECT key, name, left_on, manager_id FROM reps ORDER BY key")
    left = dict(zip(reps["key"], pd.to_datetime(reps["left_on"]).dt.date, strict=True))
    assert pd.isna(left["0055g00000AAAAAAA1"])  # active
    # 2024-09-30T15:00Z is 2024-10-01 in Tokyo; no LastModifiedDate: the export date, said so
    assert left["0055g00000AAAAAAA3"] == dt.date(2024, 10, 1)
    assert left["0055g00000AAAAAAA4"] == AS_OF
    assert _warned(result, "User.csv", "LastModifiedDate")
    assert reps.loc[reps["key"] == "0055g00000AAAAAAA1", "manager_id"].isna().all()  # null id

    accounts = _sql(engine, "SELECT key, name, country FROM accounts ORDER BY key")
    assert accounts["key"].tolist() == [f"0015g00000BBBBBBB{i}" for i in (1, 2, 3, 5)]
    assert accounts["country"].tolist() == ["JP", "JP", "CZ", "DE"]  # 日本, Czech Republic
    assert accounts["name"].iloc[0] == "株式会社髙橋製作所"

    deals = _sql(
        engine,
        "SELECT key, type, amount, probability, created_date, is_won FROM opportunities "
        "ORDER BY key",
    ).set_index("key")
    assert deals["type"].tolist() == ["new", "upsell", "renewal", "new"]
    assert deals["amount"].iloc[0] == pytest.approx(1_200_000)
    assert deals["probability"].tolist() == pytest.approx([1.0, 0.8, 0.0, 0.1])
    created = pd.to_datetime(deals["created_date"]).dt.date.tolist()
    # Z, +0000 and no offset are all UTC: 2024-05-01 16:00 UTC is 2024-05-02 in Tokyo
    assert created[1:3] == [dt.date(2024, 10, 1), dt.date(2024, 5, 2)]
    unmapped = _warned(result, "Opportunity.csv", "Type")
    assert len(unmapped) == 1 and "new" in unmapped[0]
    assert any("Partner Referral" in str(p.value) for p in result.warnings)

    activities = _sql(
        engine, "SELECT key, type, occurred_at, duration_minutes FROM activities ORDER BY key"
    ).set_index("key")
    assert activities["type"].to_dict() == {
        "00T5g00000HHHHHHH1": "call",  # no TaskSubtype: the subject says 電話
        "00T5g00000HHHHHHH2": "email",  # the Type picklist
        "00T5g00000HHHHHHH3": "other",  # nothing says: other, never silently a call
        "00T5g00000HHHHHHH4": "meeting",
        "00U5g00000IIIIIII1": "meeting",
        "00U5g00000IIIIIII2": "visit",
    }
    when = pd.to_datetime(activities["occurred_at"])
    assert when["00U5g00000IIIIIII1"] == pd.Timestamp("2024-04-01 08:00")  # ActivityDateTime
    assert when["00U5g00000IIIIIII2"] == pd.Timestamp("2024-05-20")  # all-day: ActivityDate
    assert when["00T5g00000HHHHHHH4"] == pd.Timestamp("2024-04-15 14:00")
    _assert_idempotent(engine, EXPORTS / "salesforce")


def test_salesforce_zip_as_delivered(engine: Engine, tmp_path: Path) -> None:
    archive = tmp_path / "WE_00D5g000000ABCDE_1.ZIP"
    with zipfile.ZipFile(archive, "w") as zipped:
        for file in sorted((EXPORTS / "salesforce").iterdir()):
            zipped.write(file, file.name)
    result = _import(engine, archive)
    assert result.errors == [] and result.format == "salesforce"
    assert result.source == archive.name
    assert result.tables["accounts"].inserted == 4
    assert not list(tmp_path.glob("tillage-zip-*"))


def test_salesforce_report_footer_is_not_data(engine: Engine) -> None:
    folder = EXPORTS / "salesforce_report"
    result = _import(engine, folder / "report1733212345678.csv", folder / "mapping.toml")
    assert result.errors == []
    reps = _sql(engine, "SELECT name FROM reps ORDER BY name")["name"].tolist()
    assert reps == ["佐藤 花子", "鈴木 一郎"]  # not 機密情報 - 社外秘, Copyright … or 作成者:
    assert any("footer" in p.reason and "社外秘" in str(p.value) for p in result.warnings)
    accounts = _sql(engine, "SELECT name, employees FROM accounts ORDER BY key")
    assert accounts["name"].tolist() == ["株式会社髙橋製作所", "Acme s.r.o.", "山田商事㈱"]
    assert accounts["employees"].tolist() == [1200, 85, 450]
    _assert_idempotent(engine, folder / "report1733212345678.csv", folder / "mapping.toml")


@pytest.mark.parametrize("layout", ["hubspot", "hubspot_xlsx"])
def test_hubspot_today(engine: Engine, layout: str) -> None:
    result = _import(engine, EXPORTS / layout)
    assert result.errors == [] and result.format == "hubspot"
    deals = _sql(
        engine,
        "SELECT o.key, o.type, o.amount, o.probability, o.is_closed, o.is_won, a.key AS account "
        "FROM opportunities o JOIN accounts a ON a.id = o.account_id ORDER BY o.key",
    ).set_index("key")
    assert len(deals) == 5
    # "Closed won" / "Closed lost" in today's case, and the stage id "closedwon"
    assert deals["is_closed"].astype(bool).tolist() == [True, False, True, True, False]
    assert deals["is_won"].astype(bool).tolist() == [True, False, False, True, False]
    assert deals["probability"].tolist() == pytest.approx([1.0, 0.9, 0.0, 1.0, 0.2])
    assert deals["amount"].sum() == pytest.approx(1_750_000)
    assert deals["account"].tolist()[:3] == ["18506239001", "18506239002", "18506239002"]
    assert deals["type"].tolist() == ["new", "upsell", "renewal", "new", "new"]
    deals_file = next(p.file for p in result.warnings if p.column == "Deal Type")
    assert "Partnership" in str(next(p.value for p in result.warnings if p.file == deals_file))
    countries = _sql(engine, "SELECT country FROM accounts ORDER BY key")["country"].tolist()
    assert countries == ["JP", "US", "CZ"]
    _assert_idempotent(engine, EXPORTS / layout)


def test_hubspot_single_file_is_recognised_by_its_name(engine: Engine, tmp_path: Path) -> None:
    source = EXPORTS / "hubspot" / "hubspot-crm-exports-all-companies-2025-11-28.csv"
    result = _import(engine, Path(shutil.copy(source, tmp_path)))
    assert result.format == "hubspot" and result.tables["accounts"].inserted == 3


def test_hubspot_japanese_ui_headers(engine: Engine) -> None:
    result = _import(engine, EXPORTS / "hubspot_ja")
    assert result.errors == [] and result.warnings == []
    deals = _sql(
        engine,
        "SELECT type, stage, amount, probability, is_closed, is_won FROM opportunities "
        "ORDER BY key",
    )
    assert deals["stage"].tolist() == ["成約", "契約書送付済み", "失注"]
    assert deals["is_won"].astype(bool).tolist() == [True, False, False]
    assert deals["is_closed"].astype(bool).tolist() == [True, False, True]
    assert deals["type"].tolist() == ["new", "upsell", "new"]
    assert deals["amount"].tolist() == pytest.approx([2_400_000, 600_000, 180_000])
    accounts = _sql(engine, "SELECT name, country, employees FROM accounts ORDER BY key")
    assert accounts["name"].tolist() == ["株式会社山田商事", "有限会社青木工務店"]
    assert accounts["country"].tolist() == ["JP", "JP"]
    owners = _sql(engine, "SELECT DISTINCT r.name FROM accounts a JOIN reps r ON r.id = a.owner_id")
    assert owners["name"].tolist() == ["佐藤 花子"]


def test_freee_header_and_detail_rows(engine: Engine) -> None:
    folder = EXPORTS / "freee"
    result = _import(engine, folder / "freee_deals_20241231.csv", folder / "mapping.toml")
    assert result.errors == []
    orders = _sql(
        engine,
        "SELECT o.key, o.order_number, o.order_date, o.amount, a.key AS account "
        "FROM orders o JOIN accounts a ON a.id = o.account_id ORDER BY o.key",
    )
    assert orders["key"].tolist() == [
        "INV-2024-001",
        "INV-2024-001#2",
        "INV-2024-002",
        "INV-2024-003",
        "INV-2024-003#2",
    ]
    # the 明細 rows carry their 本文 row's date and partner; the expense (支出) is skipped
    assert orders["account"].tolist() == ["C001", "C001", "C002", "C001", "C001"]
    assert pd.to_datetime(orders["order_date"]).dt.date.tolist()[1] == dt.date(2024, 4, 1)
    assert orders["amount"].tolist() == pytest.approx([110_000, 55_000, 220_000, 330_000, -11_000])
    assert result.tables["orders"].rejected == 1
    assert _warned(result, "freee_deals_20241231.csv", "収支区分")
    names = _sql(engine, "SELECT name FROM accounts ORDER BY key")["name"].tolist()
    assert names == ["株式会社髙橋製作所", "山田商事㈱"]  # CP932, read as such
    _assert_idempotent(engine, folder / "freee_deals_20241231.csv", folder / "mapping.toml")


@pytest.mark.parametrize(
    ("file", "names", "countries"),
    [
        ("trailing_commas.csv", ["Acme", "Globex"], ["CZ", "EU"]),
        ("short_cp932.csv", ["髙橋"], ["JP"]),
        ("mixed_encoding.csv", ["Café Müller", "Señor Pérez S.A.", "株式会社髙橋製作所"], None),
    ],
)
def test_single_files_that_used_to_fail(
    engine: Engine, file: str, names: list[str], countries: list[str] | None
) -> None:
    result = _import(engine, EXPORTS / "files" / file, EXPORTS / "files" / "orders.toml")
    assert result.errors == []
    accounts = _sql(engine, "SELECT name, country FROM accounts ORDER BY key")
    assert accounts["name"].tolist() == names
    if countries is not None:
        assert accounts["country"].tolist() == countries
    if file == "mixed_encoding.csv":  # the odd line is named, with the encoding used
        (line,) = [p for p in result.warnings if p.row == 3]
        assert line.value == "cp1252" and "line 3" in line.reason
