"""A PostgreSQL store's planner statistics are refreshed before the feature queries run in it."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import inspect, text

from tillage.features._postgres import refresh_statistics
from tillage.features.engine import feature_backend
from tillage.store.database import make_engine, migrate
from tillage.store.load import replace_all

from .handmade import tables as handmade_tables


def _analysed(con, table: str) -> int:  # type: ignore[no-untyped-def]
    cursor = con.raw_sql(f"SELECT count(*) FROM pg_stats WHERE tablename = '{table}'")
    count = int(cursor.fetchone()[0])
    cursor.close()
    return count


@pytest.mark.postgres
def test_a_freshly_loaded_store_is_analysed_once(pg_database_url: str) -> None:
    engine = make_engine(pg_database_url)
    migrate(engine)
    with engine.begin() as connection:  # no autovacuum: the load alone leaves no statistics
        for name in inspect(engine).get_table_names():
            connection.execute(text(f'ALTER TABLE "{name}" SET (autovacuum_enabled = false)'))
    replace_all(engine, handmade_tables())
    engine.dispose()
    with feature_backend(pg_database_url, "postgres") as con:
        assert _analysed(con, "contracts") > 0 and _analysed(con, "activities") > 0
        assert refresh_statistics(con, ["contracts", "activities"]) == []  # fresh: left alone
        con.raw_sql("UPDATE activities SET subject = subject").close()
        con.con.commit()
        # the changed rows reach the statistics views once the session reports them (<= 1 s)
        deadline, done = time.monotonic() + 30.0, []
        while not done and time.monotonic() < deadline:
            time.sleep(0.2)
            done = refresh_statistics(con, ["contracts", "activities"])
        assert done == ["activities"]
