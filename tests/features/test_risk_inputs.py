"""The organisational-risk inputs of the handmade company over two windows (DuckDB, PostgreSQL)."""

from __future__ import annotations

import pandas as pd
import pytest

from tillage.errors import DataValidationError
from tillage.features.engine import execute_arrow, feature_backend
from tillage.features.risk_inputs import risk_inputs, running_contracts

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


def _running(backend, as_of: str) -> dict[int, int]:  # type: ignore[no-untyped-def]
    expr = running_contracts(backend, pd.Timestamp(as_of).date())
    frame = execute_arrow(backend, expr).to_pandas().astype("int64")
    return dict(zip(frame["account_id"], frame["running_contracts"], strict=True))


def test_active_customers_and_the_contracts_they_hold(backend) -> None:  # type: ignore[no-untyped-def]
    # on AS_OF: account 1 holds c5 (to 2026-10-01) and ordered, account 2 holds c2 and c3;
    # account 3 has nothing
    assert risk_inputs(backend, AS_OF)["active"].tolist() == [True, True, False]
    assert _running(backend, "2026-09-30") == {1: 1, 2: 2}
    # c4 ends on 2025-10-01 and was renewed (c5 starts that day): both held by account 1
    assert _running(backend, "2025-10-01")[1] == 2
    # c5 ends on 2026-10-01 and churned: not held that day; account 1 stays active by its orders
    assert 1 not in _running(backend, "2026-10-01")
    assert risk_inputs(backend, "2026-10-01").loc[1, "active"]
    # after a year without an order or a contract, account 1 has churned
    assert not risk_inputs(backend, "2027-10-01").loc[1, "active"]
