"""Generate a large synthetic company and report wall time, row counts and peak memory.

Run from the repository root: ``python benchmarks/demo_scale.py [n_accounts]`` (default 100,000,
about 10 million order lines).
"""

from __future__ import annotations

import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from tillage.demo import DemoConfig, generate


def main() -> None:
    n_accounts = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    start = time.perf_counter()
    company = generate(DemoConfig(n_accounts=n_accounts))
    elapsed = time.perf_counter() - start
    print(f"accounts: {n_accounts:,}  wall time: {elapsed:.1f} s")
    for name, frame in company.tables.items():
        print(f"  {name:<22} {len(frame):>12,}")
    for name, frame in company.truth.items():
        print(f"  truth/{name:<16} {len(frame):>12,}")
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    print(f"peak memory (maxrss): {peak_kib / 1024**2:.2f} GiB")


if __name__ == "__main__":
    main()
