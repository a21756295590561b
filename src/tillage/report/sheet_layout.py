"""How a workbook sheet reads on screen and on paper: number formats by column, widths fitted to
the text, and the print set-up (landscape A4, one page wide, the header row on every page, the
title and the sheet's name at the top of each page, page numbers at the bottom).

Widths count an East Asian wide character (漢字, かな) as two columns, as Excel draws them.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

from babel.numbers import get_currency_symbol
from openpyxl.styles import Alignment
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from tillage.i18n import check_language

MONEY = {
    "ltv",
    "ltv_low",
    "ltv_high",
    "growth",
    "revenue_12m",
    "expected_uplift",
    "amount",
    "expected_value",
    "arr",
    "ltv_at_risk",
}
"""Columns holding amounts in company currency."""
PERCENT = {"churn_risk", "p_cell", "win_probability", "p_zone", "churn_after", "p_alive"}
"""Columns holding probabilities (0–1), shown as percentages."""
DECIMAL = {"priority": "0.0", "hours": "0.0", "tenure_months": "0.0", "days_to_renewal": "#,##0"}
DATES = {"month": "yyyy-mm", "renewal_date": "yyyy-mm-dd", "as_of": "yyyy-mm-dd"}
WRAPPED = {"reasons": 60, "products": 40}
"""Long text columns: wrapped in a column this wide (characters) instead of widened."""
MIN_WIDTH, MAX_WIDTH = 8, 45
_CLDR = {"ja": "ja_JP", "en": "en_US"}


def money_format(currency: str, lang: str) -> str:
    """Excel's format for whole amounts of ``currency``: ``"￥"#,##0`` in Japanese."""
    symbol = get_currency_symbol(currency, locale=_CLDR[check_language(lang)])
    return f'"{symbol}"#,##0;-"{symbol}"#,##0'


def text_width(value: object) -> int:
    """Columns ``value`` takes when shown: wide (East Asian) characters count two."""
    text = (
        value
        if isinstance(value, str)
        else f"{value:,.0f}"
        if isinstance(value, float)
        else str(value)
    )
    longest = max((line for line in text.split("\n")), key=len, default="")
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in longest)


LINE_HEIGHT = 15.0
"""Points per line of a wrapped cell (the default row height of an 11-point font)."""


def _fit_height(sheet: Worksheet, row: int, value: object, width: int) -> None:
    """Give ``row`` the height of ``value`` wrapped in a column ``width`` characters wide: the
    spreadsheet does not grow a row for wrapped text on opening, so the text would print cut to
    its first line."""
    lines = sum(max(1, -(-text_width(part) // width)) for part in str(value).split("\n"))
    if lines > 1:
        current = sheet.row_dimensions[row].height or LINE_HEIGHT
        sheet.row_dimensions[row].height = max(current, LINE_HEIGHT * lines)
        for cell in sheet[row]:  # the row's figures beside the wrapped text's first line
            if cell.value is not None:
                cell.alignment = Alignment(
                    horizontal=cell.alignment.horizontal,
                    wrap_text=cell.alignment.wrap_text,
                    vertical="top",
                )


def format_columns(
    sheet: Worksheet, columns: Iterable[str], *, currency: str, lang: str, header_row: int = 1
) -> None:
    """Give each column of the table under ``header_row`` its number format (by the column's
    name in ``columns``, in order) and a width fitted to its header and values."""
    money = money_format(currency, lang)
    for j, name in enumerate(columns, start=1):
        fmt = (
            money
            if name in MONEY
            else "0%"
            if name in PERCENT
            else DECIMAL.get(name) or DATES.get(name)
        )
        letter = get_column_letter(j)
        widest = 0
        for (cell,) in sheet.iter_rows(min_row=header_row, min_col=j, max_col=j):
            if cell.value is None:
                continue
            if cell.row > header_row and fmt and not isinstance(cell.value, str):
                cell.number_format = fmt
            if name in WRAPPED and cell.row > header_row:
                cell.alignment = Alignment(wrap_text=True, vertical="top")
                _fit_height(sheet, cell.row, cell.value, WRAPPED[name])
            shown = cell.value
            if name in MONEY and isinstance(shown, int | float):
                shown = f"￥{shown:,.0f}"
            elif name in PERCENT and isinstance(shown, int | float):
                shown = "100%"
            widest = max(widest, text_width(shown))
        width = WRAPPED.get(name) or max(MIN_WIDTH, min(MAX_WIDTH, widest + 2))
        sheet.column_dimensions[letter].width = width


def print_setup(sheet: Worksheet, title: str, *, header_rows: str = "1:1") -> None:
    """Landscape A4, fitted to one page wide (as many pages tall as needed), ``header_rows``
    repeated on every page, ``title`` and the sheet's name in the page header, page numbers in
    the footer."""
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.print_title_rows = header_rows
    sheet.print_options.gridLines = False
    sheet.page_margins.left = sheet.page_margins.right = 0.4
    sheet.page_margins.top = sheet.page_margins.bottom = 0.6
    sheet.oddHeader.left.text = title.replace("&", "&&")
    sheet.oddHeader.right.text = "&A"
    sheet.oddFooter.center.text = "&P / &N"
