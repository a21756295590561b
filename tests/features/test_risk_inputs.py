"""The organisational-risk inputs of the handmade company over two windows (DuckDB, PostgreSQL)."""

from __future__ import annotations

import pandas as pd
import pytest

from tillage.errors import DataValidationError
from tillage.features.engine import feature_backend
from tillage.features.risk_inputs import risk_inputs

from .handmade import AS_OF, tables


@pytest.fixture(
    scope="module", params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def backend(request: pytest.FixtureRequest, store_factory):  # type: ignore[no-untyped-def]
    store = "postgres" if request.param == "postgres" else "sqlite"
    with feature_backend(store_factory(store, tables()), request.param) as con:
        yield con


def test_last_30_days_one_rep_two_contacts(backend) -> None:  # type: ignore[no-untyped-def]
    # account 1 inside 30 days: a1 (rep 10, contact 1 in Sales) and a2 (rep 10, contact 2 in
    # IT); a7 at 23:59 on 2026-08-31 is just outside
    frame = risk_inputs(backend, AS_OF, window_days=30)
    one = frame.loc[1]
    assert (one.touches, one.rep_touches, one.reps_touching) == (2, 2, 1)
    assert (one.contacts_touched, one.departments_touched) == (2, 2)
    assert one.top_rep_share == 1.0 and one.rep_concentration == 1.0
    assert one.top_rep_id == 10
    assert frame.index.tolist() == [1, 2, 3]


def test_last_180_days_and_accounts_without_touches(backend) -> None:  # type: ignore[no-untyped-def]
    # account 1 over 180 days: a1, a2, a3 (rep 11), a4 (rep 10, no contact), a7 (no rep):
    # rep 10 has 3 of the 4 touches that name a rep
    frame = risk_inputs(backend, AS_OF, window_days=180)
    one = frame.loc[1]
    assert (one.touches, one.rep_touches, one.reps_touching, one.contacts_touched) == (5, 4, 2, 3)
    assert one.top_rep_share == pytest.approx(0.75)
    assert one.rep_concentration == pytest.approx(0.75**2 + 0.25**2)
    assert one.top_rep_id == 10
    # the silent-churn inputs are the feature table's: 2 tickets open 30+ days, NPS 7.5
    assert one.tickets_unresolved_30d == 2 and one.nps_latest == pytest.approx(7.5)
    assert one.revenue_365d == 2150.0 and one.revenue_prev_365d == 9999.0
    for account in (2, 3):  # account 2's only activity is from 2025; account 3 has none
        row = frame.loc[account]
        assert row.touches == 0 and row.reps_touching == 0
        assert pd.isna(row.top_rep_id) and pd.isna(row.top_rep_share)


def test_window_must_be_positive(backend) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(DataValidationError, match="window_days"):
        risk_inputs(backend, AS_OF, window_days=0)
