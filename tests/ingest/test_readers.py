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
