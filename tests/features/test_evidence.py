"""Urgency evidence on a hand-made store: renewals on file, the latest NPS, open severe tickets.

Account 1 holds two active contracts on 2026-09-30: c1 ends tomorrow and its successor c3 (on
file, starting tomorrow) decides it; c2 ends in 60 days, undecided. Account 2's only contract
(c4) ends in 10 days, its successor c5 starts only after it (on 2026-10-10: not yet decided on
the as-of date). Account 1 answered NPS 9 in January (outside a 180-day look-back) and 3 and 8
on 2026-05-12 (the lowest of the latest day counts). Tickets: T-1 (severity 1, opened 177 days
ago, open), T-2 (severity 2, closed), T-3 (severity 3, open: not severe), T-4 (severity 2, open
20 days).
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from tillage.features.engine import duckdb_backend, typed_arrow
from tillage.features.evidence import latest_nps, open_severe_tickets, renewal_status

AS_OF = dt.date(2026, 9, 30)


def _day(text: str) -> pd.Timestamp:
    return pd.Timestamp(text)


@pytest.fixture
def con():  # type: ignore[no-untyped-def]
    import pyarrow as pa

    contracts = pd.DataFrame(
        {
            "id": [1, 2, 3, 4, 5],
            "account_id": [1, 1, 1, 2, 2],
            "start_date": [_day(d) for d in ("2025-10-01", "2026-01-01", "2026-10-01",
                                            "2025-10-10", "2026-10-10")],
            "end_date": [_day(d) for d in ("2026-10-01", "2026-11-29", "2027-10-01",
                                          "2026-10-10", "2027-10-10")],
            "renewed_from_id": pd.array([None, None, 1, None, 4], dtype="Int64"),
        }
    )  # fmt: skip
    nps = pd.DataFrame(
        {
            "account_id": [1, 1, 1],
            "responded_on": [_day(d) for d in ("2026-01-05", "2026-05-12", "2026-05-12")],
            "score": [9, 3, 8],
        }
    )
    stamps = [_day("2026-04-06 10:00"), _day("2026-09-01"), _day("2026-09-01"),
              _day("2026-09-10 09:00")]  # fmt: skip
    tickets = pd.DataFrame(
        {
            "account_id": [1, 1, 1, 2],
            "key": ["T-1", "T-2", "T-3", "T-4"],
            "opened_at": stamps,
            "closed_at": [pd.NaT, _day("2026-09-20"), pd.NaT, pd.NaT],
            "severity": [1, 2, 3, 2],
        }
    )
    tables = {
        "contracts": typed_arrow("contracts", pa.Table.from_pandas(contracts)),
        "nps_responses": typed_arrow("nps_responses", pa.Table.from_pandas(nps)),
        "tickets": typed_arrow("tickets", pa.Table.from_pandas(tickets)),
    }
    backend = duckdb_backend(tables)
    yield backend
    backend.disconnect()


def test_a_renewal_with_its_successor_on_file_is_decided(con) -> None:  # type: ignore[no-untyped-def]
    out = renewal_status(con, AS_OF).set_index("account_id")
    assert out.loc[1, "days_to_undecided_renewal"] == 60.0  # c2, not c1 tomorrow
    assert out.loc[1, "renewals_on_file"] == 1
    assert out.loc[2, "days_to_undecided_renewal"] == 10.0  # c5 starts after the as-of date
    assert out.loc[2, "renewals_on_file"] == 0


def test_latest_nps_within_the_look_back(con) -> None:  # type: ignore[no-untyped-def]
    out = latest_nps(con, AS_OF, 180)
    assert out["account_id"].tolist() == [1]
    assert out.loc[0, "nps_score"] == 3.0 and out.loc[0, "nps_date"] == dt.date(2026, 5, 12)
    assert latest_nps(con, AS_OF, 100).empty


def test_open_severe_tickets_oldest_first(con) -> None:  # type: ignore[no-untyped-def]
    out = open_severe_tickets(con, AS_OF, 2)
    assert out["ticket"].tolist() == ["T-1", "T-4"]
    assert out["age_days"].tolist() == [177.0, 20.0]
    assert open_severe_tickets(con, AS_OF, 1)["ticket"].tolist() == ["T-1"]
