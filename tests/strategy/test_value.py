"""Account values as of a date: who existed then, and how often lost customers came back."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pyarrow as pa

from tillage.features.engine import VALUE_COLUMNS, duckdb_backend
from tillage.strategy.value import existing_accounts, return_counts


def _backend(tables: dict[str, pd.DataFrame]):  # type: ignore[no-untyped-def]
    arrow = {}
    for name, columns in VALUE_COLUMNS.items():
        frame = tables.get(name, pd.DataFrame(columns=list(columns))).copy()
        for column in columns:
            if column not in frame.columns:
                frame[column] = None
        arrow[name] = pa.Table.from_pandas(frame[list(columns)], preserve_index=False)
    return duckdb_backend(arrow)


def _contract(cid: int, account: int, start: str, end: str, status: str) -> dict[str, object]:
    return {
        "id": cid,
        "account_id": account,
        "start_date": dt.date.fromisoformat(start),
        "end_date": dt.date.fromisoformat(end),
        "term_months": 12,
        "recurring_amount": 100.0,
        "status": status,
    }


def test_accounts_first_seen_after_the_date_do_not_exist_then() -> None:
    con = _backend(
        {
            "accounts": pd.DataFrame(
                {
                    "id": [1, 2, 3, 4, 5],
                    "customer_since": [dt.date(2024, 1, 1), None, None, None, None],
                }
            ),
            "orders": pd.DataFrame(
                {
                    "account_id": [2, 3],
                    "order_number": ["a", "b"],
                    "order_date": [dt.date(2024, 5, 1), dt.date(2025, 2, 1)],
                    "amount": [10.0, 10.0],
                }
            ),
            "opportunities": pd.DataFrame(
                {"account_id": [4], "created_date": [dt.date(2025, 3, 1)]}
            ),
        }
    )
    seen = set(existing_accounts(con, dt.date(2024, 12, 31)))
    # 1: customer since 2024; 2: ordered in 2024; 5: a bare record without any date
    assert seen == {1, 2, 5}
    assert set(existing_accounts(con, dt.date(2025, 3, 1))) == {1, 2, 3, 4, 5}


def test_return_counts_lost_customers_who_came_back_within_a_year() -> None:
    contracts = [
        _contract(1, 1, "2021-01-01", "2022-01-01", "churned"),  # lost, came back in 2022
        _contract(2, 1, "2022-06-01", "2025-06-01", "active"),
        _contract(3, 2, "2021-01-01", "2022-01-01", "expired"),  # lost, never back
        _contract(4, 3, "2021-01-01", "2022-01-01", "renewed"),  # renewed: not lost
        _contract(5, 3, "2022-01-01", "2025-01-01", "active"),
        _contract(6, 4, "2021-01-01", "2022-01-01", "churned"),  # a buyer before: not lost
        _contract(7, 5, "2024-01-01", "2024-06-01", "expired"),  # ended too recently
    ]
    orders = pd.DataFrame(
        {
            "account_id": [4],
            "order_number": ["x"],
            "order_date": [dt.date(2021, 6, 1)],
            "amount": [5.0],
        }
    )
    con = _backend({"contracts": pd.DataFrame(contracts), "orders": orders})
    assert return_counts(con, dt.date(2024, 6, 30)) == (1, 2)
