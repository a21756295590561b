"""A feature table pinned on a backend reads like the feature query it materialises."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from tillage.features.build import build_features, features_expr, pinned_features
from tillage.features.engine import feature_backend

from .handmade import AS_OF, tables


@pytest.mark.parametrize("engine", ["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_pinned_features_read_the_same_rows(engine: str, store_factory) -> None:  # type: ignore[no-untyped-def]
    store = "postgres" if engine == "postgres" else "sqlite"
    with feature_backend(store_factory(store, tables()), engine) as con:

        def joins(as_of: dt.date) -> bool:
            return "JOIN" in str(con.compile(features_expr(con, as_of))).upper()

        plain = build_features(con, AS_OF)
        assert joins(AS_OF)
        with pinned_features(con, AS_OF):
            # the pinned date reads the materialised table; other dates and periods do not
            assert not joins(AS_OF) and joins(AS_OF - dt.timedelta(days=30))
            pinned = build_features(con, AS_OF)
            monthly = build_features(con, AS_OF, period="month")
        assert joins(AS_OF)
        after = build_features(con, AS_OF)
    pd.testing.assert_frame_equal(pinned, plain)
    pd.testing.assert_frame_equal(after, plain)
    assert not monthly["rfm_t"].equals(plain["rfm_t"])  # weeks there, months here
