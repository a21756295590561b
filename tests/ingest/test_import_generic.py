"""Importing through a generic mapping: validated, atomic, idempotent, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import Engine, func, select

from tillage.ingest import ImportRefused, import_path, report_frame, save_report
from tillage.ingest.currency import Rate
from tillage.store.schema import Account, Import, Order, Product, Rep

FIXTURES = Path(__file__).parent / "fixtures" / "generic"
AS_OF = dt.date(2024, 12, 31)
NOW = dt.datetime(2025, 1, 6, 9, 30)


@pytest.fixture
def export(tmp_path: Path) -> Path:
    folder = tmp_path / "export"
    shutil.copytree(FIXTURES, folder)
    return folder


def _import(engine: Engine, folder: Path, **kwargs):  # type: ignore[no-untyped-def]
    kwargs.setdefault("mapping", folder / "mapping.toml")
    return import_path(engine, folder, as_of=AS_OF, imported_at=NOW, **kwargs)


def _count(engine: Engine, model: type) -> int:
    with engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(model)).scalar_one()


def _orders(engine: Engine) -> pd.DataFrame:
    return pd.read_sql("SELECT * FROM orders ORDER BY key", engine).set_index("key")


def test_first_import_inserts_everything(engine: Engine, export: Path) -> None:
    result = _import(engine, export, imported_by="analyst")
    assert result.errors == []
    assert {t: c.inserted for t, c in result.tables.items()} == {
        "reps": 2,
        "accounts": 3,
        "products": 3,  # "GTX Pro" and "GTXPro" are different keys, as the export says
        "orders": 5,
    }
    orders = _orders(engine)
    assert orders.loc["INV-1:1", "amount"] == 12000  # ¥12,000
    assert orders.loc["INV-3:1", "amount"] == 18000  # １８，０００円
    assert str(orders.loc["INV-3:1", "order_date"])[:10] == "2024-06-03"  # 令和6年6月3日
    assert orders.loc["CN-2:1", "amount"] == -3000  # a credit note, netted
    assert orders["amount"].sum() == 12000 + 6000 + 3000 - 3000 + 18000
    accounts = pd.read_sql(
        "SELECT a.key, a.employees, r.key AS owner FROM accounts a "
        "JOIN reps r ON r.id = a.owner_id ORDER BY a.key",
        engine,
    )
    assert accounts["employees"].tolist() == [120, 1200, 45]
    assert accounts["owner"].tolist() == ["R1", "R2", "R1"]
    with engine.connect() as connection:
        log = connection.execute(select(Import)).one()
    assert (log.rows_read, log.rows_inserted, log.rows_updated, log.rows_rejected) == (10, 13, 0, 0)
    assert log.imported_by == "analyst" and log.imported_at == NOW
    assert len(log.checksum) == 64


def test_reimport_is_idempotent_and_updates_changes(engine: Engine, export: Path) -> None:
    _import(engine, export)
    ids_before = _orders(engine)["id"]
    again = _import(engine, export)
    assert again.inserted == 0 and again.updated == 0 and again.unchanged == 13
    orders = export / "orders.csv"
    text = orders.read_text("utf-8").replace('3,"１８，０００円"', "4,24000")
    orders.write_text(text + "INV-4,1,A003,GTX Pro,2024-07-01,1,6000\n", "utf-8")
    updated = _import(engine, export)
    assert updated.tables["orders"].inserted == 1
    assert updated.tables["orders"].updated == 1
    assert updated.tables["orders"].unchanged == 4
    after = _orders(engine)
    assert after.loc["INV-3:1", "amount"] == 24000
    assert after.loc[ids_before.index, "id"].tolist() == ids_before.tolist()  # same rows
    assert _count(engine, Order) == 6
    assert _count(engine, Import) == 3


def test_errors_block_the_import_and_name_file_row_column(engine: Engine, export: Path) -> None:
    orders = export / "orders.csv"
    orders.write_text(
        orders.read_text("utf-8")
        + "INV-5,1,A999,GTX Pro,2024-07-01,1,100\n"  # row 7: unknown account
        + "INV-6,1,A001,GTX Pro,2030-01-01,1,100\n"  # row 8: in the future
        + "INV-7,1,A001,GTX Pro,2024-07-01,1,△100\n"  # row 9: negative, not a credit note
        + "INV-8,1,A001,GTX Pro,not a date,1,100\n"  # row 10: not a date
        + "INV-1,1,A001,GTX Pro,2024-04-01,1,100\n",  # row 11: duplicate key
        "utf-8",
    )
    with pytest.raises(ImportRefused) as caught:
        _import(engine, export)
    problems = {(p.file, p.row, p.column, p.reason.split(" (")[0]) for p in caught.value.problems}
    assert ("orders.csv", 7, "account_code", "refers to an unknown accounts row") in problems
    assert ("orders.csv", 8, "order_date", "in the future") in problems
    assert (
        "orders.csv",
        9,
        "amount",
        "negative, and the row is not a credit note or cancellation",
    ) in problems
    assert ("orders.csv", 10, "order_date", "not a date") in problems
    duplicate_rows = {p.row for p in caught.value.problems if "more than once" in p.reason}
    assert duplicate_rows == {2, 11}
    assert _count(engine, Account) == 0 and _count(engine, Import) == 0


def test_references_resolve_against_the_store(engine: Engine, export: Path) -> None:
    _import(engine, export)
    (export / "accounts.csv").unlink()
    (export / "reps.csv").unlink()
    mapping = export / "mapping.toml"
    text = mapping.read_text("utf-8").replace(
        'file = "accounts.csv"', 'file = "accounts.csv"\noptional = true'
    )
    mapping.write_text(text.replace('file = "reps.csv"', 'file = "reps.csv"\noptional = true'))
    result = _import(engine, export)
    assert result.errors == [] and result.unchanged == 8


def test_dry_run_writes_nothing(engine: Engine, export: Path) -> None:
    result = _import(engine, export, dry_run=True)
    assert result.dry_run and result.errors == []
    assert _count(engine, Order) == 0 and _count(engine, Rep) == 0 and _count(engine, Import) == 0


def test_amounts_in_another_currency_need_a_rate(engine: Engine, export: Path) -> None:
    mapping = export / "mapping.toml"
    mapping.write_text(mapping.read_text("utf-8").replace('currency = "JPY"', 'currency = "USD"'))
    with pytest.raises(ImportRefused) as caught:
        _import(engine, export)
    (summary, usd) = caught.value.result.errors
    assert summary.value == "USD" and "cannot be converted into JPY" in summary.reason
    assert usd.file == "orders.csv" and "rows 2, 3, 4, 5, 6" in usd.reason
    result = _import(engine, export, rates=[Rate("USD", 150.0)])
    assert result.errors == []
    orders = _orders(engine)
    assert orders.loc["INV-1:1", "amount"] == 12000 * 150
    assert orders.loc["INV-1:1", "source_currency"] == "USD"
    assert set(orders["currency"]) == {"JPY"}
    assert _count(engine, Product) == 3


def test_report_in_japanese_saved_as_csv_and_xlsx(
    engine: Engine, export: Path, tmp_path: Path
) -> None:
    orders = export / "orders.csv"
    orders.write_text(orders.read_text("utf-8") + "INV-9,1,A999,GTX Pro,2024-07-01,1,1\n", "utf-8")
    with pytest.raises(ImportRefused) as caught:
        _import(engine, export, lang="ja")
    problems = caught.value.problems
    assert problems[0].row == 7 and "accounts" in problems[0].reason
    frame = report_frame(problems, "ja")
    assert list(frame.columns) == ["重大度", "ファイル", "行", "列", "値", "理由"]
    csv = save_report(problems, tmp_path / "report.csv", "ja")
    assert csv.read_bytes().startswith(b"\xef\xbb\xbf")
    xlsx = save_report(problems, tmp_path / "report.xlsx", "en")
    assert pd.read_excel(xlsx)["row"].tolist() == [7]


def test_a_reimport_in_another_currency_is_converted(engine: Engine, export: Path) -> None:
    _import(engine, export)
    mapping = export / "mapping.toml"
    mapping.write_text(mapping.read_text("utf-8").replace('currency = "JPY"', 'currency = "EUR"'))
    result = _import(engine, export, rates=[Rate("EUR", 160.0)])
    assert result.problems == []
    assert result.tables["orders"].updated == 5  # every amount is now EUR × 160
    assert _orders(engine).loc["INV-1:1", "amount"] == 12000 * 160


def test_one_account_in_two_currencies_is_converted(engine: Engine, export: Path) -> None:
    orders = export / "orders.csv"
    orders.write_text(orders.read_text("utf-8").replace("amount\n", "amount,currency\n"))
    lines = orders.read_text("utf-8").splitlines()
    lines = [lines[0]] + [line + (",USD" if i == 2 else ",JPY") for i, line in enumerate(lines[1:])]
    orders.write_text("\n".join(lines) + "\n", "utf-8")
    mapping = export / "mapping.toml"
    mapping.write_text(mapping.read_text("utf-8") + 'currency = "currency"\n', "utf-8")
    with pytest.raises(ImportRefused) as caught:
        _import(engine, export)
    usd = [p for p in caught.value.result.errors if p.value == "USD" and p.row is not None]
    assert {(p.file, p.row) for p in usd} == {("orders.csv", 4)}
    result = _import(engine, export, rates=[Rate("USD", 150.0)])
    assert result.errors == []
    orders = _orders(engine)
    assert orders.loc["INV-2:1", "amount"] == 3000 * 150
    assert orders.loc["CN-2:1", "amount"] == -3000
