"""Read tables of a SQLite store into Arrow IPC files with the ADBC SQLite driver.

Run as a script in a child process by :mod:`tillage.features.engine`, never imported by it: the
driver links its own copy of the SQLite library, and two copies in one process break each
other's POSIX locks — closing the driver's connection would make it think it was the last one
on the WAL file and delete the ``-wal`` and ``-shm`` files under the application's own
connections ("disk I/O error"; see "How To Corrupt An SQLite Database File", §2.2.1). In a child
process the locks work as they should. Standard library and pyarrow only, so it starts fast.

Usage: ``python _sqlite_reader.py SPEC_JSON`` where the spec holds ``path`` (the store),
``out`` (a directory) and ``queries`` (table name → SELECT statement); writes ``<name>.arrow``
per table.
"""

from __future__ import annotations

import json
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.ipc

#: Rows per read; parts are read by two threads (the driver releases the GIL while it reads).
PART_ROWS = 1 << 20
READ_THREADS = 2


def _connect(path: str) -> Any:
    import adbc_driver_sqlite.dbapi

    con = adbc_driver_sqlite.dbapi.connect(f"file:{path}")
    cursor = con.cursor()
    cursor.execute("PRAGMA busy_timeout = 10000")  # reader threads opening a WAL file at once
    cursor.fetchall()
    cursor.close()
    return con


def _query(path: str, sql: str, params: tuple[int, ...] = ()) -> pa.Table:
    with _connect(path) as con:
        cursor = con.cursor()
        cursor.adbc_statement.set_options(**{"adbc.sqlite.query.batch_rows": str(PART_ROWS)})
        cursor.execute(sql, params or None)
        table = cursor.fetch_arrow_table()
        cursor.close()
    return table


def read(path: str, queries: dict[str, str], out: Path) -> None:
    """Each query's result, read in rowid ranges by two threads, as ``out/<name>.arrow``."""
    keeper = _connect(path)  # keeps the WAL index alive while the threads open and close
    try:
        jobs: list[tuple[str, str, tuple[int, ...]]] = []
        for name, select in queries.items():
            bounds = _query(path, f"SELECT min(rowid) AS lo, max(rowid) AS hi FROM {name}")
            lo, hi = bounds.column("lo")[0].as_py(), bounds.column("hi")[0].as_py()
            if lo is None:
                jobs.append((name, select, ()))
                continue
            for first in range(lo, hi + 1, PART_ROWS):
                where = f"{select} WHERE rowid >= ? AND rowid < ?"
                jobs.append((name, where, (first, first + PART_ROWS)))
        with ThreadPoolExecutor(READ_THREADS) as pool:
            results = list(pool.map(lambda job: (job[0], _query(path, job[1], job[2])), jobs))
    finally:
        keeper.close()
    for name in queries:
        parts = [table for table_name, table in results if table_name == name]
        table = pa.concat_tables(parts)
        path_out = str(out / f"{name}.arrow")
        with pa.OSFile(path_out, "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
            writer.write_table(table)


if __name__ == "__main__":
    spec = json.loads(sys.argv[1])
    read(spec["path"], spec["queries"], Path(spec["out"]))
