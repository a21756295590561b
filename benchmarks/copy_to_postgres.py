"""Copy a SQLite store's source tables into an empty PostgreSQL store, for the benchmarks at scale.

Generating the 100,000-account demo straight into PostgreSQL takes about 35 minutes on two busy
cores; copying the tables of a SQLite store built once (``benchmarks/scale.py --step build``,
seed 42) takes about 22 (9.8 million order lines, load 4–8), and gives the same rows::

    python benchmarks/copy_to_postgres.py STORE.db postgresql+psycopg://postgres@127.0.0.1/pg100k

The target database must exist and be empty; it is migrated first. Rows go in one transaction
through :func:`tillage.store.bulk.insert_frame` (COPY), SQLite's 0/1 booleans as booleans, and
each id sequence is set past the copied ids. Score it afterwards as the demo does (two snapshots,
users, warm step) before ``benchmarks/pages.py`` or ``benchmarks/api_load.py --database-url``.
"""

from __future__ import annotations

import sqlite3
import sys
import time
from pathlib import Path

import pandas as pd
from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from tillage.store.bulk import insert_frame
from tillage.store.database import make_engine, migrate
from tillage.store.records import Base
from tillage.store.schema import CANONICAL_TABLES

CHUNK = 500_000


def _booleans(table: str) -> list[str]:
    columns = Base.metadata.tables[table].columns
    return [c.name for c in columns if c.type.python_type is bool]


def main() -> None:
    source, url = sys.argv[1], sys.argv[2]
    lite = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    target = make_engine(url)
    migrate(target)
    start = time.perf_counter()
    with target.begin() as connection:
        for name in CANONICAL_TABLES:
            rows = 0
            flags = _booleans(name)
            for chunk in pd.read_sql_query(f"SELECT * FROM {name}", lite, chunksize=CHUNK):
                for column in flags:
                    chunk[column] = chunk[column].map({0: False, 1: True}).astype(object)
                rows += insert_frame(connection, name, chunk)
            print(f"{time.perf_counter() - start:8.1f} s  {name}  {rows:,} rows", flush=True)
        for name in CANONICAL_TABLES:  # new rows get ids after the copied ones
            connection.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                    f"COALESCE((SELECT MAX(id) FROM {name}), 1))"
                )
            )
    target.dispose()
    print(f"copied in {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
