"""Scoring at scale: time and peak memory of a scoring run at 2,000, 20,000 (and 100,000) accounts.

Run from the repository root::

    python benchmarks/scale.py                 # 2,000 and 20,000 accounts, SQLite
    python benchmarks/scale.py --large         # and 100,000 (about 10 million order lines)
    python benchmarks/scale.py --sizes 2000 --postgres postgresql+psycopg://postgres@host/postgres
    python benchmarks/scale.py --large --keep /tmp/stores   # keep (and reuse) the SQLite stores

For each size a demo company (seed 42) is generated and loaded into a fresh store (a SQLite file
in a temporary folder, or a new database on the PostgreSQL server of ``--postgres``, dropped
after), then scored once as of the demo's date with the built-in strategy — features, models,
strategy, plans and the snapshot, as ``tillage score`` does — and then the pages that
``tillage score --warm-pages`` precomputes (KPI trends and the review). Each step runs in its own
process, so its peak memory (``ru_maxrss`` of that process) is its own. The last column is the
scoring run's seconds per 1,000 accounts: flat (or falling) from one size to the next is linear
growth. The load average is printed beside every figure: other work on the machine slows each of
them.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))


def _load() -> str:
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def build(url: str, n_accounts: int) -> dict[str, object]:
    """Generate the demo company and load it into the (empty) store at ``url``."""
    from tillage.demo import DemoConfig, generate
    from tillage.store.database import make_engine, migrate
    from tillage.store.load import replace_all

    start = time.perf_counter()
    company = generate(DemoConfig(n_accounts=n_accounts, seed=42))
    engine = make_engine(url)
    migrate(engine)
    replace_all(engine, company.tables)
    engine.dispose()
    return {
        "seconds": time.perf_counter() - start,
        "peak_mib": _peak_mib(),
        "as_of": company.config.as_of.isoformat(),
        "order_lines": len(company.tables["orders"]),
    }


def score(url: str, as_of: str) -> dict[str, object]:
    """One scoring run of the store at ``url`` as of ``as_of``, then the precomputed pages."""
    from tillage.config import Settings
    from tillage.services.scoring import run_scoring
    from tillage.services.warm import warm_pages
    from tillage.store.database import make_engine, session_factory

    engine = make_engine(url)
    start, cpu = time.perf_counter(), time.process_time()

    def step(name: str) -> None:  # on stderr, so that a long run shows where it is
        print(f"{time.perf_counter() - start:8.1f} s  {name}  load {_load()}", file=sys.stderr)

    snapshot = run_scoring(
        engine, dt.date.fromisoformat(as_of), created_at=dt.datetime.now(), progress=step
    )
    scored = time.perf_counter() - start
    step("pages")
    with session_factory(engine)() as session:
        warm_pages(session, Settings(database_url=url))
    out = {
        "seconds": scored,
        "pages_seconds": time.perf_counter() - start - scored,
        "cpu_seconds": time.process_time() - cpu,
        "peak_mib": _peak_mib(),
        "snapshot": snapshot,
    }
    engine.dispose()
    return out


def _child(step: str, url: str, arg: str) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, __file__, "--step", step, url, arg],
        capture_output=True,
        text=True,
        check=False,
    )
    sys.stderr.write(done.stderr if done.returncode == 0 else "")
    if done.returncode != 0:
        raise SystemExit(f"{step} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _postgres_database(admin_url: str) -> tuple[str, object]:
    from sqlalchemy import create_engine, make_url, text

    admin = create_engine(make_url(admin_url), isolation_level="AUTOCOMMIT")
    name = f"tillage_scale_{uuid.uuid4().hex[:10]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)

    def drop() -> None:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return url, drop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[2_000, 20_000])
    parser.add_argument("--large", action="store_true", help="add 100,000 accounts")
    parser.add_argument("--postgres", help="admin URL of a PostgreSQL server to score on")
    parser.add_argument(
        "--keep",
        type=Path,
        help="folder for the SQLite stores, kept after the run; a store already there is scored "
        "as it is (a copy of it: the kept store gets no snapshot)",
    )
    parser.add_argument("--step", choices=["build", "score"], help=argparse.SUPPRESS)
    parser.add_argument("args", nargs="*", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.step == "build":
        print(json.dumps(build(options.args[0], int(options.args[1]))))
        return
    if options.step == "score":
        print(json.dumps(score(options.args[0], options.args[1])))
        return
    sizes = [*options.sizes, *([100_000] if options.large else [])]
    print(f"store: {'PostgreSQL' if options.postgres else 'SQLite'}; cores: {os.cpu_count()}")
    print(
        f"{'accounts':>9} {'order lines':>12} {'build s':>8} {'score s':>8} {'pages s':>8} "
        f"{'cpu s':>7} {'peak MiB':>9} {'s/1k acc':>9}  load (1, 5, 15 min) before → after"
    )
    for n in sizes:
        with tempfile.TemporaryDirectory(prefix="tillage-scale-") as folder:
            drop = None
            if options.postgres:
                url, drop = _postgres_database(options.postgres)
            else:
                url = f"sqlite:///{Path(folder) / 'store.db'}"
            try:
                if options.keep and not options.postgres:
                    built = _built(options.keep, n, folder)
                else:
                    built = _child("build", url, str(n))
                before = _load()
                scored = _child("score", url, str(built["as_of"]))
            finally:
                if drop is not None:
                    drop()  # type: ignore[operator]
        print(
            f"{n:>9,} {built['order_lines']:>12,} {built['seconds']:>8.1f} "
            f"{scored['seconds']:>8.1f} {scored['pages_seconds']:>8.1f} "
            f"{scored['cpu_seconds']:>7.1f} {scored['peak_mib']:>9.0f} "
            f"{1000 * scored['seconds'] / n:>9.2f}  {before} → {_load()}",
            flush=True,
        )


def _built(keep: Path, n: int, folder: str) -> dict[str, object]:
    """The kept SQLite store of ``n`` accounts (built and kept first when missing), copied into
    ``folder`` as ``store.db``; its build record."""
    keep.mkdir(parents=True, exist_ok=True)
    store, record = keep / f"store-{n}.db", keep / f"store-{n}.json"
    if not record.exists():
        built = _child("build", f"sqlite:///{store}", str(n))
        record.write_text(json.dumps(built))
    shutil.copyfile(store, Path(folder) / "store.db")
    return json.loads(record.read_text())


if __name__ == "__main__":
    main()
