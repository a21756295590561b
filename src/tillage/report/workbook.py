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


def _write_frame(sheet: Worksheet, frame: pd.DataFrame, lang: str, row: int = 1) -> None:
    headers = _headers(lang)
    for j, name in enumerate(frame.columns, start=1):
        cell = put(sheet, row, j, headers.get(name, name))
        cell.font = Font(bold=True)
        sheet.column_dimensions[get_column_letter(j)].width = max(10, min(40, len(str(name)) + 6))
    for i, values in enumerate(frame.itertuples(index=False), start=row + 1):
        for j, value in enumerate(values, start=1):
            if value is None or (isinstance(value, float) and value != value):
                continue
            put(sheet, i, j, value.item() if hasattr(value, "item") else value)
    sheet.freeze_panes = sheet.cell(row=row + 1, column=1)


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
) -> None:
    """Write the workbook to ``path``."""
    _ = gettext_for(lang)
    book = Workbook()
    used: set[str] = set()
    sheet = book.active
    sheet.title = _sheet_name(_("Portfolio"), used)
    _write_frame(sheet, portfolio_rows(accounts, currency, lang), lang)

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
    heat.column_dimensions["A"].width = 20

    deal_sheet = book.create_sheet(_sheet_name(_("Open deals"), used))
    _write_frame(deal_sheet, deals, lang)

    rows = plan_rows(plan, lang)
    for (_rep_id, rep), actions in rows.groupby(["rep_id", "rep"], sort=True, dropna=False):
        name = _sheet_name(f"{_('Plan')} {rep}", used)
        _write_frame(book.create_sheet(name), actions.drop(columns=["rep_id", "rep"]), lang)
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)
