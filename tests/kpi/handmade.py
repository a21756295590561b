"""A hand-made company for the KPI tests; the period is 2026-Q3 (2026-07-01 … 2026-09-30).

Amounts are monthly (MRR). Every expected value is computed by hand in ``test_kpi_handmade.py``.

==========  =====  ======  ====================================================================
account     owner  team    contracts (start → end, MRR)
==========  =====  ======  ====================================================================
1           Ito    East    2025-10-01 → 2026-10-01 100k, renewed 2026-10-01 → 2027-10-01 150k
2           Ito    East    2025-08-01 → 2026-08-01 200k, renewed 2026-08-01 → 2027-08-01 120k
3           Sato   West    2025-09-01 → 2026-09-01 50k, not renewed (churn)
4           Sato   West    2026-08-15 → 2027-08-15 80k (acquired mid-period)
5           —      —       none
6           Sato   West    2026-01-01 → 2027-01-01 100k (flat)
==========  =====  ======  ====================================================================
"""

from __future__ import annotations

import pandas as pd

PERIOD = "2026-Q3"


def _d(values: list[str | None]) -> pd.Series:
    return pd.Series(pd.to_datetime(values))


def tables() -> dict[str, pd.DataFrame]:
    """Canonical frames of the hand-made company."""
    return {
        "teams": pd.DataFrame({"id": [1, 2], "key": ["T1", "T2"], "name": ["East", "West"]}),
        "reps": pd.DataFrame(
            {"id": [10, 11], "key": ["R10", "R11"], "name": ["Ito", "Sato"], "team_id": [1, 2]}
        ),
        "accounts": pd.DataFrame(
            {
                "id": [1, 2, 3, 4, 5, 6],
                "key": [f"A{i}" for i in range(1, 7)],
                "name": ["One", "Two", "Three", "Four", "Five", "Six"],
                "owner_id": pd.array([10, 10, 11, 11, None, 11], dtype="Int64"),
                "acquisition_cost": [300_000.0, None, 100_000.0, 60_000.0, None, None],
            }
        ),
        "contracts": pd.DataFrame(
            {
                "id": [1, 2, 3, 4, 5, 6, 7],
                "key": [f"c{i}" for i in range(1, 8)],
                "account_id": [1, 1, 2, 2, 3, 4, 6],
                "start_date": _d(
                    [
                        "2025-10-01",
                        "2026-10-01",
                        "2025-08-01",
                        "2026-08-01",
                        "2025-09-01",
                        "2026-08-15",
                        "2026-01-01",
                    ]
                ),
                "end_date": _d(
                    [
                        "2026-10-01",
                        "2027-10-01",
                        "2026-08-01",
                        "2027-08-01",
                        "2026-09-01",
                        "2027-08-15",
                        "2027-01-01",
                    ]
                ),
                "term_months": [12] * 7,
                "recurring_amount": [
                    100_000.0,
                    150_000.0,
                    200_000.0,
                    120_000.0,
                    50_000.0,
                    80_000.0,
                    100_000.0,
                ],
                "status": ["renewed", "active", "renewed", "active", "churned", "active", "active"],
                "renewed_from_id": pd.array([None, 1, None, 3, None, None, None], dtype="Int64"),
            }
        ),
        "opportunities": pd.DataFrame(
            {
                "id": [1, 2, 3, 4, 5, 6],
                "key": [f"o{i}" for i in range(1, 7)],
                "account_id": [1, 2, 6, 6, 4, 1],
                "type": ["upsell", "cross_sell", "upsell", "cross_sell", "new", "upsell"],
                "stage": ["Won", "Won", "Lost", "Proposal", "Won", "Won"],
                "amount": [10_000.0, 20_000.0, 30_000.0, 40_000.0, 80_000.0, 5_000.0],
                "created_date": _d(
                    [
                        "2026-07-10",
                        "2026-06-01",
                        "2026-08-01",
                        "2026-09-01",
                        "2026-05-01",
                        "2026-03-01",
                    ]
                ),
                "close_date": _d(
                    ["2026-08-20", "2026-07-15", "2026-09-10", None, "2026-08-10", "2026-06-30"]
                ),
                "is_closed": [True, True, True, False, True, True],
                "is_won": [True, True, False, False, True, True],
            }
        ),
        "activities": pd.DataFrame(
            {
                "id": list(range(1, 8)),
                "key": [f"a{i}" for i in range(1, 8)],
                "account_id": [1, 1, 2, 4, 6, 3, 6],
                "rep_id": [10, 10, 10, 11, 11, 11, 11],
                "duration_minutes": [60.0, 15.0, 30.0, 90.0, 60.0, 45.0, 10.0],
                "type": ["meeting", "email", "call", "qbr", "visit", "meeting", "email"],
                "occurred_at": _d(
                    [
                        "2026-09-15 10:00",
                        "2026-07-05 09:00",
                        "2026-08-01 11:00",
                        "2026-07-01 12:00",
                        "2026-06-30 23:00",
                        "2026-08-10 10:00",
                        "2026-10-01 09:00",
                    ]
                ),
            }
        ),
        "nps_responses": pd.DataFrame(
            {
                "id": list(range(1, 7)),
                "key": [f"n{i}" for i in range(1, 7)],
                "account_id": [1, 1, 2, 6, 3, 2],
                "responded_on": _d(
                    [
                        "2026-07-20",
                        "2026-09-30",
                        "2026-08-05",
                        "2026-09-01",
                        "2026-07-01",
                        "2026-06-30",
                    ]
                ),
                "score": [10, 9, 6, 9, 0, 10],
            }
        ),
        "success_stories": pd.DataFrame(
            {
                "id": [1, 2],
                "key": ["s1", "s2"],
                "account_id": [1, 6],
                "published_on": _d(["2026-08-01", "2026-10-02"]),
            }
        ),
    }


#: LTV per account (e.g. from a snapshot's scores).
LTV = pd.DataFrame(
    {"account_id": [1, 3, 4, 6], "ltv": [1_200_000.0, 500_000.0, 240_000.0, 900_000.0]}
)

#: A segment per account; account 4 and 5 have none.
SEGMENTS = pd.DataFrame(
    {"account_id": [1, 2, 3, 6], "segment": ["deepen", "deepen", "reduce", "reduce"]}
)
