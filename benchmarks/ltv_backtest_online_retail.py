"""Backtest of AccountLTV on UCI Online Retail II (a benchmark script, not a test).

    python benchmarks/ltv_backtest_online_retail.py PARQUET [--out DIR]

Imports the December 2009 – December 2010 file with ``examples/mappings/online_retail.toml``
into a temporary SQLite store, calibrates on the first nine months (to 2010-08-31) and predicts
the next three (to 2010-11-30): per-customer revenue and orders, P(an order in the holdout),
ranking — next to the last-period and cohort-average baselines. There are no contracts in this
data, so the churn rows stay empty. Writes ``metrics.csv``, ``reliability.png`` and the
per-customer frame under ``--out``. Run from the repository root with ``PYTHONPATH=src``.
Data: UCI Machine Learning Repository, Online Retail II (Daqing Chen), CC BY 4.0.
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import time
from pathlib import Path

import pandas as pd

from tillage.features.engine import VALUE_COLUMNS, feature_backend
from tillage.ingest import import_path
from tillage.report.plots import reliability_plot
from tillage.store.database import make_engine, migrate
from tillage.strategy.backtest import backtest

ROOT = Path(__file__).resolve().parents[1]
MAPPING = ROOT / "examples" / "mappings" / "online_retail.toml"


def import_online_retail(parquet: Path, url: str) -> None:
    """Import the Online Retail II file into the store at ``url`` (migrated first) with
    ``examples/mappings/online_retail.toml``, in pounds and London time."""
    engine = make_engine(url)
    migrate(engine)
    import_path(
        engine,
        parquet,
        mapping=MAPPING,
        as_of=dt.date(2011, 1, 1),
        imported_at=dt.datetime(2011, 1, 1),
        currency="GBP",
        timezone="Europe/London",
    )
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("parquet", type=Path)
    parser.add_argument("--out", type=Path, default=Path("ltv-backtest-online-retail"))
    parser.add_argument("--calibration-end", default="2010-08-31")
    parser.add_argument("--horizon", type=int, default=3)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'retail.db'}"
        started = time.perf_counter()
        import_online_retail(args.parquet, url)
        imported = time.perf_counter() - started
        started = time.perf_counter()
        with feature_backend(url, "duckdb", tables=VALUE_COLUMNS) as con:
            result = backtest(con, args.calibration_end, args.horizon)
        elapsed = time.perf_counter() - started
    result.metrics.to_csv(args.out / "metrics.csv")
    result.accounts.to_parquet(args.out / "accounts.parquet")
    reliability_plot(
        {k: v for k, v in result.reliability.items() if k.startswith("p_order")},
        args.out / "reliability.png",
        title="Online Retail II: P(order in Sep-Nov 2010)",
    )
    print(f"import {imported:.1f} s, backtest {elapsed:.1f} s, {len(result.accounts):,} customers")
    print(result.settings["model"])
    with pd.option_context("display.width", 200, "display.float_format", "{:,.4g}".format):
        print(result.metrics.dropna(how="all"))
        for key, table in result.reliability.items():
            if key.startswith("p_order"):
                print(key)
                print(table)


if __name__ == "__main__":
    main()
