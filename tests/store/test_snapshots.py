"""Snapshots are written whole or not at all, and read back page by page."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from tillage.errors import NotFoundError
from tillage.services.listing import list_scores
from tillage.store.access import everything
from tillage.store.bulk import insert_frame
from tillage.store.schema import AccountScore, Snapshot
from tillage.store.snapshots import latest_snapshot, write_snapshot, zone_totals

NOW = dt.datetime(2026, 10, 1, 9, 0)


def _seed_accounts(engine: Engine, n: int = 5) -> None:
    with engine.begin() as connection:
        insert_frame(
            connection,
            "accounts",
            pd.DataFrame(
                {
                    "id": range(1, n + 1),
                    "key": [f"A{i}" for i in range(1, n + 1)],
                    "name": [f"Account {i}" for i in range(1, n + 1)],
                }
            ),
        )


def _scores(ltv: list[float]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "account_id": range(1, len(ltv) + 1),
            "ltv": ltv,
            "revenue_12m": [v / 3 for v in ltv],
            "tenure_months": 12.0,
            "zone": ["A", "B", "B", "C", "C"][: len(ltv)],
        }
    )


def test_write_list_and_totals(engine: Engine) -> None:
    _seed_accounts(engine)
    with Session(engine) as session, pytest.raises(NotFoundError, match="tillage score"):
        latest_snapshot(session)
    first = write_snapshot(
        engine, as_of=dt.date(2026, 6, 30), created_at=NOW, scores=_scores([5, 4, 3, 2, 1])
    )
    second = write_snapshot(
        engine, as_of=dt.date(2026, 9, 30), created_at=NOW, scores=_scores([1, 2, 3, 4, 50])
    )
    assert second != first
    with Session(engine) as session:
        assert latest_snapshot(session).id == second
        total, total_ltv, rows = list_scores(
            session, second, visible=everything(), limit=2, offset=0
        )
        assert total == 5 and total_ltv == 60.0
        assert [r.key for r in rows] == ["A5", "A4"]
        total_c, ltv_c, rows_c = list_scores(session, second, visible=everything(), zone="C")
        assert total_c == 2 and {r.zone for r in rows_c} == {"C"} and ltv_c == 54.0
        assert zone_totals(session, second, visible=everything()) == [
            ("A", 1, 1.0),
            ("B", 2, 5.0),
            ("C", 2, 54.0),
        ]


def test_a_failing_snapshot_write_leaves_no_trace(engine: Engine) -> None:
    _seed_accounts(engine, 2)
    bad = _scores([1.0, 2.0]).assign(account_id=[1, 999])  # account 999 does not exist
    with pytest.raises(Exception, match=r"(?i)foreign key"):
        write_snapshot(engine, as_of=dt.date(2026, 9, 30), created_at=NOW, scores=bad)
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(Snapshot)) == 0
        assert session.scalar(select(func.count()).select_from(AccountScore)) == 0
