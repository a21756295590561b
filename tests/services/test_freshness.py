"""The stale-scores banner's rule (:mod:`tillage.services.freshness`): no snapshot, a snapshot
older than the strategy's re-scoring interval, or one written before the latest import."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Engine
from sqlalchemy.orm import Session
from tests.store_rows import record_import

from tillage.services.freshness import freshness
from tillage.store.schema import Snapshot
from tillage.store.strategies import save_strategy

SCORED = dt.datetime(2026, 10, 1, 9, 0)


def test_no_snapshot_then_age_then_a_later_import(engine: Engine) -> None:
    assert freshness(engine, SCORED).reason == "none"
    with Session(engine) as session:
        session.add(Snapshot(as_of=dt.date(2026, 9, 30), created_at=SCORED, status="complete"))
        # a snapshot still being written does not count
        later = SCORED + dt.timedelta(days=20)
        session.add(Snapshot(as_of=dt.date(2026, 10, 20), created_at=later, status="writing"))
        session.commit()
    fresh = freshness(engine, SCORED + dt.timedelta(days=7))
    assert (fresh.stale, fresh.days, fresh.every_days) == (False, 7, 7)
    old = freshness(engine, SCORED + dt.timedelta(days=7, minutes=1))
    assert old.stale and old.reason == "age" and old.scored_at == SCORED
    with Session(engine) as session:
        record_import(session, SCORED - dt.timedelta(hours=1), rows=1)
    assert not freshness(engine, SCORED + dt.timedelta(days=1)).stale
    with Session(engine) as session:
        record_import(session, SCORED + dt.timedelta(hours=1), rows=1)
    after = freshness(engine, SCORED + dt.timedelta(days=1))
    assert after.reason == "import" and after.imported_at == SCORED + dt.timedelta(hours=1)


def test_the_interval_is_the_strategy_files(engine: Engine) -> None:
    with Session(engine) as session:
        session.add(Snapshot(as_of=dt.date(2026, 9, 30), created_at=SCORED, status="complete"))
        session.commit()
        save_strategy(session, "[schedule]\nrescore_every_days = 30\n", now=SCORED)
        session.commit()
    assert not freshness(engine, SCORED + dt.timedelta(days=29)).stale
    assert freshness(engine, SCORED + dt.timedelta(days=31)).reason == "age"
