"""The import preview: new / updated / unchanged / skipped per table, and likely duplicates."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from tillage.ingest import import_path
from tillage.ingest.preview import normalise_name
from tillage.store.schema import Account, Import, Order

FIXTURES = Path(__file__).parent / "fixtures" / "generic"


@pytest.fixture
def export(tmp_path: Path) -> Path:
    return Path(shutil.copytree(FIXTURES, tmp_path / "export"))


def _import(engine: Engine, folder: Path, **kwargs):  # type: ignore[no-untyped-def]
    return import_path(
        engine,
        folder,
        mapping=folder / "mapping.toml",
        as_of=dt.date(2024, 12, 31),
        imported_at=dt.datetime(2025, 1, 6, 9, 30),
        **kwargs,
    )


def _count(engine: Engine, model: type) -> int:
    with engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(model)).scalar_one()


@pytest.mark.parametrize(
    "variants",
    [
        [
            "株式会社髙橋製作所",
            "髙橋製作所株式会社",
            "㈱髙橋製作所",
            "(株)髙橋製作所",
            "（株）髙橋製作所",
        ],
        ["髙橋製作所 株式会社", "髙橋製作所　(株)", "髙橋製作所"],
        ["有限会社ミナト商会", "(有)ミナト商会", "ミナト商会"],
        ["ＡＣＭＥ Co., Ltd.", "Acme Co.,Ltd.", "ACME Inc.", "acme", "Acme Corporation"],
        ["ｱｸﾒ･ｼｽﾃﾑｽﾞ", "アクメ・システムズ", "アクメシステムズ株式会社"],
        ["Globex, Inc.", "GLOBEX LLC", "Globex K.K."],
    ],
)
def test_spellings_of_one_company_normalise_alike(variants: list[str]) -> None:
    assert len({normalise_name(v) for v in variants}) == 1, [normalise_name(v) for v in variants]
    assert normalise_name(variants[0]) != ""


def test_different_companies_stay_different() -> None:
    names = ["Acme", "Acne", "Acme Logistics", "株式会社ミナト", "ミナト商会", "Co-op Mart"]
    assert len({normalise_name(n) for n in names}) == len(names)
    assert normalise_name(None) == ""


def test_reimport_of_the_same_file_is_idempotent(engine: Engine, export: Path) -> None:
    first = _import(engine, export)
    assert first.inserted == 13
    preview = _import(engine, export, dry_run=True)
    again = _import(engine, export)
    for result in (preview, again):
        assert result.inserted == 0
        assert result.updated == 0
        assert {t: c.unchanged for t, c in result.tables.items()} == {
            "reps": 2,
            "accounts": 3,
            "products": 3,
            "orders": 5,
        }
    assert _count(engine, Account) == 3 and _count(engine, Order) == 5
    assert [p for p in again.problems if "looks like" in p.reason] == []


def test_the_preview_counts_new_updated_unchanged_and_skipped(engine: Engine, export: Path) -> None:
    _import(engine, export)
    orders = export / "orders.csv"
    text = orders.read_text("utf-8").replace(
        "INV-1,2,A001,GTXPro,2024/4/1,1,6000", "INV-1,2,A001,GTXPro,2024/4/1,1,6500"
    )
    text += "INV-4,1,A003,GTX Pro,2024-08-01,1,9000\nINV-5,1,,GTX Pro,2024-08-02,1,100\n"
    orders.write_text(text, "utf-8")
    mapping = export / "mapping.toml"
    mapping.write_text(
        mapping.read_text("utf-8").replace(
            'key = ["invoice", "line"]',
            'key = ["invoice", "line"]\nskip_if_empty = ["account_code"]',
        ),
        "utf-8",
    )
    preview = _import(engine, export, dry_run=True)
    orders_counts = preview.tables["orders"]
    assert (orders_counts.inserted, orders_counts.updated, orders_counts.unchanged) == (1, 1, 4)
    assert orders_counts.rejected == 1  # the line without an account: skipped
    assert preview.import_id is None
    # the dry run wrote nothing, logged nothing
    with engine.connect() as connection:
        amounts = connection.execute(select(Order.amount).order_by(Order.key)).scalars().all()
        assert connection.execute(select(func.count()).select_from(Import)).scalar_one() == 1
    assert 6500 not in amounts and len(amounts) == 5
    real = _import(engine, export)
    assert (real.tables["orders"].inserted, real.tables["orders"].updated) == (1, 1)


def test_same_companies_under_other_keys_are_flagged(engine: Engine, export: Path) -> None:
    _import(engine, export)
    accounts = export / "accounts.csv"
    accounts.write_text(
        "account_code,company,industry,employees,owner\n"
        "SF-1,ACME CORP.,technology,120,R1\n"  # A001 "Acme Corp" under another key
        "SF-2,ＧＬＯＢＥＸ,technolgy,1200,R2\n"  # A002 "Globex, Inc.", full width
        "SF-3,Umbrella,retail,10,R1\n"  # a new company
        "A003,Initech,retail,45,R1\n",  # the same key: an update, never a duplicate
        "utf-8",
    )
    preview = _import(engine, export, dry_run=True)
    flagged = [p for p in preview.warnings if "looks like the account" in p.reason]
    assert [(p.file, p.row, p.column, p.value) for p in flagged] == [
        ("accounts.csv", 2, "company", "ACME CORP."),
        ("accounts.csv", 3, "company", "ＧＬＯＢＥＸ"),
    ]
    assert "A001" in flagged[0].reason and "Acme Corp" in flagged[0].reason
    assert "A002" in flagged[1].reason
    assert preview.tables["accounts"].inserted == 3  # what a real import would add
    assert preview.tables["accounts"].unchanged == 1


def test_duplicates_inside_one_file_are_flagged_in_japanese(engine: Engine, export: Path) -> None:
    accounts = export / "accounts.csv"
    accounts.write_text(
        accounts.read_text("utf-8")
        + 'A004,"株式会社ミナト",retail,10,R1\nA005,"㈱ミナト",retail,10,R2\n',
        "utf-8",
    )
    result = _import(engine, export, lang="ja", dry_run=True)
    flagged = [p for p in result.warnings if p.column == "company"]
    assert [(p.row, p.value) for p in flagged] == [(6, "㈱ミナト")]
    assert "A004" in flagged[0].reason and "A005" in flagged[0].reason
    assert "looks like" not in flagged[0].reason  # said in Japanese
