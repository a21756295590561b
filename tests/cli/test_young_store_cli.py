"""``tillage ltv``, ``backtest`` and ``score`` run to the end on three months of history."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from tillage.cli.main import app
from tillage.config import get_settings
from tillage.store.database import make_engine, migrate, session_factory
from tillage.store.load import replace_all
from tillage.store.records import Snapshot

from ..young_store import young_tables


@pytest.fixture(scope="module")
def young(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dt.date]:
    company, tables = young_tables()
    url = f"sqlite:///{tmp_path_factory.mktemp('young') / 't.db'}"
    engine = make_engine(url)
    migrate(engine)
    replace_all(engine, tables)
    engine.dispose()
    return url, company.config.as_of


def _run(url: str, monkeypatch: pytest.MonkeyPatch, *args: str) -> str:
    monkeypatch.setenv("TILLAGE_DATABASE_URL", url)
    get_settings.cache_clear()
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_ltv_and_backtest_run_on_three_months(
    young: tuple[str, dt.date], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    url, as_of = young
    out = tmp_path / "ltv.csv"
    text = _run(url, monkeypatch, "ltv", "--as-of", as_of.isoformat(), "--out", str(out))
    # which forecast each stream used, and why, in the configured language (Japanese)
    assert "受注売上: " in text and "期間内の解約確率: " in text
    values = pd.read_csv(out)
    assert len(values) > 0 and values["ltv"].notna().all()
    assert (values["ltv_low"] <= values["ltv_high"]).all()
    cal = (as_of - dt.timedelta(days=30)).isoformat()
    text = _run(url, monkeypatch, "backtest", "--calibration-end", cal, "--horizon", "1")
    assert "売上 MAE（取引先別）" in text and "契約売上: " in text
    assert "revenue_mae" not in text and "nan" not in text  # no codes or raw floats


def test_score_runs_on_three_months_and_says_what_it_could_not_fit(
    young: tuple[str, dt.date], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, as_of = young
    _run(url, monkeypatch, "score", "--as-of", as_of.isoformat())
    engine = make_engine(url)
    with session_factory(engine)() as session:
        snapshot = session.execute(select(Snapshot).order_by(Snapshot.id.desc())).scalars().first()
        models = snapshot.models
    engine.dispose()
    # the naive baseline needs two years; the account models value the accounts anyway
    assert "not_fitted" in models["baseline"]
    assert models["ltv"]["model"] == "AccountLTV"
    assert isinstance(models["ltv"]["params"]["not_fitted"], dict)
    # three months of history: the folds that choose the forecast shrink to one month
    choice = models["forecast"]["order_revenue"]
    assert choice["reason"].startswith(("run rate", choice["forecast"]))
    assert choice["folds"] >= 1
