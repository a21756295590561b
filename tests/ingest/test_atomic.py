"""An import killed mid-write leaves the store exactly as it was (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import Engine

from tillage.ingest import import_path

SRC = Path(__file__).resolve().parents[2] / "src"
MAPPING = """
name = "generated orders"
currency = "JPY"

[[tables]]
table = "accounts"
key = "customer"
duplicates = "first"
columns = { name = "customer" }

[[tables]]
table = "orders"
key = "line_id"
[tables.columns]
order_number = "invoice"
account_id = "customer"
order_date = "date"
amount = "amount"
"""
CHILD = textwrap.dedent(
    """
    import datetime as dt, sys
    from pathlib import Path
    from tillage.ingest import import_path
    from tillage.store.database import make_engine

    def progress(step, done, total):
        if step == "orders":  # accounts are written, the big insert is about to start
            print("WRITING", flush=True)

    url, path, mapping = sys.argv[1:4]
    import_path(make_engine(url), Path(path), mapping=Path(mapping), as_of=dt.date(2024, 12, 31),
                imported_at=dt.datetime(2025, 1, 1), progress=progress)
    print("COMMITTED", flush=True)
    """
)


def _orders_csv(path: Path, n: int, customers: int, seed: int) -> Path:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "line_id": [f"L{seed}-{i}" for i in range(n)],
            "invoice": [f"INV{seed}-{i // 3}" for i in range(n)],
            "customer": [f"C{c}" for c in rng.integers(0, customers, n)],
            "date": "2024-03-01",
            "amount": rng.integers(100, 100_000, n),
        }
    )
    frame.to_csv(path, index=False)
    return path


def _snapshot(engine: Engine) -> dict[str, list[tuple]]:
    with engine.connect() as connection:
        return {
            table: sorted(tuple(r) for r in connection.exec_driver_sql(f"SELECT * FROM {table}"))
            for table in ("accounts", "orders", "imports")
        }


@pytest.mark.slow
def test_killed_import_changes_nothing(engine: Engine, database_url: str, tmp_path: Path) -> None:
    mapping = tmp_path / "mapping.toml"
    mapping.write_text(MAPPING, "utf-8")
    small = _orders_csv(tmp_path / "small.csv", 50, 10, seed=1)
    import_path(
        engine,
        small,
        mapping=mapping,
        as_of=dt.date(2024, 12, 31),
        imported_at=dt.datetime(2025, 1, 1),
    )
    before = _snapshot(engine)
    big = _orders_csv(tmp_path / "big.csv", 60_000, 500, seed=2)
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    with subprocess.Popen(
        [sys.executable, "-c", CHILD, database_url, str(big), str(mapping)],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    ) as child:
        assert child.stdout is not None
        line = child.stdout.readline()
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    assert line.strip() == "WRITING"
    assert child.returncode == -signal.SIGKILL
    engine.dispose()
    assert _snapshot(engine) == before
    # and the store still takes an import afterwards
    result = import_path(
        engine,
        small,
        mapping=mapping,
        as_of=dt.date(2024, 12, 31),
        imported_at=dt.datetime(2025, 1, 2),
    )
    assert result.tables["orders"].unchanged == 50
