"""The scoring run with its feature queries on Spark (local mode) writes the snapshot the
embedded engine writes: the same accounts, cells, zones, deals and actions, and the same
figures up to the last bits of sums taken in another order."""

from __future__ import annotations

import shutil

import pytest

from tillage.features.engine import spark_builder
from tillage.services.scoring import run_scoring
from tillage.store.database import make_engine

from ..scored_demo import CREATED, load_demo
from .same_snapshot import assert_same_snapshots


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
    try:
        assert_same_snapshots(stores["duckdb"], stores["spark"])
    finally:
        for engine in stores.values():
            engine.dispose()


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
    # local mode: one shuffle partition per core, no adaptive re-planning, no generated code
    assert local["spark.sql.shuffle.partitions"] == "2"
    assert local["spark.sql.adaptive.enabled"] == "false"
    assert local["spark.sql.codegen.wholeStage"] == "false"
    assert local["spark.sql.codegen.factoryMode"] == "NO_CODEGEN"
    monkeypatch.setenv("SPARK_REMOTE", "sc://spark.example.com:15002")
    remote = spark_builder(Builder(), {"spark.sql.shuffle.partitions": "64"}).options
    assert remote["spark.remote"] == "sc://spark.example.com:15002"
    assert "spark.master" not in remote and "spark.driver.memory" not in remote
    assert "spark.sql.adaptive.enabled" not in remote  # a cluster keeps its own planning
    assert "spark.sql.codegen.factoryMode" not in remote
    assert remote["spark.sql.shuffle.partitions"] == "64"
    assert spark_builder(Builder(), remote="sc://other:15002").options["spark.remote"] == (
        "sc://other:15002"
    )
