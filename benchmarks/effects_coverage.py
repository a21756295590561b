"""How often the learned action effects' intervals hold the demo generator's planted effects.

    PYTHONPATH=src python benchmarks/effects_coverage.py [--accounts 2000] [--seeds 1-6,42]

For every seed it generates the demo company (:func:`tillage.demo.generate`), estimates each
planted playbook's effect (:func:`tillage.strategy.effects.learned_effects` as of the demo's
``as_of``) and prints the planted value, the estimate and its 95 % interval. The summary gives
the coverage (intervals holding the planted value, against 95 % nominal) and the spread of the
standardised errors ``(estimate − planted) / se`` (about 1 when the standard errors are right).
The load average is printed with the wall time.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from tillage.demo import DemoConfig, generate
from tillage.demo.playbooks import PLAYBOOK_EFFECTS
from tillage.strategy.config import Strategy
from tillage.strategy.effects import learned_effects


def seeds(text: str) -> list[int]:
    """``"1-6,42"`` → ``[1, 2, 3, 4, 5, 6, 42]`` (each seed once)."""
    out: list[int] = []
    for part in text.split(","):
        low, _, high = part.partition("-")
        out.extend(range(int(low), int(high or low) + 1))
    return list(dict.fromkeys(out))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=2000)
    parser.add_argument("--seeds", default="1-6,42")
    args = parser.parse_args()
    start = time.perf_counter()
    covered: dict[str, list[bool]] = {a: [] for a in PLAYBOOK_EFFECTS}
    zs: dict[str, list[float]] = {a: [] for a in PLAYBOOK_EFFECTS}
    print(f"{'seed':>4}  {'action':<24} {'planted':>7} {'estimate':>8}  interval")
    for seed in seeds(args.seeds):
        company = generate(DemoConfig(n_accounts=args.accounts, seed=seed))
        tables = company.tables
        as_of = company.config.as_of.isoformat()
        found = learned_effects(tables["contracts"], tables["activities"], as_of, Strategy())
        for action, (_basis, planted, _a) in PLAYBOOK_EFFECTS.items():
            e = found[action]
            if e.estimate is None or e.low is None or e.high is None or e.se is None:
                print(f"{seed:>4}  {action:<24} {planted:>7.2f}  not estimated: {e.note}")
                continue
            hit = e.low <= planted <= e.high
            covered[action].append(hit)
            zs[action].append((e.estimate - planted) / e.se)
            mark = "" if hit else "  MISS"
            print(
                f"{seed:>4}  {action:<24} {planted:>7.2f} {e.estimate:>8.3f}  "
                f"[{e.low:.3f}, {e.high:.3f}]{mark}"
            )
    print()
    total = sum(len(v) for v in covered.values())
    hits = sum(sum(v) for v in covered.values())
    for action, hit in covered.items():
        z = np.array(zs[action])
        print(
            f"{action:<24} covered {sum(hit)}/{len(hit)}  z mean {z.mean():+.2f} sd {z.std():.2f}"
        )
    print(f"all: {hits}/{total} = {hits / max(total, 1):.1%} (nominal 95%)")
    load = os.getloadavg()[0]
    print(f"wall {time.perf_counter() - start:.0f} s, load average {load:.2f}")


if __name__ == "__main__":
    main()
