"""A small hand-written company for the feature tests, as of 2026-09-30.

Account 1 buys, holds a contract that shrank at renewal, has deals, activities, tickets and NPS
answers; account 2 holds two contracts (one an expansion), a single old activity, one NPS answer
and usage; account 3 has nothing. Rows dated after ``AS_OF`` are there to prove they are ignored
(and to feed the labels). The expected values are in ``test_features_handmade.py``.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

AS_OF = dt.date(2026, 9, 30)


def _dates(values: list[str | None]) -> pd.Series:
    return pd.Series(pd.to_datetime(values))


def tables() -> dict[str, pd.DataFrame]:
    """Canonical frames (only the columns the store requires and the features read)."""
    return {
        "reps": pd.DataFrame({"id": [10, 11], "key": ["R10", "R11"], "name": ["Ito", "Sato"]}),
        "accounts": pd.DataFrame(
            {
                "id": [1, 2, 3],
                "key": ["A1", "A2", "A3"],
                "name": ["One", "Two", "Three"],
                "customer_since": _dates(["2024-09-30", "2025-06-30", None]),
            }
        ),
        "contacts": pd.DataFrame(
            {
                "id": [1, 2, 3],
                "key": ["k1", "k2", "k3"],
                "account_id": [1, 1, 1],
                "name": ["Kato", "Abe", "Mori"],
                "department": ["Sales", "IT", "IT"],
            }
        ),
        "contracts": pd.DataFrame(
            {
                "id": [1, 2, 3, 4, 5, 6],
                "key": ["c1", "c2", "c3", "c4", "c5", "c6"],
                "account_id": [2, 2, 2, 1, 1, 2],
                "start_date": _dates(
                    [
                        "2025-06-30",
                        "2026-06-30",
                        "2026-08-01",
                        "2024-10-01",
                        "2025-10-01",
                        "2027-06-30",
                    ]
                ),
                "end_date": _dates(
                    [
                        "2026-06-30",
                        "2027-06-30",
                        "2026-11-01",
                        "2025-10-01",
                        "2026-10-01",
                        "2028-06-30",
                    ]
                ),
                "term_months": [12, 12, 3, 12, 12, 12],
                "recurring_amount": [100_000.0, 120_000.0, 30_000.0, 50_000.0, 40_000.0, 130_000.0],
                "status": ["renewed", "renewed", "active", "renewed", "churned", "active"],
                "renewed_from_id": pd.array([None, 1, None, None, 4, 2], dtype="Int64"),
            }
        ),
        "orders": pd.DataFrame(
            {
                "id": [1, 2, 3, 4, 5, 6],
                "key": ["o1", "o2", "o3", "o4", "o5", "o6"],
                "order_number": ["S1", "S1", "S2", "S3", "S4", "S5"],
                "account_id": [1, 1, 1, 1, 2, 1],
                "order_date": _dates(
                    [
                        "2026-01-10",
                        "2026-01-10",
                        "2026-09-30",
                        "2025-09-30",
                        "2026-10-01",
                        "2026-07-15",
                    ]
                ),
                "amount": [1000.0, 500.0, 250.0, 9999.0, 7777.0, 400.0],
                "margin": [300.0, 100.0, 50.0, None, 777.0, 40.0],
            }
        ),
        "opportunities": pd.DataFrame(
            {
                "id": [1, 2, 3, 4, 5, 6],
                "key": ["p1", "p2", "p3", "p4", "p5", "p6"],
                "account_id": [1, 1, 1, 1, 1, 1],
                "type": ["upsell", "upsell", "cross_sell", "renewal", "new", "cross_sell"],
                "stage": ["Won", "Lost", "Won", "Negotiation", "Prospecting", "Won"],
                "amount": [1000.0, 2000.0, 3000.0, 480_000.0, 999.0, None],
                "created_date": _dates(
                    [
                        "2026-01-01",
                        "2026-02-01",
                        "2026-05-01",
                        "2026-08-01",
                        "2026-10-05",
                        "2025-12-01",
                    ]
                ),
                "close_date": _dates(
                    [
                        "2026-03-01",
                        "2026-04-01",
                        "2026-10-15",
                        "2026-10-01",
                        "2026-12-01",
                        "2026-01-15",
                    ]
                ),
                "is_closed": [True, True, True, False, False, True],
                "is_won": [True, False, True, False, False, True],
                "competitor": [None, "Acme", "Acme", None, "Acme", None],
            }
        ),
        "activities": pd.DataFrame(
            {
                "id": [1, 2, 3, 4, 5, 6, 7, 8],
                "key": [f"a{i}" for i in range(1, 9)],
                "account_id": [1, 1, 1, 1, 1, 1, 1, 2],
                "rep_id": pd.array([10, 10, 11, 10, 11, 10, None, 10], dtype="Int64"),
                "contact_id": pd.array([1, 2, 3, None, 1, 1, 1, None], dtype="Int64"),
                "type": ["call", "meeting", "email", "visit", "qbr", "meeting", "email", "email"],
                "occurred_at": _dates(
                    [
                        "2026-09-30 17:00",
                        "2026-09-15 10:00",
                        "2026-08-01 11:00",
                        "2026-06-01 14:00",
                        "2026-03-01 10:00",
                        "2026-10-01 09:00",
                        "2026-08-31 23:59",
                        "2025-01-01 10:00",
                    ]
                ),
            }
        ),
        "tickets": pd.DataFrame(
            {
                "id": [1, 2, 3, 4, 5, 6],
                "key": [f"t{i}" for i in range(1, 7)],
                "account_id": [1, 1, 1, 1, 1, 1],
                "opened_at": _dates(
                    [
                        "2026-08-01 09:00",
                        "2026-09-20 09:00",
                        "2026-01-01 09:00",
                        "2026-09-01 09:00",
                        "2025-06-01 09:00",
                        "2026-08-31 10:00",
                    ]
                ),
                "closed_at": _dates(
                    [None, None, "2026-01-05 12:00", "2026-10-03 12:00", "2025-06-02 12:00", None]
                ),
                "satisfaction": [None, None, 4.0, 1.0, 2.0, None],
            }
        ),
        "nps_responses": pd.DataFrame(
            {
                "id": [1, 2, 3, 4, 5, 6],
                "key": [f"n{i}" for i in range(1, 7)],
                "account_id": [1, 1, 1, 1, 1, 2],
                "responded_on": _dates(
                    [
                        "2026-09-10",
                        "2026-09-10",
                        "2026-03-10",
                        "2025-03-10",
                        "2026-10-05",
                        "2026-01-01",
                    ]
                ),
                "score": [9, 6, 3, 10, 0, 8],
            }
        ),
        "usage": pd.DataFrame(
            {
                "id": list(range(1, 10)),
                "account_id": [2] * 9,
                "date": _dates(
                    [
                        "2026-09-30",
                        "2026-08-31",
                        "2026-07-31",
                        "2026-06-30",
                        "2026-05-31",
                        "2026-04-30",
                        "2026-09-30",
                        "2026-10-31",
                        "2026-03-31",
                    ]
                ),
                "metric": ["active_users"] * 6 + ["logins", "active_users", "active_users"],
                "value": [10.0, 20.0, 30.0, 40.0, 40.0, 40.0, 100.0, 999.0, 1.0],
            }
        ),
    }
