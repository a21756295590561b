"""The learned effects' decisions counted on the feature engine
(tillage.strategy.effect_decisions) equal the pandas ones (tillage.strategy.effects)."""

from __future__ import annotations

import math

import pandas as pd
import pyarrow as pa
import pytest

from tillage.demo import DemoCompany, DemoConfig, generate
from tillage.features.engine import duckdb_backend
from tillage.strategy.config import Strategy
from tillage.strategy.effect_decisions import (
    CONTRACT_COLUMNS,
    engine_contracts,
    engine_decisions,
    engine_effects,
)
from tillage.strategy.effects import learned_effects, renewal_decisions

AS_OF = "2026-09-30"
ACTIVITY_COLUMNS = ["account_id", "occurred_at", "subject"]


@pytest.fixture(scope="module")
def company() -> DemoCompany:
    return generate(DemoConfig(n_accounts=500, n_reps=8, n_teams=2, orders_per_account=2))


def _backend(contracts: pd.DataFrame, activities: pd.DataFrame):  # type: ignore[no-untyped-def]
    return duckdb_backend(
        {
            "contracts": pa.Table.from_pandas(contracts[CONTRACT_COLUMNS], preserve_index=False),
            "activities": pa.Table.from_pandas(activities[ACTIVITY_COLUMNS], preserve_index=False),
        }
    )


def test_the_engine_counts_what_pandas_counts(company: DemoCompany) -> None:
    tables = company.tables
    as_of = pd.Timestamp(AS_OF).date()
    expected = renewal_decisions(tables["contracts"], tables["activities"], AS_OF, Strategy())
    con = _backend(tables["contracts"], tables["activities"])
    try:
        contracts = engine_contracts(con, as_of)
        got = engine_decisions(con, contracts, as_of, Strategy())
        effects = engine_effects(con, as_of, Strategy())
    finally:
        con.disconnect()
    assert len(expected) > 1000
    assert list(got.columns) == list(expected.columns)
    assert got["renewal_preparation"].sum() > 0 and got["x_engagement"].sum() > 0
    pd.testing.assert_frame_equal(got, expected, check_dtype=False, rtol=1e-12)
    assert effects == learned_effects(
        tables["contracts"], tables["activities"], AS_OF, Strategy(), level=0.95
    )


def test_the_window_and_the_untagged_subjects() -> None:
    """An action inside the window counts, one before it does not; an activity without a
    subject is engagement, and one after the decision counts for nothing."""
    contracts = pd.DataFrame(
        {
            "id": [1, 2],
            "account_id": [7, 7],
            "start_date": pd.to_datetime(["2025-01-01", "2026-01-01"]).date,
            "end_date": pd.to_datetime(["2026-01-01", "2027-01-01"]).date,
            "term_months": [12, 12],
            "recurring_amount": [100_000.0, 120_000.0],
            "status": ["renewed", "active"],
            "renewed_from_id": pd.array([None, 1], dtype="Int64"),
        }
    )
    activities = pd.DataFrame(
        {
            "account_id": [7, 7, 7, 7],
            "occurred_at": pd.to_datetime(
                ["2025-12-20 00:00", "2025-06-01 00:00", "2025-11-01 10:00", "2026-02-01 00:00"]
            ),
            "subject": ["renewal preparation", "health check", None, "renewal preparation"],
        }
    )
    con = _backend(contracts, activities)
    try:
        got = engine_decisions(
            con, engine_contracts(con, pd.Timestamp(AS_OF).date()), AS_OF, Strategy()
        )
    finally:
        con.disconnect()
    expected = renewal_decisions(contracts, activities, AS_OF, Strategy())
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)
    row = got.iloc[0]
    assert row["renewal_preparation"] == 1 and row["health_check"] == 0
    assert row["x_engagement"] == pytest.approx(math.log1p(1.0))  # the one without a subject
