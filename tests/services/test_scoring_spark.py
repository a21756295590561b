"""The scoring run with its feature queries on Spark (local mode) writes the snapshot the
embedded engine writes: the same accounts, cells, zones, deals and actions, and the same
figures up to the last bits of sums taken in another order."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import Engine, text

from tillage.features.engine import spark_builder
from tillage.services.scoring import run_scoring
from tillage.store.database import make_engine

from ..scored_demo import CREATED, load_demo

TABLES = {
    "account_scores": "account_id",
    "snapshot_deals": "opportunity_id",
    "snapshot_actions": "account_id, action",
}


def _rows(engine: Engine, table: str, order: str) -> pd.DataFrame:
    with engine.connect() as connection:
        frame = pd.read_sql(text(f"SELECT * FROM {table} ORDER BY {order}"), connection)
    return frame.drop(columns=[c for c in ("id", "snapshot_id") if c in frame.columns])


def _same(left: object, right: object) -> bool:
    """Equal, floats to 1e-9 relative (also inside the JSON of reasons and records)."""
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(_same(left[k], right[k]) for k in left)
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(map(_same, left, right))
    if isinstance(left, float) and isinstance(right, float):
        return bool(np.isclose(left, right, rtol=1e-9, atol=1e-9, equal_nan=True))
    return left == right


@pytest.mark.spark
@pytest.mark.slow
@pytest.mark.timeout(2400)  # about 40 Spark queries, each a few seconds of planning on 2 cores
def test_spark_scores_the_demo_as_duckdb_does(spark, tmp_path) -> None:  # type: ignore[no-untyped-def]
    company, engine, _ = load_demo(tmp_path / "duckdb.db", 100, 7, 5)
    engine.dispose()
    shutil.copy(tmp_path / "duckdb.db", tmp_path / "spark.db")
    stores = {}
    for kind in ("duckdb", "spark"):
        stores[kind] = make_engine(f"sqlite:///{tmp_path / f'{kind}.db'}")
        run_scoring(stores[kind], company.config.as_of, created_at=CREATED, feature_engine=kind)
    for table, order in TABLES.items():
        embedded, spark_rows = (_rows(stores[k], table, order) for k in ("duckdb", "spark"))
        assert len(embedded) > 0, table
        assert list(embedded.columns) == list(spark_rows.columns)
        assert len(embedded) == len(spark_rows), table
        for column in embedded.columns:
            a, b = embedded[column].tolist(), spark_rows[column].tolist()
            if column in {"reasons", "signals"} or embedded[column].dtype == object:
                a = [json.loads(x) if isinstance(x, str) and x[:1] in "[{" else x for x in a]
                b = [json.loads(x) if isinstance(x, str) and x[:1] in "[{" else x for x in b]
            assert _same(a, b), f"{table}.{column}"
    records = []
    for kind in ("duckdb", "spark"):
        with stores[kind].connect() as connection:
            records.append(json.loads(connection.scalar(text("SELECT models FROM snapshots"))))
        stores[kind].dispose()
    assert _same(*records)


def test_a_spark_connect_url_points_the_session_at_a_cluster(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """``SPARK_REMOTE`` (or ``remote=``) builds a Spark Connect session with the SQL settings
    only; without it the session is local. Nothing is started here."""

    class Builder:
        def __init__(self) -> None:
            self.options: dict[str, str] = {}

        def remote(self, url: str) -> Builder:
            self.options["spark.remote"] = url
            return self

        def master(self, url: str) -> Builder:
            self.options["spark.master"] = url
            return self

        def appName(self, name: str) -> Builder:
            return self

        def config(self, key: str, value: str) -> Builder:
            self.options[key] = value
            return self

    monkeypatch.delenv("SPARK_REMOTE", raising=False)
    local = spark_builder(Builder()).options
    assert local["spark.master"] == "local[2]" and "spark.remote" not in local
    assert local["spark.driver.memory"] == "3g"
    monkeypatch.setenv("SPARK_REMOTE", "sc://spark.example.com:15002")
    remote = spark_builder(Builder(), {"spark.sql.shuffle.partitions": "64"}).options
    assert remote["spark.remote"] == "sc://spark.example.com:15002"
    assert "spark.master" not in remote and "spark.driver.memory" not in remote
    assert remote["spark.sql.shuffle.partitions"] == "64"
    assert spark_builder(Builder(), remote="sc://other:15002").options["spark.remote"] == (
        "sc://other:15002"
    )
