"""Opportunity-level features as of a date: only deals open then, nothing from later."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pyarrow as pa
import pytest

from tillage.demo import DemoConfig, generate
from tillage.features.build import materialised_features
from tillage.features.deals import (
    deal_features,
    deal_history,
    expansion_frame,
    expansion_frames,
    purchases,
)
from tillage.features.engine import STORE_COLUMNS, duckdb_backend, typed_arrow

AS_OF = dt.date(2025, 12, 31)


@pytest.fixture(scope="module")
def company():  # type: ignore[no-untyped-def]
    return generate(DemoConfig(n_accounts=150, seed=3))


@pytest.fixture(scope="module")
def con(company):  # type: ignore[no-untyped-def]
    tables = {
        name: typed_arrow(name, pa.Table.from_pandas(company.tables[name][list(cols)]))
        for name, cols in STORE_COLUMNS.items()
    }
    backend = duckdb_backend(tables)
    yield backend
    backend.disconnect()


def test_only_deals_open_on_the_date(con, company) -> None:  # type: ignore[no-untyped-def]
    frame = deal_features(con, AS_OF)
    opps = company.tables["opportunities"].set_index("id")
    rows = opps.loc[frame["opportunity_id"]]
    assert (rows["created_date"] <= pd.Timestamp(AS_OF)).all()
    assert (rows["close_date"] > pd.Timestamp(AS_OF)).all()
    open_then = opps[
        (opps["created_date"] <= pd.Timestamp(AS_OF)) & (opps["close_date"] > pd.Timestamp(AS_OF))
    ]
    assert set(frame["opportunity_id"]) == set(open_then.index)
    assert frame["stage_as_of"].between(1, 4).all()
    assert (frame["age_days"] >= 0).all()
    # outcomes come from the store, the CRM probability only for deals still open there
    assert (frame["label_won"] == rows["is_won"].astype(float).to_numpy()).all()
    assert frame.loc[frame["label_closed"] == 1, "crm_probability"].isna().all()


def test_stage_is_derived_from_age_and_the_typical_cycle(con) -> None:  # type: ignore[no-untyped-def]
    frame = deal_features(con, AS_OF)
    expected = (frame["age_days"] / frame["cycle_days"] * 4).clip(0, 3).astype(int) + 1
    assert (frame["stage_as_of"] == expected).all()


def test_expansion_labels_read_only_the_horizon(con, company) -> None:  # type: ignore[no-untyped-def]
    frame = expansion_frame(con, AS_OF, horizon_days=180)
    opps = company.tables["opportunities"]
    won = opps[
        opps["type"].isin(["upsell", "cross_sell"])
        & opps["is_won"]
        & (opps["close_date"] > pd.Timestamp(AS_OF))
        & (opps["close_date"] <= pd.Timestamp(AS_OF + dt.timedelta(days=180)))
    ]
    expected = won.groupby("account_id")["amount"].sum()
    got = frame.loc[frame["label_expansion"] == 1, "label_expansion_amount"]
    pd.testing.assert_series_equal(
        got.sort_index(), expected.sort_index(), check_names=False, check_index_type=False
    )


def test_purchases_are_dated_on_or_before(con) -> None:  # type: ignore[no-untyped-def]
    frame = purchases(con, AS_OF)
    assert (frame["first_bought"] <= pd.Timestamp(AS_OF)).all()
    assert not frame.duplicated(["account_id", "product_id"]).any()


def test_the_dates_of_features_already_computed_read_them(con, company) -> None:  # type: ignore[no-untyped-def]
    """The deal history and the expansion frames on dates whose account features a run has
    computed (materialised) equal those that compute them."""
    as_of = company.config.as_of
    earlier = as_of - dt.timedelta(days=91)
    dates = [earlier, as_of]
    computed = deal_history(con, dates)
    frames = expansion_frames(con, dates, horizon_days=90)
    with materialised_features(con, [as_of]) as features:
        held_history = deal_history(con, dates, features=features)
        held_frames = expansion_frames(con, dates, horizon_days=90, features=features)
    assert computed["as_of"].nunique() == 2
    pd.testing.assert_frame_equal(held_history, computed)
    for held, frame in zip(held_frames, frames, strict=True):
        pd.testing.assert_frame_equal(held, frame)
