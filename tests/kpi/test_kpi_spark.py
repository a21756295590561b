"""The KPIs on Spark (local mode) equal DuckDB's, in-memory inputs (the LTV table) included."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from tillage.kpi import compute_kpis, kpi_backend, parse_period
from tillage.store.database import make_engine, migrate
from tillage.store.load import replace_all

from . import handmade
from .handmade import LTV, PERIOD

KEYS = ["ltv_to_cac", "nrr"]


@pytest.mark.spark
def test_spark_kpis_equal_duckdb_with_the_ltv_table(spark, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'store.db'}"
    engine = make_engine(url)
    migrate(engine)
    replace_all(engine, handmade.tables())
    engine.dispose()
    results = {}
    for kind in ("duckdb", "spark"):
        with kpi_backend(url, kind, spark=spark) as con:
            results[kind] = compute_kpis(con, parse_period(PERIOD), by=("all",), keys=KEYS, ltv=LTV)
    key = ["cut", "cut_value", "kpi"]
    duck, sparked = (results[k].sort_values(key).reset_index(drop=True) for k in results)
    pd.testing.assert_frame_equal(sparked, duck, check_dtype=False, rtol=1e-9)
    ltv_cac = duck[(duck.cut == "all") & (duck.kpi == "ltv_to_cac")]["value"]
    assert ltv_cac.tolist() == [4.0]  # the LTV table was read: 1,440,000 / 360,000
