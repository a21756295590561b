"""`tillage features`: the feature table of a store exported to Parquet."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from tillage.cli.main import app
from tillage.demo import DemoConfig, generate
from tillage.errors import ConfigurationError
from tillage.store.database import make_engine, migrate
from tillage.store.load import replace_all


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('cli') / 'store.db'}"
    engine = make_engine(url)
    migrate(engine)
    replace_all(engine, generate(DemoConfig(n_accounts=60, seed=11)).tables)
    engine.dispose()
    return url


def test_exports_one_row_per_account(store: str, tmp_path: Path) -> None:
    out = tmp_path / "features.parquet"
    args = ["features", "--database-url", store, "--as-of", "2026-03-31", "--out", str(out)]
    result = CliRunner().invoke(
        app, ["--lang", "en", *args, "--period", "month", "--horizon", "90"]
    )
    assert result.exit_code == 0, result.output
    assert "60 accounts × " in result.output
    assert "2026-03-31" in result.output
    table = pq.read_table(out)
    assert table.num_rows == 60
    assert {"rfm_t", "mrr", "label_churned"} <= set(table.column_names)
    assert table.schema.metadata[b"tillage.as_of"] == b"2026-03-31"
    assert table.schema.metadata[b"tillage.period"] == b"month"
    japanese = CliRunner().invoke(app, ["--lang", "ja", *args])
    assert japanese.exit_code == 0, japanese.output
    assert "2026-03-31 時点の 60 社 × " in japanese.output


def test_refuses_bad_options(store: str, tmp_path: Path) -> None:
    out = str(tmp_path / "f.parquet")
    base = ["features", "--database-url", store, "--out", out]
    assert CliRunner().invoke(app, [*base, "--as-of", "30/09/2026"]).exit_code == 2
    assert CliRunner().invoke(app, [*base, "--as-of", "2026-09-30", "--engine", "x"]).exit_code == 2
    result = CliRunner().invoke(app, [*base, "--as-of", "2026-09-30", "--engine", "postgres"])
    assert isinstance(result.exception, ConfigurationError)
    assert "PostgreSQL" in str(result.exception)
