"""``tillage export xlsx`` as it prints: the workbook rendered to PDF by LibreOffice (headless)
prints each sheet landscape on a handful of pages, one page wide, with amounts as ¥ with
separators, percentages, Japanese headers and sheet names, and no internal ids or codes.

Needs ``soffice`` (Debian's ``libreoffice-calc-nogui``) and ``pdftotext``/``pdfinfo``
(``poppler-utils``); ``scripts/test`` installs both.
"""

from __future__ import annotations

import math
import re
import subprocess
from collections import Counter
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy.orm import Session

from tillage.report.workbook import write_workbook
from tillage.services.snapshot_frames import deals_frame, plan_frame, portfolio_frame
from tillage.store.access import everything

from ..scored_demo import ScoredDemo

pytestmark = pytest.mark.slow
REPS = 3  # plan sheets rendered (each rep's sheet is laid out alike)
MONEY = re.compile(r"￥\d{1,3}(?:,\d{3})+")
RAW = re.compile(r"\d\.\d{3,}|\dE\+\d|True|False|nan")


def _pages(pdf: Path) -> list[str]:
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True)
    count = int(re.search(r"Pages:\s+(\d+)", info.stdout)[1])  # type: ignore[index]
    return [
        subprocess.run(
            ["pdftotext", "-layout", "-f", str(p), "-l", str(p), str(pdf), "-"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for p in range(1, count + 1)
    ]


@pytest.fixture(scope="module")
def rendered(scored_demo: ScoredDemo, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    folder = tmp_path_factory.mktemp("print")
    with Session(scored_demo.engine) as session:
        accounts = portfolio_frame(session, scored_demo.snapshot_id, visible=everything())
        deals = deals_frame(session, scored_demo.snapshot_id, visible=everything())
        plan = plan_frame(session, scored_demo.snapshot_id, visible=everything())
    plan = plan[plan["rep_id"].isin(sorted(plan["rep_id"].dropna().unique())[:REPS])]
    book = folder / "tillage.xlsx"
    write_workbook(
        book, accounts, deals, plan, currency="JPY", lang="ja", title="tillage 2026-10-01"
    )
    subprocess.run(
        ["soffice", "--headless", "--convert-to", "pdf", "--outdir", str(folder), str(book)],
        capture_output=True,
        timeout=300,
        check=True,
    )
    return load_workbook(book), _pages(folder / "tillage.pdf"), len(accounts), len(deals), folder


def test_each_sheet_prints_on_a_handful_of_landscape_pages(rendered) -> None:  # type: ignore[no-untyped-def]
    workbook, pages, n_accounts, n_deals, folder = rendered
    names = workbook.sheetnames
    assert names[:3] == ["ポートフォリオ", "ヒートマップ", "進行中の商談"]
    assert all(n.endswith(" の計画") for n in names[3:]) and len(names) == 3 + REPS
    per_sheet: Counter[str] = Counter()
    for text in pages:
        head = "\n".join(text.strip().splitlines()[:2])
        (sheet,) = [n for n in names if n in head]  # the page header names its sheet
        per_sheet[sheet] += 1
    assert set(per_sheet) == set(names)
    # one page wide: a page holds the table's full width, so the pages are the rows' length
    assert per_sheet["ポートフォリオ"] <= math.ceil(n_accounts / 25)
    assert per_sheet["ヒートマップ"] == 1
    assert per_sheet["進行中の商談"] <= max(1, math.ceil(n_deals / 25))
    assert all(per_sheet[n] <= 2 for n in names[3:])
    sizes = subprocess.run(
        ["pdfinfo", "-f", "1", "-l", str(len(pages)), str(folder / "tillage.pdf")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for width, height in re.findall(r"size:\s+([\d.]+) x ([\d.]+) pts", sizes):
        assert float(width) > float(height)  # landscape


def test_the_printed_numbers_are_formatted_and_headers_repeat(rendered) -> None:  # type: ignore[no-untyped-def]
    workbook, pages, *_ = rendered
    portfolio = [p for p in pages if "ポートフォリオ" in "\n".join(p.strip().splitlines()[:2])]
    assert len(portfolio) >= 2
    for text in portfolio:
        assert "取引先" in text and "解約リスク" in text  # the header row on every page
        assert len(MONEY.findall(text)) > 20
        assert re.search(r"\d+%", text)
        assert not RAW.search(text), RAW.search(text)
        assert "ACC-" in text and "deepen" not in text  # keys shown, internal codes not
    sheet = workbook["ポートフォリオ"]
    headers = [c.value for c in sheet[1]]
    assert "取引先ID" not in headers and "セルコード" not in headers
    assert sheet.page_setup.orientation == "landscape" and sheet.print_title_rows == "$1:$1"
