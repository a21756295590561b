"""The scoring run on PostgreSQL writes the snapshot the run on SQLite writes.

The same small demo company is loaded into a SQLite store and into a PostgreSQL store and scored
as of the demo's date, both with the default feature engine (DuckDB, the PostgreSQL store's
columns read with the ADBC driver, where NUMERIC amounts come back as text unless the reader
casts them; the in-database engine's features are compared in
tests/features/test_features_engines.py). Every account's scores, the deals, the plans and the
models' record must be equal to 1e-9 relative: a store gives the same numbers wherever it
lives. (They were 0.005 apart — 100 % of an LTV under a cent, 0.4 % of one of a yen — while
PostgreSQL rounded the amounts to cents on the way in and SQLite kept the floats as computed.)
Slow: two scoring runs.
"""

from __future__ import annotations

import pytest

from tillage.services.scoring import run_scoring
from tillage.store.database import make_engine, migrate
from tillage.store.load import replace_all
from tillage.store.records import AccountScore

from ..scored_demo import CREATED, load_demo
from .same_snapshot import assert_same_snapshots, snapshot_rows

pytestmark = [pytest.mark.slow, pytest.mark.postgres]


def test_postgres_scores_like_sqlite(tmp_path, pg_database_url: str) -> None:  # type: ignore[no-untyped-def]
    company, lite, _url = load_demo(tmp_path / "t.db", 100, 7, 5)
    as_of = company.config.as_of
    pg = make_engine(pg_database_url)
    try:
        migrate(pg)
        replace_all(pg, company.tables)
        for engine in (lite, pg):
            run_scoring(engine, as_of, created_at=CREATED)
        assert_same_snapshots(lite, pg)
        scores = snapshot_rows(lite, AccountScore, ("account_id",))
    finally:
        pg.dispose()
        lite.dispose()
    assert len(scores) == len(company.tables["accounts"])
    assert len({round(r["ltv"], 2) for r in scores}) > 10  # the values vary
