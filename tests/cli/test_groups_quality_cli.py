"""`tillage portfolio --groups` rolls LTV up to corporate groups; `tillage score` says what the
data cannot support. On a copy of the scored demo company, with a group linked in."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from tillage.cli.main import app
from tillage.config import get_settings
from tillage.store.database import make_engine

from ..scored_demo import ScoredDemo

pytestmark = pytest.mark.slow


@pytest.fixture
def grouped(scored_demo: ScoredDemo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A copy of the scored demo store whose three highest-LTV accounts form one group."""
    source = Path(scored_demo.url.split("///", 1)[1])
    scored_demo.engine.dispose()
    copy = tmp_path / "grouped.db"
    shutil.copy(source, copy)
    url = f"sqlite:///{copy}"
    engine = make_engine(url)
    with engine.begin() as connection:
        top = (
            connection.execute(
                text(
                    "SELECT account_id FROM account_scores WHERE snapshot_id = :s "
                    "ORDER BY ltv DESC LIMIT 3"
                ),
                {"s": scored_demo.snapshot_id},
            )
            .scalars()
            .all()
        )
        for child in top[1:]:
            connection.execute(
                text("UPDATE accounts SET parent_account_id = :p WHERE id = :c"),
                {"p": top[0], "c": child},
            )
    engine.dispose()
    monkeypatch.setenv("TILLAGE_DATABASE_URL", url)
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()


def _run(*args: str) -> str:
    result = CliRunner().invoke(app, list(args), terminal_width=200)
    assert result.exit_code == 0, result.output
    return result.output


def test_portfolio_groups(grouped: str, tmp_path: Path) -> None:
    engine = make_engine(grouped)
    ltv = pd.read_sql(
        "SELECT a.name, s.ltv FROM account_scores s JOIN accounts a ON a.id = s.account_id "
        "WHERE s.snapshot_id = (SELECT MAX(id) FROM snapshots) ORDER BY s.ltv DESC LIMIT 3",
        engine,
    )
    engine.dispose()
    out = tmp_path / "groups.csv"
    _run("--lang", "en", "portfolio", "--groups", "--format", "csv", "--out", str(out))
    groups = pd.read_csv(out, encoding="utf-8-sig")
    assert groups[["group", "accounts", "unscored"]].to_dict("records") == [
        {"group": ltv["name"].iloc[0], "accounts": 3, "unscored": 0}
    ]
    assert groups["ltv"].iloc[0] == pytest.approx(ltv["ltv"].sum())
    table = _run("--lang", "ja", "portfolio", "--groups")
    assert "企業グループ" in table and ltv["name"].iloc[0] in table


def test_score_says_what_the_data_cannot_support(grouped: str) -> None:
    engine = make_engine(grouped)
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM nps_responses"))
        connection.execute(text("UPDATE accounts SET acquisition_cost = NULL"))
    engine.dispose()
    out = _run("--lang", "en", "score", "--as-of", "2026-09-30")
    assert "Data quality: what the data cannot support" in out
    assert "No NPS answers: the NPS KPI and detractor signals will be blank." in out
    assert "No acquisition costs: LTV/CAC and CAC payback will be blank." in out
    assert "No contracts" not in out  # the demo has contracts
