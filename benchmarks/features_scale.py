"""Build every account feature for a large synthetic company and report times and memory.

Run from the repository root::

    python benchmarks/features_scale.py [n_accounts] [--store FILE] [--no-spark]

With the defaults: 100,000 accounts, about 10 million order lines and 5 million activities from
the demo generator, written once to a SQLite store in a temporary directory (or to ``--store``,
reused when it exists). Each engine then runs in a fresh process, so its peak memory (maxrss) is
its own: the embedded engine (ADBC read of the store into DuckDB + the feature build) and Spark
local mode (the same read, Arrow into Spark, the build). The target for the embedded engine is
under 20 s and 4 GB on two cores. The load average is printed: other work on the machine slows
every figure.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

AS_OF = dt.date(2026, 9, 30)


def _own_peak_gib() -> float:
    """This process's peak resident memory. Linux keeps ru_maxrss across exec, so a child
    started by a big parent would report the parent's peak: read VmHWM (reset at exec)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024**2
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def measure(engine: str, store: str) -> None:
    """Child process: time the load and the build on ``engine``, print one JSON line."""
    from tillage.features.build import build_features
    from tillage.features.engine import feature_backend, spark_session

    url = f"sqlite:///{store}"
    times: dict[str, float] = {}
    if engine == "spark":
        start = time.perf_counter()
        session = spark_session()
        times["spark_start_s"] = time.perf_counter() - start
    else:
        session = None

    def cpu() -> float:  # this process and its finished children (the store reader)
        own = resource.getrusage(resource.RUSAGE_SELF)
        kids = resource.getrusage(resource.RUSAGE_CHILDREN)
        return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime

    cpu0 = cpu()
    start = time.perf_counter()
    with feature_backend(url, engine, spark=session) as con:  # type: ignore[arg-type]
        loaded = time.perf_counter()
        frame = build_features(con, AS_OF)
        built = time.perf_counter()
    times |= {
        "load_s": loaded - start,
        "build_s": built - loaded,
        "total_s": built - start,
        "cpu_s": cpu() - cpu0,
        "rows": len(frame),
        "columns": frame.shape[1],
        "maxrss_gib": _own_peak_gib(),
        "reader_maxrss_gib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024**2,
    }
    print(json.dumps(times))


def write_store(path: Path, n_accounts: int) -> None:
    from tillage.demo import DemoConfig, generate
    from tillage.store.database import make_engine, migrate
    from tillage.store.load import replace_all

    start = time.perf_counter()
    company = generate(DemoConfig(n_accounts=n_accounts))
    print(f"generated in {time.perf_counter() - start:.1f} s:", end="")
    for name in ("accounts", "orders", "activities", "contracts", "usage"):
        print(f" {name} {len(company.tables[name]):,}", end="")
    print()
    start = time.perf_counter()
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    replace_all(engine, company.tables)
    engine.dispose()
    print(
        f"store written in {time.perf_counter() - start:.1f} s ({path.stat().st_size / 1e9:.2f} GB)"
    )


def run_child(engine: str, store: Path) -> dict[str, float]:
    env = os.environ | {"SPARK_LOCAL_IP": "127.0.0.1"}
    result = subprocess.run(
        [sys.executable, __file__, "--measure", engine, str(store)],
        check=True,
        capture_output=True,
        text=True,
        env=env,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    args = sys.argv[1:]
    if args[:1] == ["--measure"]:
        measure(args[1], args[2])
        return
    spark = "--no-spark" not in args
    store_arg = args[args.index("--store") + 1] if "--store" in args else None
    positional = [a for a in args if not a.startswith("--") and a != store_arg]
    n_accounts = int(positional[0]) if positional else 100_000

    with tempfile.TemporaryDirectory() as tmp:
        store = Path(store_arg) if store_arg else Path(tmp) / "store.db"
        if not store.exists():
            write_store(store, n_accounts)
        load = " ".join(f"{x:.2f}" for x in os.getloadavg())
        print(f"load average: {load} on {os.cpu_count()} cores")
        engines = ["duckdb", "spark"] if spark else ["duckdb"]
        for engine in engines:
            r = run_child(engine, store)
            extra = f", Spark start {r['spark_start_s']:.1f} s" if "spark_start_s" in r else ""
            print(
                f"{engine:>6}: {int(r['rows']):,} accounts × {int(r['columns']) - 1} features in "
                f"{r['total_s']:.1f} s (load {r['load_s']:.1f} s + build {r['build_s']:.1f} s"
                f"{extra}), CPU {r['cpu_s']:.1f} s, peak memory {r['maxrss_gib']:.2f} GiB "
                f"(store reader process {r['reader_maxrss_gib']:.2f} GiB)"
            )


if __name__ == "__main__":
    main()
