"""Encodings (UTF-8, UTF-8 with BOM, CP932), delimiters and quoting are detected."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from tillage.errors import DataValidationError
from tillage.ingest.encoding import detect_encoding
from tillage.ingest.readers import read_file

ROWS = '取引先コード,取引先名,金額\nA001,㈱髙橋製作所①,"１２，０００円"\nA002,"山田, 商事",500\n'


@pytest.mark.parametrize(
    ("encoding", "detected"),
    [("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("cp932", "cp932")],
)
def test_encodings(tmp_path: Path, encoding: str, detected: str) -> None:
    path = tmp_path / "accounts.csv"
    path.write_bytes(ROWS.encode(encoding))
    assert detect_encoding(path.read_bytes()) == detected
    frame = read_file(path)["accounts"]
    assert list(frame.columns) == ["取引先コード", "取引先名", "金額"]
    assert frame["取引先名"].tolist() == ["㈱髙橋製作所①", "山田, 商事"]


def test_shift_jis_alone_cannot_decode_excel_exports() -> None:
    """Why cp932: ㈱, ① and 髙 are not in Shift_JIS proper."""
    with pytest.raises(UnicodeDecodeError):
        "㈱髙橋①".encode("cp932").decode("shift_jis")


@pytest.mark.parametrize("delimiter", ["\t", ";", "|"])
def test_delimiters(tmp_path: Path, delimiter: str) -> None:
    path = tmp_path / "data.tsv"
    path.write_text(ROWS.replace(",", delimiter).replace("山田" + delimiter, "山田,"), "utf-8")
    frame = read_file(path)["data"]
    assert frame.shape == (2, 3)


def test_quoted_newlines_keep_spreadsheet_rows(tmp_path: Path) -> None:
    path = tmp_path / "notes.csv"
    path.write_text('id,note\n1,"two\nlines"\n2,plain\n', "utf-8")
    frame = read_file(path)["notes"]
    assert frame["note"].tolist() == ["two\nlines", "plain"]


def test_excel_every_sheet_or_one(tmp_path: Path) -> None:
    path = tmp_path / "book.xlsx"
    with pd.ExcelWriter(path) as writer:
        pd.DataFrame({"id": ["A1"], "name": ["㈱テスト"]}).to_excel(
            writer, sheet_name="2023", index=False
        )
        pd.DataFrame({"id": ["A2"], "name": ["Acme"]}).to_excel(
            writer, sheet_name="2024", index=False
        )
    assert set(read_file(path)) == {"2023", "2024"}
    assert list(read_file(path, sheet="2024")) == ["2024"]
    with pytest.raises(DataValidationError):
        read_file(path, sheet="nope")


def test_parquet_keeps_native_types(tmp_path: Path) -> None:
    path = tmp_path / "lines.parquet"
    pd.DataFrame({"Customer ID": [13085.0], "Price": [1.25]}).to_parquet(path)
    frame = read_file(path)["lines"]
    assert frame["Price"].dtype == float


def test_unknown_suffix_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "data.json"
    path.write_text("{}")
    with pytest.raises(DataValidationError, match="unsupported"):
        read_file(path)


def test_a_short_cp932_file_is_cp932() -> None:
    data = "id,name\n1,髙橋\n".encode("cp932")
    assert detect_encoding(data) == "cp932"
    latin = "id,name\n1,Müller\n".encode("cp1252")  # not Japanese, though CP932 could pair bytes
    assert "Müller" in latin.decode(detect_encoding(latin))


def test_mixed_encodings_are_decoded_line_by_line_and_listed(tmp_path: Path) -> None:
    path = tmp_path / "mixed.csv"
    path.write_bytes(
        "id,name\n1,Café\n".encode() + "2,Señor\n".encode("cp1252") + "3,髙橋\n".encode()
    )
    problems: list = []
    frame = read_file(path, problems=problems)["mixed"]
    assert frame["name"].tolist() == ["Café", "Señor", "髙橋"]
    (warning,) = problems
    assert (warning.row, warning.value, warning.severity) == (3, "cp1252", "warning")
    assert "line 3" in warning.reason


def test_trailing_delimiters_and_extra_fields(tmp_path: Path) -> None:
    path = tmp_path / "lines.csv"
    path.write_text("a,b,c\n1,2,3,\n4,5,6,\n", "utf-8")
    frame = read_file(path)["lines"]
    assert list(frame.columns) == ["a", "b", "c"] and frame["a"].tolist() == ["1", "4"]
    path.write_text("a,b,c\n1,2,3\n4,5,6,7\n", "utf-8")
    with pytest.raises(DataValidationError) as refused:
        read_file(path)
    (problem,) = refused.value.problems
    assert problem.row == 3 and "4 fields, the header has 3" in problem.reason


def test_title_block_and_report_footer_are_skipped(tmp_path: Path) -> None:
    path = tmp_path / "report.csv"
    path.write_text(
        '"商談レポート"\n"期間: 2024年度"\n"Id","Name","Amount"\n"1","A","100"\n"2","B","200"\n'
        '\n"機密情報 - 社外秘"\n"Copyright (c) 2000-2025 salesforce.com, inc. All rights '
        'reserved."\n"作成者: 佐藤 花子"\n',
        "utf-8",
    )
    problems: list = []
    frame = read_file(path, problems=problems)["report"]
    assert list(frame.columns) == ["Id", "Name", "Amount"]
    assert frame["Name"].tolist() == ["A", "B"]
    reasons = " / ".join(p.reason for p in problems)
    assert "2 lines before the header skipped" in reasons
    assert "3 lines after the data skipped" in reasons
    assert frame.index.tolist() == [2, 3]  # spreadsheet rows 4 and 5: the lines in the file


def test_damaged_files_are_refused_naming_them(tmp_path: Path) -> None:
    workbook = tmp_path / "book.xlsx"
    pd.DataFrame({"id": ["A1"]}).to_excel(workbook, index=False)
    workbook.write_bytes(workbook.read_bytes()[:400])
    parquet = tmp_path / "lines.parquet"
    parquet.write_bytes(b"PAR1 not really")
    for path, kind in ((workbook, "Excel workbook"), (parquet, "Parquet file")):
        with pytest.raises(DataValidationError) as refused:
            read_file(path)
        assert refused.value.problems[0].file == path.name
        assert kind in refused.value.problems[0].reason


def test_a_workbook_title_block_is_skipped(tmp_path: Path) -> None:
    path = tmp_path / "report.xlsx"
    rows = [["商談レポート", None, None], [None, None, None], ["Id", "Name", "Amount"],
            ["1", "A", 100], ["2", "B", 200]]  # fmt: skip
    pd.DataFrame(rows).to_excel(path, index=False, header=False)
    frame = read_file(path)["Sheet1"]
    assert list(frame.columns) == ["Id", "Name", "Amount"]
    assert frame["Amount"].tolist() == [100, 200]
