"""Exports that cannot run: text that a spreadsheet would take for a formula is kept as text.

An account named ``=cmd|' /C calc'!A0`` (or ``+1``, ``-1``, ``@SUM(1)``, or one starting with a
tab or carriage return) would become a live formula when a CSV or workbook is opened in Excel or
LibreOffice. Following OWASP's CSV-injection rule, every *text* cell starting with ``=``, ``+``,
``-``, ``@``, tab or CR (or their full-width forms ＝＋－＠, which Japanese input turns into the
same) is:

* in CSV: prefixed with a single quote ``'`` (the csv module then quotes the field as needed), so
  the spreadsheet shows the text and evaluates nothing;
* in XLSX: written as a string cell (never a formula) with the cell's "quote prefix" set, so that
  even editing the cell in Excel keeps it text. The value itself is unchanged.

Numbers stay numbers: a negative amount is a number, not text, and is not touched.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:  # openpyxl takes 0.14 s to import: not for a command that writes no workbook
    from openpyxl.cell.cell import Cell
    from openpyxl.worksheet.worksheet import Worksheet

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")


def is_formula_like(value: object) -> bool:
    """Whether ``value`` is text that a spreadsheet could read as a formula."""
    return isinstance(value, str) and value.startswith(FORMULA_STARTS)


def csv_text(value: Any) -> Any:
    """``value`` for a CSV cell: formula-like text with a leading ``'``, anything else as is."""
    return "'" + value if is_formula_like(value) else value


def csv_row(values: Iterable[Any]) -> list[Any]:
    """A row for ``csv.writer`` with every text cell made inert (:func:`csv_text`)."""
    return [csv_text(v) for v in values]


def csv_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` for ``to_csv`` with every text cell and header made inert."""
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object or pd.api.types.is_string_dtype(out[column]):
            out[column] = out[column].map(csv_text)
    out.columns = [csv_text(c) for c in out.columns]
    return out


def put(sheet: Worksheet, row: int, column: int, value: Any) -> Cell:
    """Write ``value`` to a workbook cell; text is always a string cell, never a formula."""
    cell = sheet.cell(row=row, column=column, value=value)
    if isinstance(value, str):
        cell.data_type = "s"  # openpyxl would store "=…" as a formula
        if is_formula_like(value):
            cell.quotePrefix = True
    return cell
