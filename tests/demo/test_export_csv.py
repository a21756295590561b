"""The formatting both CRM export writers share (the round trip through the importers is in
tests/ingest/test_roundtrip.py)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from tillage.demo._export_csv import Export, export_numbers, referenced_ids, write_csv


def test_numbers_and_references_as_exports_write_them() -> None:
    numbers = export_numbers(pd.Series([3.0, 2.5, None, 120000.0, float("nan")]))
    assert numbers.tolist() == ["3", "2.5", "", "120000", ""]
    refs = referenced_ids({7: "0015g0000000001AAA"}, pd.Series([7, None], dtype="Int64"))
    assert refs.tolist() == ["0015g0000000001AAA", ""]


def test_salesforce_quotes_everything_with_crlf_hubspot_only_where_needed(tmp_path: Path) -> None:
    frame = pd.DataFrame({"Name": ["株式会社A, 本社", "B"], "Amount": ["10", ""]})
    out = Export(tmp_path)
    write_csv(frame, tmp_path / "sf.csv", quote_all=True, encoding="utf-8", out=out)
    write_csv(frame, tmp_path / "hs.csv", quote_all=False, encoding="cp932", out=out)
    assert out.files == [tmp_path / "sf.csv", tmp_path / "hs.csv"]
    sf = (tmp_path / "sf.csv").read_bytes().decode("utf-8")
    assert sf == '"Name","Amount"\r\n"株式会社A, 本社","10"\r\n"B",""\r\n'
    hs = (tmp_path / "hs.csv").read_bytes().decode("cp932")
    assert hs == 'Name,Amount\n"株式会社A, 本社",10\nB,\n'
