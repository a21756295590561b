"""``tillage deals`` on a small demo store."""

from __future__ import annotations

from typer.testing import CliRunner

from tillage.cli.main import app
from tillage.demo import DemoConfig, generate
from tillage.store.database import make_engine, migrate
from tillage.store.load import replace_all


def test_deals_commands_run(tmp_path) -> None:  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'store.db'}"
    engine = make_engine(url)
    migrate(engine)
    replace_all(engine, generate(DemoConfig(n_accounts=120, seed=4)).tables)
    engine.dispose()
    runner = CliRunner()
    common = ["--as-of", "2026-09-30", "--database-url", url]
    deep = tmp_path / ("a-folder-whose-name-is-long-" * 4)  # wider than the 80-column console
    deep.mkdir()
    out = deep / "s.csv"
    result = runner.invoke(app, ["--lang", "en", "deals", "suggest", *common, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "Accounts that buy" in result.output or "successor" in result.output
    assert " rules, " in result.output and " suggestions" in result.output
    assert f"rows → {out}" in result.output
    assert out.exists()
    args = ["--lang", "ja", "deals", "win-probability", *common, "--months", "6"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "win_probability" in result.output
    assert "進行中の商談 " in result.output
