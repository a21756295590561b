"""The CLI's tables in a narrow terminal (80 columns: a pipe, a split pane), and the departure
handover's notes on the command line.

Run as ``python -m tillage`` in a subprocess with ``COLUMNS=80`` on a small scored demo company
in which one account has a long name ending in a separate token (「… 2」, which a wrapping
table put on a second line that read like an empty row). Every table keeps one line per row,
no line is wider than the terminal, and no amount is cut ("…"). ``tillage simulate departure``
shows each account's newest three notes under 「後任への引き継ぎメモ」, as the page does, and
carries them in its JSON and CSV.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from rich.cells import cell_len

from ..installed import run_tillage
from ..small_store import LONG_NAME, NOTES, small_store_copy


@pytest.fixture(scope="module")
def store(
    small_scored_store: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[str, Path, str]:
    """A demo company of 100 accounts scored twice (a quarter apart), its largest account named
    :data:`LONG_NAME` with four notes: the URL, a data folder and the owner's rep key."""
    return small_store_copy(small_scored_store, tmp_path_factory.mktemp("narrow"))


def _run(store: tuple[str, Path, str], *args: str, columns: int = 80) -> str:
    url, folder, _owner = store
    done = run_tillage(args, data_dir=folder, database_url=url, columns=columns)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return done.stdout


def _body_rows(output: str) -> list[list[str]]:
    """The cells of every table body line (between the header rule and the bottom rule)."""
    rows, inside = [], False
    for line in output.splitlines():
        if line.startswith(("┡", "├")):
            inside = True
        elif line.startswith("└"):
            inside = False
        elif inside and line.startswith("│"):
            rows.append([cell.strip() for cell in line.strip().strip("│").split("│")])
    return rows


def _fits(output: str, columns: int = 80) -> None:
    wide = [line for line in output.splitlines() if cell_len(line) > columns]
    assert not wide, wide[:3]
    # a wrapped row shows as a line whose first cell is empty
    wrapped = [row for row in _body_rows(output) if row and row[0] == ""]
    assert not wrapped, wrapped[:3]


def test_accounts_keep_one_line_per_row_and_whole_amounts(store) -> None:  # type: ignore[no-untyped-def]
    output = _run(store, "accounts", "--limit", "30")
    _fits(output)
    rows = _body_rows(output)
    assert len(rows) == 30
    for row in rows:
        assert row[3].startswith("￥") and "…" not in row[3] and "…" not in row[4]
    assert any(row[3].endswith("万") for row in rows)  # compact, as a Japanese reader writes it
    found = _run(store, "accounts", "--search", "三浦トレーディング")
    _fits(found)
    (row,) = _body_rows(found)  # one line: the name's last token did not wrap
    assert row[0].startswith("株式会社三浦") and row[0].endswith("…")  # the name gave way
    # in a wide terminal the same table is whole: full amounts, the whole name
    wide = _run(store, "accounts", "--search", "三浦トレーディング", columns=200)
    assert LONG_NAME in wide and "万" not in "".join(r[3] for r in _body_rows(wide))


def test_departure_shows_the_newest_notes_and_fits(store) -> None:  # type: ignore[no-untyped-def]
    owner = store[2]
    output = _run(store, "simulate", "departure", "--rep", owner)
    _fits(output)
    assert "後任への引き継ぎメモ" in output
    section = output.split("後任への引き継ぎメモ")[1]
    assert "■ 株式会社三浦" in section
    for text in NOTES[1:]:
        assert text in section
    assert NOTES[0] not in section  # three newest only
    assert "メモ全 4 件" in section
    assert "success" in section and "2026-09-04" in section
    answer = json.loads(_run(store, "simulate", "departure", "--rep", owner, "--format", "json"))
    noted = next(a for a in answer["accounts"] if a["account"] == LONG_NAME)
    assert [n["text"] for n in noted["notes"]] == NOTES[:0:-1]  # newest first
    assert noted["notes_total"] == 4


def test_departure_csv_carries_the_notes(store, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "handover.csv"
    _run(store, "simulate", "departure", "--rep", store[2], "--out", str(out))
    with out.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    noted = next(r for r in rows if r["account"] == LONG_NAME)
    assert noted["notes"].splitlines()[0].startswith(NOTES[3])
    assert NOTES[0] not in noted["notes"]


@pytest.mark.parametrize(
    "args",
    [
        ("plan", "--month", "2026-10"),
        ("diff", "1", "2"),
        ("kpi", "--by", "rep"),
        ("renewals", "--days", "366"),
    ],
    ids=["plan", "diff", "kpi-by-rep", "renewals"],
)
def test_other_tables_fit_80_columns(store, args: tuple[str, ...]) -> None:  # type: ignore[no-untyped-def]
    output = _run(store, *args)
    _fits(output)
    assert _body_rows(output)  # there was a table
