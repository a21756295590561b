"""Spark vs DuckDB (and PostgreSQL) for the scoring run: wall time and the same snapshot.

Run from the repository root::

    python benchmarks/engines.py                      # 200 accounts: DuckDB, then Spark local
    python benchmarks/engines.py --accounts 2000      # the default demo's size (Spark: long)
    python benchmarks/engines.py --postgres postgresql+psycopg://postgres@host/postgres
    python benchmarks/engines.py --engines duckdb postgres --accounts 2000 --postgres URL

A demo company (seed 42) is generated once and loaded into a SQLite file; each engine scores
its own copy of it as of the demo's date with the built-in strategy, as ``tillage score
--engine ENGINE`` does (``postgres``: the same company loaded into a new database on the server
of ``--postgres``, dropped after, its feature queries run inside PostgreSQL). Each run is a
process of its own, so Spark's figure includes starting its JVM in local mode (``local[2]``),
reported apart as ``start s``. For Spark the run is also split into where its time went: ibis
compiling the expressions, ``SparkSession.sql`` (parsing and analysing each query), and
collecting the results (``toArrow``: optimising, running, the Arrow transfer), with the number
of queries. The last column is the largest relative difference of any figure of the snapshot
(scores, deals, actions) from DuckDB's: 0 where the engines agree, as they must.

The default of 200 accounts finishes in a few minutes on two busy cores (DuckDB about 30 s,
Spark local a few minutes). The load average is printed beside every figure.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from scale import _child as _scale_step
from scale import _load, _peak_mib, _postgres_database

#: The snapshot's tables, the columns that order their rows.
TABLES = {
    "account_scores": ("account_id",),
    "snapshot_deals": ("opportunity_id",),
    "snapshot_actions": ("account_id", "action", "rep_id"),
}


def _spark_profile() -> dict[str, list[float]]:
    """Time ibis's compile, ``SparkSession.sql`` and ``DataFrame.toArrow`` (and ``cache``)."""
    from ibis.backends.pyspark import Backend
    from pyspark.sql import SparkSession

    try:  # PySpark 4: the local session's frames are the classic DataFrame
        from pyspark.sql.classic.dataframe import DataFrame
    except ImportError:  # pragma: no cover - PySpark 3.5
        from pyspark.sql import DataFrame

    spent: dict[str, list[float]] = {"compile": [], "sql": [], "collect": []}

    def timed(owner: type, name: str, key: str) -> None:
        original = getattr(owner, name)

        def wrapper(*args, **kwargs):  # type: ignore[no-untyped-def]
            start = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                spent[key].append(time.perf_counter() - start)

        setattr(owner, name, wrapper)

    timed(Backend, "compile", "compile")
    timed(SparkSession, "sql", "sql")
    timed(DataFrame, "toArrow", "collect")
    return spent


def score(url: str, as_of: str, engine: str) -> dict[str, object]:
    """One scoring run of the store at ``url`` with its feature queries on ``engine``."""
    import datetime as dt

    from tillage.services.scoring import run_scoring
    from tillage.store.database import make_engine

    start = time.perf_counter()
    spent: dict[str, list[float]] = {}
    started = 0.0
    if engine == "spark":
        from tillage.features.engine import spark_session

        spark_session()
        started = time.perf_counter() - start
        spent = _spark_profile()
    store = make_engine(url)
    steps: dict[str, float] = {}

    def step(name: str) -> None:
        steps[name] = time.perf_counter() - start
        print(f"{steps[name]:8.1f} s  {engine}: {name}  load {_load()}", file=sys.stderr)

    run_scoring(
        store,
        dt.date.fromisoformat(as_of),
        created_at=dt.datetime(2026, 1, 1),
        progress=step,
        feature_engine=engine,  # type: ignore[arg-type]
    )
    store.dispose()
    return {
        "seconds": time.perf_counter() - start,
        "start_seconds": started,
        "peak_mib": _peak_mib(),
        "steps": steps,
        "spark": {k: [len(v), sum(v), max(v, default=0.0)] for k, v in spent.items()},
    }


def _rows(url: str) -> dict[str, list[dict[str, object]]]:
    """Every row of the snapshot's tables, typed as the store's model reads them."""
    from sqlalchemy import select

    from tillage.store.database import make_engine
    from tillage.store.schema import Base

    engine = make_engine(url)
    out = {}
    with engine.connect() as connection:
        for name, order in TABLES.items():
            table = Base.metadata.tables[name]
            rows = connection.execute(select(table).order_by(*(table.c[c] for c in order)))
            out[name] = [
                {k: v for k, v in r.items() if k not in ("id", "snapshot_id")}
                for r in rows.mappings()
            ]
    engine.dispose()
    return out


