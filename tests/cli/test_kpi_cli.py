"""`tillage kpi`: the hand-made company's KPIs printed and exported."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from tillage.cli.main import app
from tillage.store.database import make_engine, migrate
from tillage.store.load import replace_all

from ..kpi import handmade


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('kpi-cli') / 'store.db'}"
    engine = make_engine(url)
    migrate(engine)
    replace_all(engine, handmade.tables())
    engine.dispose()
    return url


def test_prints_by_team_in_english_and_writes_csv(store: str, tmp_path: Path) -> None:
    out = tmp_path / "kpi.csv"
    args = ["--lang", "en", "kpi", "--database-url", store, "--period", "2026-Q3"]
    result = CliRunner().invoke(app, [*args, "--by", "team", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "Net revenue retention" in result.output
    assert "82.2%" in result.output  # NRR of the company
    assert "East" in result.output
    frame = pd.read_csv(out)
    nrr = frame[(frame.kpi == "nrr") & (frame.cut == "team") & (frame.cut_value == "East")]
    assert nrr.value.iloc[0] == pytest.approx(90.0)


def test_japanese_names_trend_and_xlsx(store: str, tmp_path: Path) -> None:
    out = tmp_path / "kpi.xlsx"
    args = ["--lang", "ja", "kpi", "--database-url", store, "--period", "2026-09"]
    result = CliRunner().invoke(app, [*args, "--trend", "3", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "顧客解約率" in result.output
    frame = pd.read_excel(out)
    assert list(dict.fromkeys(frame.period)) == ["2026-07", "2026-08", "2026-09"]


def test_refuses_bad_options(store: str) -> None:
    base = ["kpi", "--database-url", store]
    assert CliRunner().invoke(app, [*base, "--period", "2026-Q3", "--by", "x"]).exit_code == 2
    result = CliRunner().invoke(app, [*base, "--period", "2026-13"])
    assert "2026-13" in str(result.exception)
    result = CliRunner().invoke(app, base)  # no snapshot to date the default period
    assert "--period" in str(result.exception)
