"""Read tables of a SQLite store into Arrow IPC files with the ADBC SQLite driver.

Run as a script in a child process by :mod:`tillage.features.engine`, never imported by it: the
driver links its own copy of the SQLite library, and two copies in one process break each
other's POSIX locks — closing the driver's connection would make it think it was the last one
on the WAL file and delete the ``-wal`` and ``-shm`` files under the application's own
connections ("disk I/O error"; see "How To Corrupt An SQLite Database File", §2.2.1). In a child
process the locks work as they should. Standard library, pyarrow and the driver's low-level
API only, so it starts fast: the driver's DB-API module imports ``pyarrow.dataset``, which
imports pandas (0.5 s of a 0.8 s start, paid by every read of the store).

Usage: ``python _sqlite_reader.py SPEC_JSON`` where the spec holds ``path`` (the store),
``out`` (a directory), ``queries`` (table name → SELECT statement) and optionally ``part_rows``
(rows per read, default :data:`PART_ROWS`); writes ``<name>.arrow`` per table.
"""

from __future__ import annotations

import json
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

if __name__ == "__main__":
    # Arrow alone, without NumPy (optional to pyarrow since its version 16): pyarrow imports
    # NumPy where it is installed, which was half this child's CPU time (0.2 → 0.1 s; its math
    # library starts threads), paid by every read of the store. Only as the script: a process
    # importing this module keeps its NumPy.
    sys.modules.setdefault("numpy", None)  # type: ignore[assignment]

import pyarrow as pa
import pyarrow.ipc

#: Rows per read; parts are read by two threads (the driver releases the GIL while it reads).
PART_ROWS = 1 << 20
READ_THREADS = 2


class _Connection:
    """One ADBC connection to the store (a database handle and its connection)."""

    def __init__(self, path: str) -> None:
        import adbc_driver_manager
        import adbc_driver_sqlite

        self._database = adbc_driver_sqlite.connect(f"file:{path}")
        self._connection = adbc_driver_manager.AdbcConnection(self._database)
        self.query("PRAGMA busy_timeout = 10000")  # reader threads opening a WAL file at once

    def query(self, sql: str) -> pa.Table:
        """The rows of ``sql`` (read in parts of :data:`PART_ROWS` rows)."""
        import adbc_driver_manager

        statement = adbc_driver_manager.AdbcStatement(self._connection)
        try:
            statement.set_options(**{"adbc.sqlite.query.batch_rows": str(PART_ROWS)})
            statement.set_sql_query(sql)
            stream, _ = statement.execute_query()  # the driver releases the GIL meanwhile
            return pa.RecordBatchReader._import_from_c(stream.address).read_all()
        finally:
            statement.close()

    def close(self) -> None:
        self._connection.close()
        self._database.close()


def _query(path: str, sql: str) -> pa.Table:
    con = _Connection(path)
    try:
        return con.query(sql)
    finally:
        con.close()


def read(path: str, queries: dict[str, str], out: Path, part_rows: int = PART_ROWS) -> None:
    """Each query's result, read in rowid ranges of ``part_rows`` by two threads, as
    ``out/<name>.arrow``."""
    keeper = _Connection(path)  # keeps the WAL index alive while the threads open and close
    try:
        jobs: list[tuple[str, str]] = []
        for name, select in queries.items():
            bounds = keeper.query(f"SELECT min(rowid) AS lo, max(rowid) AS hi FROM {name}")
            lo, hi = bounds.column("lo")[0].as_py(), bounds.column("hi")[0].as_py()
            if lo is None:
                jobs.append((name, select))
                continue
            for first in range(int(lo), int(hi) + 1, part_rows):  # integers: safe to write out
                jobs.append(
                    (name, f"{select} WHERE rowid >= {first} AND rowid < {first + part_rows}")
                )
        with ThreadPoolExecutor(READ_THREADS) as pool:
            results = list(pool.map(lambda job: (job[0], _query(path, job[1])), jobs))
    finally:
        keeper.close()
    for name in queries:
        parts = [table for table_name, table in results if table_name == name]
        # a range of deleted rowids reads no rows, typed by the driver's guess (integers)
        table = pa.concat_tables([t for t in parts if t.num_rows] or parts[:1])
        path_out = str(out / f"{name}.arrow")
        with pa.OSFile(path_out, "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
            writer.write_table(table)


if __name__ == "__main__":
    spec = json.loads(sys.argv[1])
    read(spec["path"], spec["queries"], Path(spec["out"]), spec.get("part_rows", PART_ROWS))
