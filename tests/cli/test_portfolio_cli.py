"""`tillage portfolio`, `plan`, `diff` and `export` on a scored demo company."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from tillage.cli.main import app
from tillage.config import get_settings

from ..scored_demo import ScoredDemo

pytestmark = pytest.mark.slow


def _run(demo: ScoredDemo, monkeypatch: pytest.MonkeyPatch, *args: str) -> str:
    monkeypatch.setenv("TILLAGE_DATABASE_URL", demo.url)
    get_settings.cache_clear()
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_portfolio_plan_diff_and_exports(
    scored_demo: ScoredDemo, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    n_accounts = len(scored_demo.company.tables["accounts"])
    out = _run(scored_demo, monkeypatch, "--lang", "ja", "portfolio")
    assert "深耕" in out and "縮小" in out and f"{n_accounts:,}" in out
    out = _run(scored_demo, monkeypatch, "--lang", "en", "plan", "--month", "2026-10")
    assert "Naive allocation" in out and "Optimality gap" in out

    sid = str(scored_demo.snapshot_id)
    csv = tmp_path / "portfolio.csv"
    _run(
        scored_demo,
        monkeypatch,
        "portfolio",
        "--snapshot",
        sid,
        "--format",
        "csv",
        "--out",
        str(csv),
    )
    portfolio = pd.read_csv(csv, encoding="utf-8-sig")
    assert len(portfolio) == n_accounts
    assert portfolio["priority"].is_monotonic_decreasing

    matrix = tmp_path / "diff.csv"
    _run(scored_demo, monkeypatch, "diff", sid, sid, "--format", "csv", "--out", str(matrix))
    cells = pd.read_csv(matrix, encoding="utf-8-sig")
    assert (cells.groupby("by")["accounts"].sum() == n_accounts).all()
    assert (cells["from"] == cells["to"]).all()  # a snapshot against itself: nobody moved

    book = tmp_path / "portfolio.xlsx"
    _run(scored_demo, monkeypatch, "export", "xlsx", str(book), "--lang", "en", "--snapshot", sid)
    workbook = load_workbook(book)
    assert workbook.sheetnames[:3] == ["Portfolio", "Heatmap", "Open deals"]
    assert any(name.startswith("Plan ") for name in workbook.sheetnames)
    assert workbook["Portfolio"].max_row == n_accounts + 1
    assert len(workbook["Heatmap"].conditional_formatting) == 2  # LTV and counts blocks

    folder = tmp_path / "csv"
    # the session's demo store is shared: other tests may add newer snapshots
    _run(scored_demo, monkeypatch, "export", "csv", str(folder), "--snapshot", sid)
    plans = pd.read_csv(folder / "plans.csv", encoding="utf-8-sig")
    assert len(plans) > 0 and set(plans["month"]) == {"2026-10-01"}
