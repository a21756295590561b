"""A feature query compiled once (DatedQuery) gives each date the SQL and the rows of the query
built on that date, on every engine."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import ibis.expr.operations as ops
import pandas as pd
import pytest
from ibis.backends import BaseBackend

from tillage.features._common import AsOf, AsOfParameter
from tillage.features.build import features_expr, materialised_features
from tillage.features.dated import DatedQuery, forget_compiled
from tillage.features.deals import deal_features, deal_features_expr, deal_history
from tillage.features.engine import execute_arrow, feature_backend, postgres_doubles

from ..compiles import Compiles
from .handmade import AS_OF, tables
from .same_frames import assert_same

DATES = [AS_OF, AS_OF - dt.timedelta(days=45), AS_OF - dt.timedelta(days=400)]

BUILDS: dict[str, Callable[[BaseBackend, AsOf], object]] = {
    "features": lambda con, as_of: features_expr(con, as_of),
    "monthly with labels": lambda con, as_of: features_expr(
        con, as_of, period="month", horizon_days=120
    ),
    "deals": lambda con, as_of: deal_features_expr(con, as_of),
}


@pytest.mark.parametrize("engine", ["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_each_date_gets_the_sql_of_its_own_query(engine: str, store_factory) -> None:  # type: ignore[no-untyped-def]
    store = "postgres" if engine == "postgres" else "sqlite"
    with feature_backend(store_factory(store, tables()), engine) as con:
        for name, build in BUILDS.items():
            query = DatedQuery(con, lambda as_of, build=build: build(con, as_of))  # type: ignore[misc]
            for day in DATES:
                expr = build(con, day)
                if engine == "postgres":
                    expr = postgres_doubles(expr)  # type: ignore[arg-type]
                assert query.sql(day) == str(con.compile(expr)), f"{name} as of {day}"
            # and the dates differ where they should: the stand-ins are really replaced
            assert query.sql(DATES[0]) != query.sql(DATES[1])


@pytest.mark.parametrize("engine", ["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_each_date_gets_the_rows_of_its_own_query(engine: str, store_factory) -> None:  # type: ignore[no-untyped-def]
    store = "postgres" if engine == "postgres" else "sqlite"
    with feature_backend(store_factory(store, tables()), engine) as con:
        _same_rows(con)


@pytest.mark.spark
def test_each_date_gets_the_rows_of_its_own_query_on_spark(spark, store_factory) -> None:  # type: ignore[no-untyped-def]
    # each Spark query is seconds of planning: the query compiled once runs on Spark for two
    # dates, and each date's rows are those of the query built on that date, run on DuckDB
    # (Spark's features equal DuckDB's: test_features_engines); the scoring run's Spark test
    # covers the deal history and the expansion frames end to end
    url = store_factory("sqlite", tables())
    with feature_backend(url, "duckdb") as con:
        expected = [
            execute_arrow(con, features_expr(con, day, horizon_days=90)).to_pandas()
            for day in DATES[:2]
        ]
    with feature_backend(url, "spark", spark=spark) as con:
        query = DatedQuery(con, lambda as_of: features_expr(con, as_of, horizon_days=90))
        got = [query.to_arrow(day).to_pandas() for day in DATES[:2]]
    assert not got[0].equals(got[1])  # the two dates' rows differ: the parameters were bound
    for day, mine, theirs in zip(DATES[:2], got, expected, strict=True):
        assert len(mine) > 0, day
        assert_same(*(f.sort_values("account_id", ignore_index=True) for f in (mine, theirs)))


def _same_rows(con: BaseBackend) -> None:
    query = DatedQuery(con, lambda as_of: features_expr(con, as_of, horizon_days=90))
    for day in DATES:
        expected = execute_arrow(con, features_expr(con, day, horizon_days=90)).to_pandas()
        got = query.to_arrow(day).to_pandas()
        assert len(got) > 0
        pd.testing.assert_frame_equal(got, expected)
    stacked = deal_history(con, DATES)
    one_by_one = pd.concat([deal_features(con, d) for d in DATES], ignore_index=True)
    assert len(stacked) > 0
    pd.testing.assert_frame_equal(stacked, one_by_one)


def test_a_shifted_parameter_shares_the_parameters_of_its_day() -> None:
    as_of = AsOfParameter()
    year_before = as_of - dt.timedelta(days=365)
    assert (as_of + dt.timedelta(days=0)).param("date") is as_of.param("date")
    assert year_before.param("date") is not as_of.param("date")
    end = as_of.param("end")
    values = as_of.bind(dt.date(2026, 3, 31))
    assert values[year_before.param("date")] == dt.date(2025, 3, 31)
    assert values[end] == dt.datetime(2026, 4, 1)  # the midnight that ends the day
    assert len(set(as_of.sentinels().values())) == 3


def test_a_recipe_compiles_once_per_process_and_reads_each_stores_rows(store_factory) -> None:  # type: ignore[no-untyped-def]
    def build(con: BaseBackend) -> Callable[[AsOf], object]:
        return lambda as_of: features_expr(con, as_of, horizon_days=90)

    recipe = ("test features", 90)
    other = tables()
    other["orders"] = other["orders"].assign(amount=other["orders"]["amount"] * 3)
    forget_compiled()
    try:
        with feature_backend(store_factory("sqlite", tables()), "duckdb") as con:
            first = DatedQuery(con, build(con), recipe=recipe).to_arrow(AS_OF).to_pandas()
        with feature_backend(store_factory("sqlite", other), "duckdb") as con:
            compiles = Compiles(con)
            query = DatedQuery(con, build(con), recipe=recipe)
            assert len(compiles.sql) == 0  # the kept SQL (the literals of its dates aside)
            assert not query.expr.op().find(ops.DatabaseTable)  # no backend kept with it
            kept = query.to_arrow(AS_OF).to_pandas()
            expected = execute_arrow(con, features_expr(con, AS_OF, horizon_days=90))
            pd.testing.assert_frame_equal(kept, expected.to_pandas())
            assert not kept.equals(first)  # the other store's orders, not the first one's

            con.raw_sql("ALTER TABLE orders ADD COLUMN note VARCHAR")  # another schema
            compiles.sql.clear()
            DatedQuery(con, build(con), recipe=recipe)
            assert len(compiles.sql) > 0
    finally:
        forget_compiled()


def test_a_held_dates_query_is_compiled_once_and_reads_its_own_feature_table(store_factory) -> None:  # type: ignore[no-untyped-def]
    other = tables()
    other["orders"] = other["orders"].assign(amount=other["orders"]["amount"] * 3)
    with (
        feature_backend(store_factory("sqlite", tables()), "duckdb") as con,
        materialised_features(con, [AS_OF]) as held,
    ):
        first = deal_history(con, [AS_OF], features=held)
    with feature_backend(store_factory("sqlite", other), "duckdb") as con:
        with materialised_features(con, [AS_OF]) as held:
            compiles = Compiles(con)
            again = deal_history(con, [AS_OF], features=held)
            assert len(compiles.sql) == 0  # the kept SQL, this run's feature table named in it
        recomputed = deal_history(con, [AS_OF])  # the account features computed in the query
    assert len(again) > 0
    pd.testing.assert_frame_equal(again, recomputed)
    assert not again.equals(first)  # the other store's orders
