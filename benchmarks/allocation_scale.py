"""Time the capacity-constrained allocation on a large synthetic instance.

Run from the repository root::

    python benchmarks/allocation_scale.py [n_accounts] [n_actions] [n_reps]

Defaults: 100,000 accounts × 10 candidate actions × 500 reps (1,000,000 binary variables).
Every account belongs to one rep, so the problem separates into one programme per rep (about
200 accounts × 10 actions each): its LP relaxation gives the bound, reduced-cost fixing leaves a
few candidates for ``milp`` (see ``tillage.strategy.allocation``), and the programmes are spread
over two processes. Prints the time of the whole allocation (integer plans, LP bounds, naive
plan) in two processes and in one, the uplift of the plan against the naive one and the gap to
the LP bound. The target is under 30 s on two cores; the load average is printed because other
work on the machine slows every figure.
"""

from __future__ import annotations

import os
import resource
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from tillage.strategy.allocation import allocate


def instance(n_accounts: int, n_actions: int, n_reps: int, seed: int = 8) -> tuple:
    rng = np.random.default_rng(seed)
    rep = rng.integers(0, n_reps, n_accounts)
    revenue = rng.lognormal(14, 1.2, n_accounts)
    n = n_accounts * n_actions
    account = np.repeat(np.arange(n_accounts), n_actions)
    action = np.tile(np.array([f"action_{k}" for k in range(n_actions)]), n_accounts)
    hours = np.tile(rng.choice([0.5, 1, 2, 3, 4, 6, 8], n_actions), n_accounts).astype(float)
    value = revenue[account] * rng.beta(1.2, 12, n) * rng.uniform(0.5, 2, n)
    renewal_days = rng.integers(0, 365, n_accounts)
    must = (action == "action_0") & (renewal_days[account] <= 7)
    cands = pd.DataFrame(
        {
            "account_id": account,
            "rep_id": rep[account],
            "action": action,
            "hours": hours,
            "uplift": value,
            "must_do": must,
            "revenue": revenue[account],
        }
    )
    capacity = pd.Series(160 * 0.7, index=np.arange(n_reps))
    return cands, capacity


def _cpu_seconds() -> float:
    """CPU time of this process and its finished worker processes (less load-dependent)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def main() -> None:
    args = [int(a) for a in sys.argv[1:]]
    n_accounts, n_actions, n_reps = (args + [100_000, 10, 500][len(args) :])[:3]
    cands, capacity = instance(n_accounts, n_actions, n_reps)
    print(f"{n_accounts:,} accounts × {n_actions} actions × {n_reps} reps = {len(cands):,} vars")
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    timings, cpu = {}, {}
    for workers in (2, 1):
        start, start_cpu = time.perf_counter(), _cpu_seconds()
        result = allocate(cands, capacity, workers=workers)
        timings[workers] = time.perf_counter() - start
        cpu[workers] = _cpu_seconds() - start_cpu
    for workers in (2, 1):
        label = "2 processes" if workers == 2 else "1 process  "
        print(f"allocation in {label}: {timings[workers]:6.1f} s wall, {cpu[workers]:6.1f} s CPU")
    print(f"decomposed by rep: {result.decomposed}")
    print(
        f"uplift {result.uplift:,.0f} vs naive {result.naive_uplift:,.0f} "
        f"(+{result.gain_over_naive:.1%}); gap to LP bound {result.gap:.2e}"
    )
    print(f"chosen actions {int(result.plan['chosen'].sum()):,}; notes {len(result.notes)}")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
