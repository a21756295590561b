"""Fit times of tillage's models on simulated customer bases (a benchmark, not a test).

    python benchmarks/models_speed.py [--sizes 10000 100000 1000000] [--continuous]

Customers are simulated from the CDNOW estimates, acquired over 12 weeks and observed until week
39. By default times are recorded to the day (weeks as days / 7), as a transaction log gives
them, so identical histories collapse into weights; ``--continuous`` keeps every history
distinct, which shows the cost of the likelihood itself. Run from the repository root with
``PYTHONPATH=src`` (or an installed tillage).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from tillage.models import BetaGeoModel, GammaGammaModel, ParetoNBDModel, ShiftedBetaGeoModel
from tillage.models.simulate import (
    simulate_beta_geo,
    simulate_gamma_gamma,
    simulate_pareto_nbd,
    simulate_shifted_beta_geo,
)

BG = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
PNBD = {"r": 0.5534, "alpha": 10.5802, "s": 0.6061, "beta": 11.6562}
GG = {"p": 6.25, "q": 3.74, "v": 15.44}
SBG = {"gamma": 0.704, "delta": 1.182}


def _horizons(n: int, seed: int, continuous: bool) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if continuous:
        return rng.uniform(27.0, 39.0, n)
    return rng.integers(27 * 7, 39 * 7 + 1, n) / 7.0


def _time(model, frame) -> tuple[float, object]:
    start = time.perf_counter()
    model.fit(frame)
    return time.perf_counter() - start, model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--continuous", action="store_true", help="no time resolution")
    parser.add_argument("--skip", nargs="*", default=[], help="models to skip, e.g. pareto")
    args = parser.parse_args()
    resolution = None if args.continuous else 1 / 7
    print(f"{'model':<12} {'customers':>10} {'distinct':>9} {'fit s':>8}  parameters")
    for n in args.sizes:
        T = _horizons(n, 1, args.continuous)
        bg = simulate_beta_geo(n, **BG, T=T, resolution=resolution, seed=2)
        pn = simulate_pareto_nbd(n, **PNBD, T=T, resolution=resolution, seed=3)
        pn["monetary_value"] = simulate_gamma_gamma(pn["frequency"], **GG, seed=4)
        if args.continuous:
            gg_frame = pn
        else:  # cents, as amounts are recorded
            gg_frame = pn.assign(monetary_value=pn["monetary_value"].round(2).clip(lower=0.01))
        sbg = simulate_shifted_beta_geo(n, **SBG, T=7, seed=5)
        runs = [
            ("bgnbd", BetaGeoModel(), bg),
            ("pareto", ParetoNBDModel(), pn),
            ("gammagamma", GammaGammaModel(), gg_frame),
            ("sbg", ShiftedBetaGeoModel(), sbg),
        ]
        for name, model, frame in runs:
            if name in args.skip:
                continue
            seconds, fitted = _time(model, frame)
            params = ", ".join(f"{k}={v:.4g}" for k, v in fitted.params_.items())
            print(f"{name:<12} {n:>10,} {fitted.n_distinct_rows_:>9,} {seconds:>8.2f}  {params}")


if __name__ == "__main__":
    main()
