"""A feature table computed once for a run reads like the feature query it materialises, and
only where it is passed."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from tillage.features.build import build_features, features_expr, materialised_features
from tillage.features.engine import feature_backend

from .handmade import AS_OF, tables


@pytest.mark.parametrize("engine", ["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_materialised_features_read_the_same_rows(engine: str, store_factory) -> None:  # type: ignore[no-untyped-def]
    store = "postgres" if engine == "postgres" else "sqlite"
    with feature_backend(store_factory(store, tables()), engine) as con:

        def joins(as_of: dt.date, **kwargs: object) -> bool:
            expr = features_expr(con, as_of, **kwargs)  # type: ignore[arg-type]
            return "JOIN" in str(con.compile(expr)).upper()

        plain = build_features(con, AS_OF)
        with materialised_features(con, [AS_OF, AS_OF]) as computed:
            assert list(computed) == [AS_OF]  # one table per date
            # the date passed reads the materialised table; other dates, periods, labels and
            # calls without the tables run the feature query
            assert not joins(AS_OF, tables=computed)
            assert joins(AS_OF - dt.timedelta(days=30), tables=computed)
            assert joins(AS_OF, period="month", tables=computed)
            assert joins(AS_OF, horizon_days=90, tables=computed)
            assert joins(AS_OF)
            passed = build_features(con, AS_OF, tables=computed)
            monthly = build_features(con, AS_OF, period="month", tables=computed)
        after = build_features(con, AS_OF)
    pd.testing.assert_frame_equal(passed, plain)
    pd.testing.assert_frame_equal(after, plain)
    assert not monthly["rfm_t"].equals(plain["rfm_t"])  # weeks there, months here
