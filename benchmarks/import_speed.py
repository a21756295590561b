"""Import speed: 1 million generated order lines (CSV) into SQLite and PostgreSQL.

Prints rows/s and the peak resident memory of the importing process for each database. Each run
happens in a fresh subprocess, so peak memory is the import's own. PostgreSQL is reached at
``TILLAGE_TEST_POSTGRES_URL`` (default: local server, user postgres); a scratch database is
created and dropped. Usage::

    python benchmarks/import_speed.py [--rows 1000000] [--only sqlite|postgresql]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

import numpy as np
import pandas as pd

MAPPING = """
name = "benchmark order lines"
currency = "JPY"

[[tables]]
table = "accounts"
key = "customer_code"
duplicates = "first"
columns = { name = "customer_name" }

[[tables]]
table = "products"
key = "sku"
duplicates = "first"
columns = { name = "sku" }

[[tables]]
table = "orders"
key = "line_id"
credit = { column = "invoice", startswith = "CN" }
[tables.columns]
order_number = "invoice"
account_id = "customer_code"
product_id = "sku"
order_date = "order_date"
quantity = "quantity"
amount = "amount"
"""

CHILD = """
import datetime as dt, json, resource, sys, time
from pathlib import Path
from tillage.ingest import import_path
from tillage.store.database import make_engine, migrate

url, csv, mapping = sys.argv[1:4]
engine = make_engine(url)
migrate(engine)
started = time.perf_counter()
result = import_path(engine, Path(csv), mapping=Path(mapping), as_of=dt.date(2025, 3, 31),
                     imported_at=dt.datetime(2025, 4, 1))
seconds = time.perf_counter() - started
peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": seconds, "rows": result.tables["orders"].inserted,
                  "peak_mib": peak_mib}))
"""


def generate(path: Path, rows: int, seed: int = 7) -> None:
    """Order lines of 20,000 customers over 500 products in 2024, 1 % credit notes."""
    rng = np.random.default_rng(seed)
    customers = rng.integers(0, 20_000, rows)
    credit = rng.random(rows) < 0.01
    quantity = rng.integers(1, 20, rows) * np.where(credit, -1, 1)
    days = rng.integers(0, 366, rows)
    frame = pd.DataFrame(
        {
            "line_id": np.char.add("L", np.arange(rows).astype(str)),
            "invoice": np.where(credit, "CN", "INV") + (np.arange(rows) // 4).astype(str),
            "customer_code": np.char.add("C", customers.astype(str)),
            "customer_name": np.char.add("Customer ", customers.astype(str)),
            "sku": np.char.add("SKU-", rng.integers(0, 500, rows).astype(str)),
            "order_date": (np.datetime64("2024-01-01") + days).astype(str),
            "quantity": quantity,
            "amount": quantity * rng.integers(100, 50_000, rows),
        }
    )
    frame.to_csv(path, index=False)


def run(url: str, csv: Path, mapping: Path) -> dict[str, float]:
    src = Path(__file__).resolve().parents[1] / "src"
    env = {**os.environ, "PYTHONPATH": str(src)}
    out = subprocess.run(
        [sys.executable, "-c", CHILD, url, str(csv), str(mapping)],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        csv = folder / "order_lines.csv"
        generate(csv, args.rows)
        mapping = folder / "mapping.toml"
        mapping.write_text(MAPPING, "utf-8")
        size = csv.stat().st_size / 2**20
        print(f"{args.rows:,} order lines, {size:.0f} MiB CSV")
        if args.only in (None, "sqlite"):
            figures = run(f"sqlite:///{folder / 'bench.db'}", csv, mapping)
            _print("SQLite", figures)
        if args.only in (None, "postgresql"):
            from sqlalchemy import create_engine, make_url, text

            admin_url = make_url(
                os.environ.get(
                    "TILLAGE_TEST_POSTGRES_URL",
                    "postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
                )
            )
            name = f"tillage_bench_{uuid.uuid4().hex[:8]}"
            admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
            with admin.connect() as connection:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
            try:
                url = admin_url.set(database=name).render_as_string(hide_password=False)
                _print("PostgreSQL", run(url, csv, mapping))
            finally:
                with admin.connect() as connection:
                    connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                admin.dispose()


def _print(label: str, figures: dict[str, float]) -> None:
    rate = figures["rows"] / figures["seconds"]
    print(
        f"{label:<10} {figures['rows']:,} rows in {figures['seconds']:.1f} s = "
        f"{rate:,.0f} rows/s, peak memory {figures['peak_mib']:,.0f} MiB"
    )


if __name__ == "__main__":
    main()
