"""`tillage import`: summary, dry run, the report file, and a non-zero exit on errors."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
import typer
from sqlalchemy import func, select
from typer.testing import CliRunner

from tillage.cli import imports
from tillage.cli.context import state
from tillage.store.database import make_engine, migrate
from tillage.store.schema import Import, Order

FIXTURES = Path(__file__).resolve().parents[1] / "ingest" / "fixtures" / "generic"

# The command alone, as tillage.cli.main registers it (`app.command("import")`).
app = typer.Typer()
app.command("import")(imports.import_command)
app.command("noop")(lambda: None)  # keeps Typer in multi-command mode, like the real app


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    from tillage.config import get_settings

    url = f"sqlite:///{tmp_path / 'tillage.db'}"
    monkeypatch.setenv("TILLAGE_DATABASE_URL", url)
    monkeypatch.setattr(state, "lang", "en")
    get_settings.cache_clear()
    engine = make_engine(url)
    migrate(engine)
    yield engine
    engine.dispose()
    get_settings.cache_clear()


def _count(engine, model) -> int:  # type: ignore[no-untyped-def]
    with engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(model)).scalar_one()


def test_import_prints_a_summary(store, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    folder = shutil.copytree(FIXTURES, tmp_path / "export")
    args = ["import", str(folder), "--mapping", str(folder / "mapping.toml")]
    dry = CliRunner().invoke(app, [*args, "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "Dry run" in dry.output and _count(store, Order) == 0
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "10 rows read, 13 new, 0 updated" in result.output
    assert _count(store, Order) == 5 and _count(store, Import) == 1


def test_errors_exit_non_zero_with_the_report(store, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    folder = Path(shutil.copytree(FIXTURES, tmp_path / "export"))
    orders = folder / "orders.csv"
    orders.write_text(orders.read_text("utf-8") + "X,1,A404,GTX Pro,2024-07-01,1,1\n", "utf-8")
    report = tmp_path / "problems.xlsx"
    result = CliRunner().invoke(
        app,
        ["import", str(folder), "--mapping", str(folder / "mapping.toml"), "--report", str(report)],
    )
    assert result.exit_code == 1
    assert "nothing was imported" in result.output
    frame = pd.read_excel(report)
    assert frame[["file", "row", "column", "value"]].values.tolist() == [
        ["orders.csv", 7, "account_code", "A404"]
    ]
    assert _count(store, Order) == 0


def test_the_dry_run_previews_counts_and_the_data_quality_note(store, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    folder = shutil.copytree(FIXTURES, tmp_path / "export")
    args = ["import", str(folder), "--mapping", str(folder / "mapping.toml")]
    assert CliRunner().invoke(app, args).exit_code == 0
    dry = CliRunner().invoke(app, [*args, "--dry-run"], terminal_width=200)
    assert dry.exit_code == 0, dry.output
    assert "Import preview" in dry.output
    assert "10 rows read, 0 new, 0 updated, 13 unchanged, 0 skipped" in dry.output
    assert "Data quality: what the data cannot support" in dry.output
    assert "No contracts: the contract KPIs" in dry.output
    assert "[assumed] No order line has a margin" in dry.output


MULTICURRENCY = FIXTURES.parent / "salesforce_multicurrency"


def test_mixed_currencies_need_rates(store, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    folder = shutil.copytree(MULTICURRENCY, tmp_path / "export")
    refused = CliRunner().invoke(app, ["import", str(folder)], terminal_width=300)
    assert refused.exit_code == 1
    assert "MXN, PEN, USD" in refused.output and "nothing was imported" in refused.output
    rates = tmp_path / "rates.csv"
    rates.write_text("currency,rate,valid_from\nUSD,150,\nPEN,40,\nMXN,8,2024-01-01\n", "utf-8")
    done = CliRunner().invoke(app, ["import", str(folder), "--rates", str(rates)])
    assert done.exit_code == 0, done.output
    with store.connect() as connection:
        total = connection.exec_driver_sql("SELECT SUM(amount) FROM opportunities").scalar_one()
    assert total == 37_000 * 40 + 12_000 * 150 + 500_000 * 8 + 1_200_000
