"""Readers: CSV/TSV, Excel workbooks and Parquet files into pandas frames.

Every reader returns ``{sheet name: frame}`` (one entry for CSV and Parquet, named after the
file) with the cells as read: text files give strings only (``None`` for empty cells), so
parsing and its error reporting happen in one place (:mod:`tillage.ingest.values`); Excel and
Parquet keep their native types. A frame's index is the data row's position (0 = the first row
under the header), which :func:`spreadsheet_row` turns into the number a spreadsheet shows.
"""

from __future__ import annotations

import io
from pathlib import Path
from zipfile import BadZipFile

import pandas as pd
from openpyxl.utils.exceptions import InvalidFileException

from tillage.errors import DataValidationError, Problem
from tillage.ingest.encoding import detect_encoding, sniff_format

TEXT_SUFFIXES = {".csv", ".tsv", ".txt"}
EXCEL_SUFFIXES = {".xlsx", ".xlsm"}
PARQUET_SUFFIXES = {".parquet", ".pq"}


def spreadsheet_row(index: int) -> int:
    """The row number a spreadsheet shows for data row ``index`` (the header is row 1)."""
    return int(index) + 2


def read_csv(path: Path) -> pd.DataFrame:
    """Read a delimited text file, detecting its encoding, delimiter and quoting."""
    data = path.read_bytes()
    encoding = detect_encoding(data, name=path.name)
    head = data[:65_536].decode(encoding, errors="ignore")
    fmt = sniff_format(head, encoding)
    try:
        frame = pd.read_csv(
            io.BytesIO(data),
            encoding=encoding,
            sep=fmt.delimiter,
            quotechar=fmt.quotechar,
            dtype=str,
            keep_default_na=False,
            na_values=[""],
            skip_blank_lines=True,
        )
    except (pd.errors.ParserError, ValueError) as exc:
        raise DataValidationError(
            f"{path.name}: not a readable delimited file",
            [Problem(path.name, None, None, None, f"cannot parse as CSV: {exc}")],
        ) from exc
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame


def read_excel(path: Path, sheet: str | None = None) -> dict[str, pd.DataFrame]:
    """Read every sheet of a workbook (or only ``sheet``)."""
    try:
        sheets = pd.read_excel(path, sheet_name=sheet if sheet is not None else None)
    except (BadZipFile, InvalidFileException, KeyError) as exc:  # not a workbook, or damaged
        raise DataValidationError(
            f"{path.name}: not a readable Excel workbook",
            [Problem(path.name, None, None, None, f"cannot open as .xlsx: {exc}")],
        ) from exc
    except ValueError as exc:
        raise DataValidationError(
            f"{path.name}: cannot read sheet {sheet!r}",
            [Problem(path.name, None, None, sheet, str(exc))],
        ) from exc
    if isinstance(sheets, pd.DataFrame):
        sheets = {sheet or path.stem: sheets}
    out = {}
    for name, frame in sheets.items():
        frame.columns = [str(c).strip() for c in frame.columns]
        out[str(name)] = frame.dropna(how="all")
    return out


def read_parquet(path: Path) -> pd.DataFrame:
    """Read a Parquet file with its native column types."""
    return pd.read_parquet(path)


def read_file(path: Path, *, sheet: str | None = None) -> dict[str, pd.DataFrame]:
    """Read a CSV, Excel or Parquet file into ``{sheet or file stem: frame}``."""
    suffix = path.suffix.lower()
    if suffix in TEXT_SUFFIXES:
        return {path.stem: read_csv(path)}
    if suffix in EXCEL_SUFFIXES:
        return read_excel(path, sheet)
    if suffix in PARQUET_SUFFIXES:
        return {path.stem: read_parquet(path)}
    raise DataValidationError(
        f"{path.name}: unsupported file type {suffix or '(none)'}",
        [Problem(path.name, None, None, suffix, "use .csv, .tsv, .xlsx or .parquet")],
    )
