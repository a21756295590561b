"""Two snapshots of the hand-made company (``handmade.py``) bounding 2026-Q3, with a plan and
scored deals in the first. Every expected figure is computed by hand in the tests.

==========  ==========================  ==========================================
account     snapshot 1 (2026-06-30)     snapshot 2 (2026-09-30)
==========  ==========================  ==========================================
1 (Ito)     deepen, churn 0.1, ER 1.2M  deepen
2 (Ito)     deepen, churn 0.3, ER 2.0M  reduce
3 (Sato)    reduce, churn 0.6, ER 0.3M  —
4 (Sato)    —                           develop
6 (Sato)    reduce, churn 0.2, no ER    reduce
==========  ==========================  ==========================================

ER = expected_revenue over the 12 months after the snapshot. Plan of snapshot 1 (rep, account,
month, hours): Ito 1 Jul 2h, Ito 1 Sep 4h must-do, Ito 2 Aug 6h, Sato 6 Jul 2h, Sato 3 Oct 1h
(outside Q3). Scored deals of snapshot 1: o2 p=0.6 (won 07-15), o3 p=0.3 (lost 09-10), o4 p=0.5
(still open), o6 p=0.9 (closed 06-30, before Q3).
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
from sqlalchemy import Engine

from tillage.store.bulk import insert_frame
from tillage.store.snapshots import write_snapshot

FIRST = dt.date(2026, 6, 30)
SECOND = dt.date(2026, 9, 30)
CREATED = dt.datetime(2026, 10, 1, 8, 0)


def write(engine: Engine) -> tuple[int, int]:
    """Write both snapshots; return their ids."""
    first = write_snapshot(
        engine,
        as_of=FIRST,
        created_at=CREATED,
        scores=pd.DataFrame(
            {
                "account_id": [1, 2, 3, 6],
                "ltv": [1_500_000.0, 2_500_000.0, 200_000.0, 900_000.0],
                "churn_risk": [0.1, 0.3, 0.6, 0.2],
                "expected_revenue": [1_200_000.0, 2_000_000.0, 300_000.0, None],
                "priority": [80.0, 90.0, 70.0, 60.0],
                "segment": ["deepen", "deepen", "reduce", "reduce"],
                "zone": ["A", "A", "C", "B"],
                "rep_id": [10, 10, 11, 11],
                "days_to_renewal": [93, 32, 63, 185],
            }
        ),
    )
    second = write_snapshot(
        engine,
        as_of=SECOND,
        created_at=CREATED,
        scores=pd.DataFrame(
            {
                "account_id": [1, 2, 4, 6],
                "ltv": [1_600_000.0, 1_400_000.0, 500_000.0, 800_000.0],
                "churn_risk": [0.05, 0.4, 0.1, 0.5],
                "priority": [70.0, 95.0, 40.0, 85.0],
                "segment": ["deepen", "reduce", "develop", "reduce"],
                "zone": ["A", "A", "B", "B"],
                "rep_id": [10, 10, 11, 11],
                "days_to_renewal": [1, 305, 319, 93],
                "silent_churn": [0.0, 0.7, 0.0, 0.1],
            }
        ),
    )
    month = pd.to_datetime
    with engine.begin() as connection:
        insert_frame(
            connection,
            "snapshot_actions",
            pd.DataFrame(
                {
                    "snapshot_id": first,
                    "account_id": [1, 1, 2, 6, 3],
                    "rep_id": [10, 10, 10, 11, 11],
                    "month": month(
                        ["2026-07-01", "2026-09-01", "2026-08-01", "2026-07-01", "2026-10-01"]
                    ),
                    "action": [
                        "health_check",
                        "renewal_preparation",
                        "expansion_proposal",
                        "health_check",
                        "health_check",
                    ],
                    "hours": [2.0, 4.0, 6.0, 2.0, 1.0],
                    "expected_uplift": [10_000.0, 50_000.0, 80_000.0, 5_000.0, 1_000.0],
                    "must_do": [False, True, False, False, False],
                }
            ),
        )
        for snapshot, rows in (
            (first, {"opportunity_id": [2, 3, 4, 6], "p": [0.6, 0.3, 0.5, 0.9]}),
            (second, {"opportunity_id": [4], "p": [0.45]}),
        ):
            opp = pd.DataFrame(rows)
            account = opp["opportunity_id"].map({2: 2, 3: 6, 4: 6, 6: 1})
            amount = opp["opportunity_id"].map({2: 20_000.0, 3: 30_000.0, 4: 40_000.0, 6: 5_000.0})
            insert_frame(
                connection,
                "snapshot_deals",
                pd.DataFrame(
                    {
                        "snapshot_id": snapshot,
                        "opportunity_id": opp["opportunity_id"],
                        "account_id": account,
                        "amount": amount,
                        "win_probability": opp["p"],
                        "expected_value": amount * opp["p"],
                        "zone": "B",
                    }
                ),
            )
    return first, second
