"""The first account summary against hand-computed values, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from sqlalchemy import Engine

from tillage.features.account_summary import DAYS_PER_MONTH, account_summary
from tillage.features.engine import feature_backend
from tillage.store.bulk import insert_frame

AS_OF = dt.date(2026, 9, 30)


def _load(engine: Engine) -> None:
    with engine.begin() as c:
        insert_frame(
            c,
            "accounts",
            pd.DataFrame(
                {
                    "id": [1, 2, 3],
                    "key": ["A1", "A2", "A3"],
                    "name": ["One", "Two", "Three"],
                    "customer_since": pd.to_datetime(["2024-09-30", "2026-09-01", None]),
                }
            ),
        )
        insert_frame(
            c,
            "orders",
            pd.DataFrame(
                {
                    "id": [1, 2, 3, 4, 5],
                    "key": ["o1", "o2", "o3", "o4", "o5"],
                    "order_number": ["S1", "S1", "S2", "S3", "S4"],
                    "account_id": [1, 1, 1, 1, 2],
                    # S3 is before the window (2025-09-30 is excluded); S4 is after as_of.
                    "order_date": pd.to_datetime(
                        ["2026-01-10", "2026-01-10", "2026-09-30", "2025-09-30", "2026-10-01"]
                    ),
                    "amount": [1000.0, 500.0, 250.0, 9999.0, 7777.0],
                }
            ),
        )
        insert_frame(
            c,
            "contracts",
            pd.DataFrame(
                {
                    "id": [1, 2],
                    "key": ["c1", "c2"],
                    "account_id": [2, 2],
                    # c1 ended inside the window; c2 is active on as_of.
                    "start_date": pd.to_datetime(["2025-06-30", "2026-06-30"]),
                    "end_date": pd.to_datetime(["2026-06-30", "2027-06-30"]),
                    "term_months": [12, 12],
                    "recurring_amount": [100_000.0, 120_000.0],
                    "status": ["renewed", "active"],
                }
            ),
        )


def _backend(engine: Engine):  # type: ignore[no-untyped-def]
    url = engine.url.render_as_string(hide_password=False)
    return feature_backend(url, "postgres" if engine.dialect.name == "postgresql" else "duckdb")


def test_hand_computed_summary(engine: Engine) -> None:
    _load(engine)
    with _backend(engine) as con:
        frame = account_summary(con, AS_OF).set_index("account_id")

    one, two, three = frame.loc[1], frame.loc[2], frame.loc[3]
    assert one.order_revenue_12m == pytest.approx(1750.0)
    assert one.orders_12m == 2
    assert one.contract_revenue_12m == 0.0 and one.mrr == 0.0
    assert one.tenure_months == pytest.approx(730 / DAYS_PER_MONTH)

    # c1 overlaps (2025-09-30, 2026-06-30]: 273 days; c2 overlaps 92 days.
    expected = 100_000 * 273 / DAYS_PER_MONTH + 120_000 * 92 / DAYS_PER_MONTH
    assert two.contract_revenue_12m == pytest.approx(expected)
    assert two.order_revenue_12m == 0.0  # its only order is after as_of
    assert two.mrr == pytest.approx(120_000.0)
    assert two.revenue_12m == pytest.approx(expected)

    assert three.revenue_12m == 0.0 and three.tenure_months == 0.0


def test_summary_ignores_everything_after_as_of(engine: Engine) -> None:
    _load(engine)
    with _backend(engine) as con:
        early = account_summary(con, dt.date(2026, 1, 9)).set_index("account_id")
    # Only S3 (2025-09-30) is inside (2025-01-09, 2026-01-09]; the January orders are a day later.
    assert early.loc[1].order_revenue_12m == pytest.approx(9999.0)
    assert early.loc[1].orders_12m == 1
    assert early.loc[2].mrr == pytest.approx(100_000.0)
