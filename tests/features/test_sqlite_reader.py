"""The child process that reads a SQLite store into Arrow files (features/_sqlite_reader.py)."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.ipc

import tillage.features

READER = Path(tillage.features.__file__).with_name("_sqlite_reader.py")


def _store(path: Path) -> None:
    con = sqlite3.connect(path)
    con.execute("PRAGMA journal_mode = WAL")
    con.execute("CREATE TABLE orders (account_id INTEGER, order_date TEXT, amount REAL)")
    con.execute("CREATE TABLE empty (id INTEGER)")
    rows = [(i % 7, f"2026-01-{1 + i % 28:02d}", i * 1.5) for i in range(25)]
    con.executemany("INSERT INTO orders VALUES (?, ?, ?)", rows)
    con.execute("DELETE FROM orders WHERE rowid IN (4, 5, 6, 13)")  # gaps in the rowids
    con.commit()
    con.close()


def _read(store: Path, out: Path, *, part_rows: int, probe: str = "") -> str:
    spec = {
        "path": str(store),
        "out": str(out),
        "part_rows": part_rows,
        "queries": {
            "orders": "SELECT account_id, order_date, amount FROM orders",
            "empty": "SELECT id FROM empty",
        },
    }
    code = (
        "import runpy, sys; sys.argv = [sys.argv[1], sys.argv[2]]; "
        "runpy.run_path(sys.argv[0], run_name='__main__'); " + probe
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(READER), json.dumps(spec)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def _table(path: Path) -> pa.Table:
    with pa.memory_map(str(path)) as source:
        return pyarrow.ipc.open_file(source).read_all()


def test_parts_of_the_rowids_read_back_every_row_in_order(tmp_path: Path) -> None:
    store = tmp_path / "store.db"
    _store(store)
    expected = sqlite3.connect(store).execute("SELECT * FROM orders ORDER BY rowid").fetchall()
    for part_rows in (3, 1000):  # eight parts with gaps, and one
        out = tmp_path / f"out-{part_rows}"
        out.mkdir()
        _read(store, out, part_rows=part_rows)
        orders = _table(out / "orders.arrow")
        assert orders.schema.names == ["account_id", "order_date", "amount"]
        assert [tuple(r.values()) for r in orders.to_pylist()] == expected
        assert len(expected) == 21
        assert _table(out / "empty.arrow").num_rows == 0


def test_the_reader_starts_without_pandas_or_numpy(tmp_path: Path) -> None:
    """pandas is 0.5 s of the start of a reader that every read of a SQLite store pays, NumPy
    half its CPU time; the reader's Arrow files hold the rows all the same (test above)."""
    store = tmp_path / "store.db"
    _store(store)
    printed = _read(
        store,
        tmp_path,
        part_rows=10,
        probe=(
            "print(sorted(m for m in ('pandas', 'pyarrow.dataset', 'numpy') "
            "if sys.modules.get(m) is not None))"
        ),
    )
    assert printed.strip() == "[]"
    assert _table(tmp_path / "orders.arrow").num_rows == 21
