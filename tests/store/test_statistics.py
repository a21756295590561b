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


def _analysed(engine: Engine) -> set[str]:
    """The tables analysed by an ``ANALYZE`` (autovacuum's analyses do not count)."""
    with engine.connect() as connection:
        return set(
            connection.scalars(
                text("SELECT relname FROM pg_stat_user_tables WHERE last_analyze IS NOT NULL")
            )
        )


@pytest.mark.parametrize(
    "database_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
def test_a_load_and_a_snapshot_leave_their_tables_analysed(engine: Engine) -> None:
    assert _analysed(engine) == set()  # a new store: nothing analysed yet
    tables = generate(DemoConfig(n_accounts=60, seed=3)).tables
    counts = replace_all(engine, tables)
    loaded = {name for name, rows in counts.items() if rows}
    assert loaded and loaded <= _analysed(engine)
    assert "account_scores" not in _analysed(engine)
    accounts = tables["accounts"]
    scores = pd.DataFrame(
        {"account_id": range(1, len(accounts) + 1), "ltv": 1000.0, "revenue_12m": 10.0}
    )
    write_snapshot(
        engine, as_of=dt.date(2026, 9, 30), created_at=dt.datetime(2026, 10, 1), scores=scores
    )
    assert "account_scores" in _analysed(engine)  # analysed after its rows came in


def test_an_embedded_store_has_no_statistics_to_refresh(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 't.db'}")
    assert refresh_statistics(engine, ["accounts"]) == []
    engine.dispose()
