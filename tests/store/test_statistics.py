"""After a load or a snapshot is written, PostgreSQL plans the next queries with the new rows
counted: the writer analyses the tables it changed (autovacuum may be off, as it is here)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import Engine, text

from tillage.demo import DemoConfig, generate
from tillage.store.database import make_engine
from tillage.store.load import replace_all
from tillage.store.snapshots import write_snapshot
from tillage.store.statistics import refresh_statistics


def _analysed(engine: Engine) -> dict[str, int]:
    """Rows changed since each table's last analysis (-1: never analysed)."""
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT relname, CASE WHEN last_analyze IS NULL AND last_autoanalyze IS NULL "
                "THEN -1 ELSE n_mod_since_analyze END FROM pg_stat_user_tables"
            )
        ).all()
    return dict(rows)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "database_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
def test_a_load_and_a_snapshot_leave_their_tables_analysed(engine: Engine) -> None:
    tables = generate(DemoConfig(n_accounts=60, seed=3)).tables
    counts = replace_all(engine, tables)
    after_load = _analysed(engine)
    assert all(after_load[name] == 0 for name in counts if counts[name]), after_load
    accounts = tables["accounts"]
    scores = pd.DataFrame(
        {"account_id": range(1, len(accounts) + 1), "ltv": 1000.0, "revenue_12m": 10.0}
    )
    write_snapshot(
        engine, as_of=dt.date(2026, 9, 30), created_at=dt.datetime(2026, 10, 1), scores=scores
    )
    assert _analysed(engine)["account_scores"] == 0  # analysed after its rows came in
    # fresh statistics are left alone; an embedded store has none to refresh
    assert refresh_statistics(engine, ["account_scores", "accounts"]) == []


def test_an_embedded_store_has_no_statistics_to_refresh(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 't.db'}")
    assert refresh_statistics(engine, ["accounts"]) == []
    engine.dispose()
