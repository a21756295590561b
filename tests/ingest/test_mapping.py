"""Mapping files are validated with messages naming the field; shipped mappings load."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import Engine

from tillage.errors import ConfigurationError
from tillage.ingest import builtin_mapping, import_path, load_mapping, parse_mapping

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    "path", sorted((ROOT / "examples" / "mappings").glob("*.toml")), ids=lambda p: p.name
)
def test_example_mappings_load(path: Path) -> None:
    assert load_mapping(path).tables


@pytest.mark.parametrize("name", ["salesforce", "hubspot"])
def test_builtin_mappings_load(name: str) -> None:
    assert builtin_mapping(name).tables


def test_tables_are_applied_in_dependency_order() -> None:
    mapping = parse_mapping(
        """
        [[tables]]
        table = "orders"
        key = "id"
        columns = { amount = "amount" }
        [[tables]]
        table = "accounts"
        key = "id"
        columns = { name = "name" }
        """
    )
    assert [t.table for t in mapping.tables] == ["accounts", "orders"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[[tables]]\ntable = "deals"\nkey = "id"\ncolumns = {}', "unknown table 'deals'"),
        ('[[tables]]\ntable = "orders"\nkey = "id"\ncolumns = { price = "p" }', "no columns"),
        (
            '[[tables]]\ntable = "orders"\nkey = "id"\ncolumns = { amount = { scale = 2.0 } }',
            "tables.0.columns.amount",
        ),
        ('[[tables]]\ntable = "orders"\nkey = "id"\nkeys = "x"\ncolumns = {}', "keys"),
        ("tables = [", "not valid TOML"),
    ],
)
def test_mistakes_name_the_field(text: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        parse_mapping(text, source="mapping.toml")


def test_excel_workbook_with_japanese_headers(engine: Engine, tmp_path: Path) -> None:
    book = tmp_path / "取引先.xlsx"
    with pd.ExcelWriter(book) as writer:
        pd.DataFrame(
            {"取引先コード": ["A1", "A2"], "取引先名": ["㈱髙橋", "山田商事"], "従業員数": [10, 20]}
        ).to_excel(writer, sheet_name="東日本", index=False)
        pd.DataFrame(
            {"取引先コード": ["A3"], "取引先名": ["大阪物産"], "従業員数": ["１，２００"]}
        ).to_excel(writer, sheet_name="西日本", index=False)
    mapping = tmp_path / "mapping.toml"
    mapping.write_text(
        '[[tables]]\ntable = "accounts"\nkey = "取引先コード"\n'
        'columns = { name = "取引先名", employees = "従業員数" }\n',
        "utf-8",
    )
    result = import_path(
        engine,
        book,
        mapping=mapping,
        as_of=dt.date(2025, 1, 1),
        imported_at=dt.datetime(2025, 1, 1),
    )
    assert result.format == "xlsx" and result.inserted == 3
    accounts = pd.read_sql("SELECT key, name, employees FROM accounts ORDER BY key", engine)
    assert accounts["employees"].tolist() == [10, 20, 1200]


def test_cp932_csv_with_japanese_dates_and_amounts(engine: Engine, tmp_path: Path) -> None:
    folder = tmp_path / "export"
    folder.mkdir()
    (folder / "取引先.csv").write_bytes("取引先コード,取引先名\nA1,㈱髙橋製作所①\n".encode("cp932"))
    (folder / "売上.csv").write_bytes(
        (
            "伝票番号,取引先コード,売上日,金額,区分\n"
            '1001,A1,令和6年4月1日,"１２，０００円",通常\n'
            '1002,A1,2024/5/1,"△3,000",赤伝\n'
        ).encode("cp932")
    )
    mapping = folder / "mapping.toml"
    mapping.write_text(
        """
        currency = "JPY"
        [[tables]]
        table = "accounts"
        file = "取引先.csv"
        key = "取引先コード"
        columns = { name = "取引先名" }
        [[tables]]
        table = "orders"
        file = "売上.csv"
        key = "伝票番号"
        credit = { column = "区分", equals = ["赤伝"] }
        [tables.columns]
        order_number = "伝票番号"
        account_id = "取引先コード"
        order_date = "売上日"
        amount = "金額"
        """,
        "utf-8",
    )
    import_path(
        engine,
        folder,
        as_of=dt.date(2025, 1, 1),
        imported_at=dt.datetime(2025, 1, 1),
        mapping=mapping,
    )
    orders = pd.read_sql("SELECT amount, order_date FROM orders ORDER BY key", engine)
    assert orders["amount"].tolist() == [12000, -3000]
    assert str(orders["order_date"].iloc[0])[:10] == "2024-04-01"
    name = pd.read_sql("SELECT name FROM accounts", engine)["name"].iloc[0]
    assert name == "㈱髙橋製作所①"


def test_many_bad_cells_are_summarised_and_excel_rows_keep_their_numbers(
    engine: Engine, tmp_path: Path
) -> None:
    from tillage.ingest import ImportRefused

    book = tmp_path / "accounts.xlsx"
    codes = [f"A{i}" for i in range(1500)]
    frame = pd.DataFrame({"code": codes, "name": "x", "staff": "many"})
    frame.loc[1, ["code", "name", "staff"]] = None  # a blank spreadsheet row (row 3)
    frame.to_excel(book, index=False)
    mapping = tmp_path / "mapping.toml"
    mapping.write_text(
        '[[tables]]\ntable = "accounts"\nkey = "code"\n'
        'columns = { name = "name", employees = "staff" }\n',
        "utf-8",
    )
    with pytest.raises(ImportRefused) as caught:
        import_path(
            engine,
            book,
            mapping=mapping,
            as_of=dt.date(2025, 1, 1),
            imported_at=dt.datetime(2025, 1, 1),
        )
    problems = caught.value.problems
    assert len(problems) == 1001
    assert [p.row for p in problems[:2]] == [2, 4]  # row 3 is the blank one
    assert problems[-1].row is None and problems[-1].reason.startswith("499 more rows")


def test_headers_take_the_mapping_spelling_and_aliases() -> None:
    import pandas as pd

    from tillage.ingest.mapping import builtin_mapping, rename_headers

    hubspot = builtin_mapping("hubspot")
    frame = pd.DataFrame(
        columns=["レコードID", "取引ステージ", "Create date", "Associated Company IDs (Primary)"]
    )
    renamed = rename_headers(frame, hubspot)
    assert list(renamed.columns) == [
        "Record ID",
        "Deal Stage",
        "Create Date",
        "Associated Company IDs",
    ]
    both = pd.DataFrame(columns=["Associated Company IDs", "Associated Company IDs (Primary)"])
    assert list(rename_headers(both, hubspot).columns) == list(both.columns)  # no clash


def test_null_values_become_empty() -> None:
    import pandas as pd

    from tillage.ingest.mapping import builtin_mapping, rename_headers

    frame = pd.DataFrame({"ParentId": ["000000000000000AAA", "0015g00000BBBBBBB1"]})
    cleaned = rename_headers(frame, builtin_mapping("salesforce"))
    assert cleaned["ParentId"].isna().tolist() == [True, False]
