"""The Excel export of a snapshot (openpyxl): the portfolio, a heatmap, the deals and the plans.

Sheets: the accounts with their cell, LTV, interval, growth, priority and reasons; a heatmap of
total LTV by owner × cell with a three-colour scale (and the account counts beside it); the
scored open deals by zone; one sheet per rep with that rep's planned actions. Headers and values
are in the chosen language; amounts in company currency, hours in hours.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
from openpyxl import Workbook
from openpyxl.formatting.rule import ColorScaleRule
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from tillage.i18n import gettext_for
from tillage.inert import put
from tillage.report.portfolio import SEGMENTS, plan_rows, portfolio_rows, segment_label
from tillage.report.sheet_layout import format_columns, money_format, print_setup

_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")


def _headers(lang: str) -> dict[str, str]:
    _ = gettext_for(lang)
    return {
        "account_id": _("Account ID"),
        "key": _("Key"),
        "name": _("Account"),
        "owner": _("Owner"),
        "segment": _("Cell code"),
        "segment_label": _("Cell"),
        "zone": _("Zone"),
        "ltv": _("LTV"),
        "ltv_low": _("LTV, low"),
        "ltv_high": _("LTV, high"),
        "growth": _("Expected expansion value"),
        "churn_risk": _("Churn risk"),
        "priority": _("Priority"),
        "p_cell": _("P(cell)"),
        "borderline": _("Borderline"),
        "days_to_renewal": _("Days to renewal"),
        "revenue_12m": _("Revenue, last 12 months"),
        "reasons": _("Reasons"),
        "rep_id": _("Rep ID"),
        "rep": _("Rep"),
        "month": _("Month"),
        "account": _("Account"),
        "action": _("Action code"),
        "action_label": _("Action"),
        "hours": _("Hours"),
        "expected_uplift": _("Expected uplift"),
        "must_do": _("Must do"),
        "products": _("Products"),
        "opportunity_id": _("Deal ID"),
        "deal": _("Deal"),
        "amount": _("Amount"),
        "win_probability": _("Win probability"),
        "expected_value": _("Expected value"),
        "p_zone": _("P(zone)"),
    }


INTERNAL = ("account_id", "segment", "action", "rep_id", "opportunity_id")
"""Columns of internal ids and codes, left out unless the workbook is asked for them (the
readable column beside each — cell, action — stays)."""


def _cell_value(value: object, yes: str) -> object:
    """A frame value as a workbook cell: numpy scalars as Python, True as the word for yes and
    False as an empty cell (never Python's ``False``), timestamps as dates."""
    if hasattr(value, "item"):
        value = value.item()  # type: ignore[union-attr]
    if isinstance(value, bool):
        return yes if value else None
    if isinstance(value, pd.Timestamp):
        return value.date()
    return value


def _write_frame(
    sheet: Worksheet,
    frame: pd.DataFrame,
    lang: str,
    *,
    currency: str,
    title: str,
    ids: bool = False,
) -> None:
    """``frame`` as a table from A1 with headers in ``lang``, formatted and set up to print."""
    _ = gettext_for(lang)
    if not ids:
        frame = frame.drop(columns=[c for c in INTERNAL if c in frame.columns])
    headers = _headers(lang)
    yes = _("yes")
    for j, name in enumerate(frame.columns, start=1):
        cell = put(sheet, 1, j, headers.get(name, name))
        cell.font = Font(bold=True)
    for i, values in enumerate(frame.itertuples(index=False), start=2):
        for j, value in enumerate(values, start=1):
            if value is None or (isinstance(value, float) and value != value):
                continue
            put(sheet, i, j, _cell_value(value, yes))
    sheet.freeze_panes = sheet.cell(row=2, column=1)
    format_columns(sheet, frame.columns, currency=currency, lang=lang)
    print_setup(sheet, title)


def _sheet_name(name: str, used: set[str]) -> str:
    base = _BAD_SHEET_CHARS.sub("_", name)[:28] or "-"
    candidate, n = base, 2
    while candidate in used:
        candidate, n = f"{base[:25]}~{n}", n + 1
    used.add(candidate)
    return candidate


def write_workbook(
    path: Path,
    accounts: pd.DataFrame,
    deals: pd.DataFrame,
    plan: pd.DataFrame,
    *,
    currency: str,
    lang: str,
    title: str | None = None,
    ids: bool = False,
) -> None:
    """Write the workbook to ``path``: headers and sheet names in ``lang``, amounts in
    ``currency`` with its number format, internal ids and codes only with ``ids``, every sheet
    set up to print landscape one page wide with ``title`` (default: "tillage") on each page."""
    _ = gettext_for(lang)
    title = title or "tillage"
    book = Workbook()
    used: set[str] = set()
    sheet = book.active
    sheet.title = _sheet_name(_("Portfolio"), used)
    _write_frame(
        sheet,
        portfolio_rows(accounts, currency, lang),
        lang,
        currency=currency,
        title=title,
        ids=ids,
    )

    heat = book.create_sheet(_sheet_name(_("Heatmap"), used))
    owners = accounts.assign(owner=accounts["owner"].fillna(_("(no owner)")))
    ltv = owners.pivot_table(index="owner", columns="segment", values="ltv", aggfunc="sum")
    counts = owners.pivot_table(index="owner", columns="segment", values="ltv", aggfunc="size")
    cols = [s for s in SEGMENTS if s in ltv.columns]
    heat.cell(row=1, column=1, value=_("Total LTV by owner and cell")).font = Font(bold=True)
    start = len(cols) + 3
    heat.cell(row=1, column=start, value=_("Accounts by owner and cell")).font = Font(bold=True)
    for block, frame in ((1, ltv), (start, counts)):
        heat.cell(row=2, column=block, value=_("Owner")).font = Font(bold=True)
        for j, code in enumerate(cols, start=block + 1):
            heat.cell(row=2, column=j, value=segment_label(code, lang)).font = Font(bold=True)
        for i, (owner, row) in enumerate(frame.reindex(columns=cols).iterrows(), start=3):
            put(heat, i, block, str(owner))
            for j, code in enumerate(cols, start=block + 1):
                value = row[code]
                if pd.notna(value):
                    heat.cell(row=i, column=j, value=float(value))
        last = 2 + len(frame)
        if cols and last >= 3:
            area = f"{get_column_letter(block + 1)}3:{get_column_letter(block + len(cols))}{last}"
            heat.conditional_formatting.add(
                area,
                ColorScaleRule(
                    start_type="min",
                    start_color="F8F8F8",
                    mid_type="percentile",
                    mid_value=50,
                    mid_color="FFD966",
                    end_type="max",
                    end_color="C00000",
                ),
            )
    money = money_format(currency, lang)
    for row_cells in heat.iter_rows(min_row=3, min_col=2, max_col=len(cols) + 1):
        for cell in row_cells:
            cell.number_format = money
    heat.column_dimensions["A"].width = 20
    for j in range(2, 2 * len(cols) + 4):
        heat.column_dimensions[get_column_letter(j)].width = 16
    print_setup(heat, title, header_rows="1:2")

    deal_sheet = book.create_sheet(_sheet_name(_("Open deals"), used))
    _write_frame(deal_sheet, deals, lang, currency=currency, title=title, ids=ids)

    rows = plan_rows(plan, lang)
    for (_rep_id, rep), actions in rows.groupby(["rep_id", "rep"], sort=True, dropna=False):
        name = _sheet_name(_("Plan of %(rep)s") % {"rep": rep}, used)
        _write_frame(
            book.create_sheet(name),
            actions.drop(columns=["rep"]),
            lang,
            currency=currency,
            title=title,
            ids=ids,
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)
