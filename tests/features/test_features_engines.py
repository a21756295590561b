"""The same data gives the same feature table on DuckDB, PostgreSQL and Spark.

The data are a small demo company (every family has rows) and the handmade company, both
stored once per module; the feature table is built as of a date half a year before the
company's last day, with labels over the following 180 days. Amounts are compared after rounding
to cents (sums in a different order may differ in the last bits); counts exactly.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from tillage.demo import DemoConfig, generate
from tillage.errors import StoreError
from tillage.features.build import build_features
from tillage.features.engine import feature_backend, store_tables, typed_arrow

from .handmade import AS_OF as HANDMADE_AS_OF
from .handmade import tables as handmade_tables
from .same_frames import assert_same

AS_OF = dt.date(2026, 3, 31)
HORIZON = 180


@pytest.fixture(scope="module")
def demo_tables() -> dict[str, pd.DataFrame]:
    return generate(DemoConfig(n_accounts=120, seed=5)).tables


@pytest.fixture(scope="module")
def sqlite_url(store_factory, demo_tables) -> str:  # type: ignore[no-untyped-def]
    return store_factory("sqlite", demo_tables)


@pytest.fixture(scope="module")
def pg_url(store_factory, demo_tables) -> str:  # type: ignore[no-untyped-def]
    return store_factory("postgres", demo_tables)


@pytest.fixture(scope="module")
def duckdb_features(sqlite_url: str) -> pd.DataFrame:
    with feature_backend(sqlite_url, "duckdb") as con:
        return build_features(con, AS_OF, horizon_days=HORIZON)


def test_demo_company_has_data_in_every_family(duckdb_features: pd.DataFrame) -> None:
    f = duckdb_features
    for column in (
        "rfm_frequency",
        "revenue_365d",
        "mrr",
        "renewals",
        "open_pipeline",
        "activities_90d",
        "rep_concentration_180d",
        "open_tickets",
        "nps_latest",
        "usage_active_users_90d",
        "label_revenue",
    ):
        assert (f[column].fillna(0) > 0).any(), column
    assert f["label_churned"].notna().any()


@pytest.mark.postgres
def test_postgres_matches_duckdb(pg_url: str, duckdb_features: pd.DataFrame) -> None:
    with feature_backend(pg_url, "postgres") as con:
        features = build_features(con, AS_OF, horizon_days=HORIZON)
    assert_same(features, duckdb_features)


@pytest.mark.spark
def test_spark_matches_duckdb(spark, sqlite_url, duckdb_features) -> None:  # type: ignore[no-untyped-def]
    with feature_backend(sqlite_url, "spark", spark=spark) as con:
        features = build_features(con, AS_OF, horizon_days=HORIZON)
    assert_same(features, duckdb_features)


@pytest.mark.spark
def test_spark_matches_duckdb_on_the_handmade_company(spark, store_factory) -> None:  # type: ignore[no-untyped-def]
    url = store_factory("sqlite", handmade_tables())
    results = []
    for engine in ("duckdb", "spark"):
        with feature_backend(url, engine, spark=spark) as con:
            results.append(build_features(con, HANDMADE_AS_OF, period="day", horizon_days=365))
    assert_same(*results)


@pytest.mark.postgres
def test_duckdb_reading_a_postgres_store_matches(
    store_factory, demo_tables, duckdb_features
) -> None:  # type: ignore[no-untyped-def]
    url = store_factory("postgres", demo_tables)
    with feature_backend(url, "duckdb") as con:
        features = build_features(con, AS_OF, horizon_days=HORIZON)
    assert_same(features, duckdb_features)


@pytest.mark.postgres
def test_a_postgres_store_reads_as_the_sqlite_store(sqlite_url: str, pg_url: str) -> None:
    """The ADBC reader hands over the same columns, types and values as the SQLite reader."""
    with store_tables(sqlite_url) as lite, store_tables(pg_url) as pg:
        assert set(lite) == set(pg)
        for name, table in lite.items():
            left = typed_arrow(name, table).to_pandas()
            right = pg[name].to_pandas()
            assert list(left.dtypes) == list(right.dtypes), name
            assert len(left) == len(right), name
            keys = list(left.columns)
            left = left.sort_values(keys).reset_index(drop=True)
            right = right.sort_values(keys).reset_index(drop=True)
            pd.testing.assert_frame_equal(left, right, check_exact=False, rtol=1e-12, obj=name)


@pytest.mark.postgres
def test_an_unreachable_postgres_store_is_a_store_error(pg_url: str) -> None:
    missing = pg_url.rsplit("/", 1)[0] + "/tillage_no_such_database"
    expected = r"cannot read the PostgreSQL store.*tillage_no_such_database"
    with pytest.raises(StoreError, match=expected), store_tables(missing):
        pass
