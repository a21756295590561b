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
    assert "10 rows read, 13 inserted, 0 updated" in result.output
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
