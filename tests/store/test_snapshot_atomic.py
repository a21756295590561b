"""A scoring run killed (SIGKILL) in the middle of writing its snapshot leaves nothing behind.

A child process runs the real scoring run on a small demo company; its bulk insert is wrapped so
that, after the account scores are inserted and before the deals, plans and the commit, it
signals the test and sleeps. While it sleeps inside the open transaction the test reads the
store (readers must see only the old complete snapshot), then kills the child with SIGKILL and
checks again: no partial rows, the old snapshot still the latest, and the store writable.

The same on SQLite and on PostgreSQL (where the feature pass runs inside the database).
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tillage.demo import DemoConfig, generate
from tillage.store.database import make_engine, migrate
from tillage.store.load import replace_all
from tillage.store.schema import AccountScore, Snapshot, SnapshotAction, SnapshotDeal
from tillage.store.snapshots import count_rows, latest_snapshot, write_snapshot

pytestmark = pytest.mark.slow

CHILD = textwrap.dedent(
    """
    import datetime as dt, pathlib, sys, time
    import tillage.store.snapshots as snapshots
    from tillage.store.database import make_engine
    from tillage.services.scoring import run_scoring

    url, flag = sys.argv[1], pathlib.Path(sys.argv[2])
    original = snapshots.insert_frame

    def paused(connection, table, frame, **kwargs):
        count = original(connection, table, frame, **kwargs)
        if table == "account_scores":  # mid-transaction: scores in, deals and plans not yet
            flag.write_text(str(count))
            time.sleep(600)
        return count

    snapshots.insert_frame = paused
    engine = make_engine(url)
    run_scoring(engine, dt.date(2026, 9, 30), created_at=dt.datetime(2026, 10, 1))
    """
)


def _state(engine) -> tuple[int, int, dict[str, int]]:  # type: ignore[no-untyped-def]
    """(latest complete snapshot, snapshots of any status, rows of all snapshots)."""
    with Session(engine) as session:
        latest = latest_snapshot(session).id
        snapshots = session.scalar(select(func.count()).select_from(Snapshot)) or 0
        rows = {
            m.__tablename__: session.scalar(select(func.count()).select_from(m)) or 0
            for m in (AccountScore, SnapshotDeal, SnapshotAction)
        }
    return latest, int(snapshots), rows


@pytest.mark.parametrize(
    "database_url", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
def test_killed_scoring_run_leaves_the_old_snapshot(database_url: str, tmp_path: Path) -> None:
    company = generate(DemoConfig(n_accounts=150, seed=3, n_reps=10))
    engine = make_engine(database_url)
    migrate(engine)
    replace_all(engine, company.tables)
    old = write_snapshot(
        engine,
        as_of=dt.date(2026, 6, 30),
        created_at=dt.datetime(2026, 7, 1),
        scores=pd.DataFrame({"account_id": company.tables["accounts"]["id"], "ltv": 1.0}),
    )
    before = _state(engine)
    assert before == (old, 1, {"account_scores": 150, "snapshot_deals": 0, "snapshot_actions": 0})

    flag, log = tmp_path / "paused", tmp_path / "child.log"
    with log.open("wb") as errors:
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, database_url, str(flag)],
            env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
            stderr=errors,
        )
    try:
        deadline = time.monotonic() + 240
        while not flag.exists():
            if child.poll() is not None:
                pytest.fail(f"the scoring run ended early: {log.read_text()}")
            assert time.monotonic() < deadline, "the scoring run never reached the write"
            time.sleep(0.2)
        assert int(flag.read_text()) == 150  # the new scores are inserted, not committed
        # inside the open transaction: readers still see only the old snapshot
        assert _state(engine) == before
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL

    # after the kill: the old snapshot, no rows of the dead run
    deadline = time.monotonic() + 30
    while True:  # PostgreSQL rolls back once it notices the connection is gone
        state = _state(engine)
        if state == before or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert state == before
    # and the store takes the next snapshot at once (no lock left behind)
    new = write_snapshot(
        engine,
        as_of=dt.date(2026, 9, 30),
        created_at=dt.datetime(2026, 10, 1),
        scores=pd.DataFrame({"account_id": company.tables["accounts"]["id"], "ltv": 2.0}),
    )
    with Session(engine) as session:
        assert latest_snapshot(session).id == new
        assert count_rows(session, new)["account_scores"] == 150
    engine.dispose()