def _difference(left: object, right: object) -> float:
    """The largest relative difference between two values (JSON too); inf where they differ
    otherwise (a label, a length, a null)."""
    if isinstance(left, dict) and isinstance(right, dict):
        if left.keys() != right.keys():
            return float("inf")
        return max((_difference(left[k], right[k]) for k in left), default=0.0)
    if isinstance(left, list) and isinstance(right, list):
        if len(left) != len(right):
            return float("inf")
        return max((_difference(a, b) for a, b in zip(left, right, strict=True)), default=0.0)
    numbers = (int, float)
    if isinstance(left, numbers) and isinstance(right, numbers) and not isinstance(left, bool):
        if left == right or (left != left and right != right):  # equal, or both NaN
            return 0.0
        return abs(left - right) / max(abs(left), abs(right))
    return 0.0 if left == right else float("inf")


def difference(left_url: str, right_url: str) -> float:
    """The largest relative difference between the snapshots of two stores."""
    left, right = _rows(left_url), _rows(right_url)
    return max(_difference(left[name], right[name]) for name in TABLES)


def _child(*args: str) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, __file__, "--score", *args], capture_output=True, text=True, check=False
    )
    sys.stderr.write(done.stderr if done.returncode == 0 else "")
    if done.returncode != 0:
        raise SystemExit(f"scoring on {args[2]} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--accounts", type=int, default=200)
    parser.add_argument(
        "--engines", nargs="*", default=["duckdb", "spark"], choices=["duckdb", "spark", "postgres"]
    )
    parser.add_argument("--postgres", help="admin URL of a PostgreSQL server (adds 'postgres')")
    parser.add_argument("--score", nargs=3, help=argparse.SUPPRESS)  # URL AS_OF ENGINE
    options = parser.parse_args()
    if options.score:
        print(json.dumps(score(*options.score)))
        return
    engines = list(dict.fromkeys(["duckdb", *options.engines]))
    if options.postgres and "postgres" not in engines:
        engines.append("postgres")
    if "postgres" in engines and not options.postgres:
        parser.error("the postgres engine needs --postgres URL")
    with tempfile.TemporaryDirectory(prefix="tillage-engines-") as folder:
        source = Path(folder) / "source.db"
        built = _scale_step("build", f"sqlite:///{source}", str(options.accounts))
        print(
            f"{options.accounts:,} accounts, {built['order_lines']:,} order lines, as of "
            f"{built['as_of']}; cores: {os.cpu_count()}"
        )
        print(
            f"{'engine':<9} {'score s':>8} {'start s':>8} {'× duckdb':>9} {'peak MiB':>9} "
            f"{'max rel diff':>13}  load (1, 5, 15 min) before → after"
        )
        urls: dict[str, str] = {}
        results: dict[str, dict[str, object]] = {}
        for engine in engines:
            drop = None
            if engine == "postgres":
                urls[engine], drop = _postgres_database(options.postgres)
                _scale_step("build", urls[engine], str(options.accounts))
            else:
                shutil.copyfile(source, Path(folder) / f"{engine}.db")
                urls[engine] = f"sqlite:///{Path(folder) / f'{engine}.db'}"
            try:
                before = _load()
                results[engine] = run = _child(urls[engine], str(built["as_of"]), engine)
                after = _load()
                diff = difference(urls["duckdb"], urls[engine])
            finally:
                if drop is not None:
                    drop()  # type: ignore[operator]
            ratio = run["seconds"] / results["duckdb"]["seconds"]  # type: ignore[operator]
            print(
                f"{engine:<9} {run['seconds']:>8.1f} {run['start_seconds']:>8.1f} "
                f"{ratio:>9.2f} {run['peak_mib']:>9.0f} {diff:>13.2g}  {before} → {after}",
                flush=True,
            )
        for engine, run in results.items():
            spent = run["spark"]
            if spent:
                print(
                    f"{engine}: "
                    + "; ".join(
                        f"{k} {n} calls {total:.1f} s (longest {most:.1f} s)"
                        for k, (n, total, most) in spent.items()  # type: ignore[union-attr]
                    )
                )


if __name__ == "__main__":
    main()
