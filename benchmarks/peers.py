"""tillage against lifetimes, btyd and pymc-marketing, side by side (a benchmark, not a test).

    python3.11 -m venv .venv-peers-lifetimes
    .venv-peers-lifetimes/bin/pip install -r benchmarks/requirements-peers.txt
    python3.9 -m venv .venv-peers-btyd
    .venv-peers-btyd/bin/pip install -r benchmarks/requirements-peers-btyd.txt
    python3.12 -m venv .venv-peers-pymc
    .venv-peers-pymc/bin/pip install -r benchmarks/requirements-peers-pymc.txt
    PYTHONPATH=src python benchmarks/peers.py \\
        --lifetimes .venv-peers-lifetimes/bin/python \\
        --btyd .venv-peers-btyd/bin/python \\
        --pymc-marketing .venv-peers-pymc/bin/python

The peers pin incompatible NumPy/SciPy/Python versions, so each runs in its own virtual
environment (leave out a ``--LIB`` option to skip that peer): each is started once as a worker
(``benchmarks/peer_fit.py serve LIB``, imports paid once), this script writes each data set to
a temporary ``.npz`` file and, round after round, fits it with tillage here and then with each
worker (which reports its own fit time, imports excluded), so that every library sees the same
load: the machine is shared, and absolute times drift with it, but ratios taken side by side
hold. For every model and data set it prints:

* the fit time of each library: the median of its rounds (``--repeat`` rounds, after one
  untimed round; rounds that take under 2 s in all go on for up to 2 s, at most 30); a library
  whose first fit took under 0.1 s fits twice back to back in each round and the second fit is
  timed (:data:`BACK_TO_BACK`: the same rule for every library, so a millisecond fit is not
  measured as the machine's wake-up from waiting on the others);
* the log-likelihood of each estimate, always computed by tillage's likelihood so that they are
  comparable, and its difference from the best one any library found;
* the largest relative difference of its parameters from the best estimate;
* for tillage, the speed ratio against the fastest peer;

and at the end a table of model × data set: tillage's time, each peer's, the ratio to the
fastest peer and the median 1-minute load average of the rounds.

Data: the CDNOW calibration summary (2,357 customers; 946 repeat buyers for Gamma-Gamma), the
Fader-Hardie "regular" cohort for the sBG, and bases simulated from the published estimates
(acquired over 12 weeks, observed to week 39, times recorded to the day) and, by default, a
base of 1,000,000 customers whose times and spends are not rounded, so that no two histories
are equal (``--continuous-sizes``; none with ``--continuous-sizes`` alone). The
peers are given one row per customer, as their users do (``--peer-weights`` gives them the
collapsed rows with weights instead, where they accept weights); tillage collapses identical rows
itself.
"""

from __future__ import annotations

import argparse
import json
import os
import select
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from tillage.models import BetaGeoModel, GammaGammaModel, ParetoNBDModel, ShiftedBetaGeoModel
from tillage.models.simulate import (
    simulate_beta_geo,
    simulate_gamma_gamma,
    simulate_pareto_nbd,
    simulate_shifted_beta_geo,
)

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"
PEER_FIT = Path(__file__).resolve().parent / "peer_fit.py"

MODELS = {
    "bgnbd": BetaGeoModel,
    "pareto": ParetoNBDModel,
    "gammagamma": GammaGammaModel,
    "sbg": ShiftedBetaGeoModel,
}
PEERS_OF = {
    "bgnbd": ("lifetimes", "btyd", "pymc-marketing"),
    "pareto": ("lifetimes", "btyd", "pymc-marketing"),
    "gammagamma": ("lifetimes", "btyd", "pymc-marketing"),
    "sbg": ("pymc-marketing",),
}
PUBLISHED = {
    "bgnbd": {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426},
    "pareto": {"r": 0.5534, "alpha": 10.5802, "s": 0.6061, "beta": 11.6562},
    "gammagamma": {"p": 6.25, "q": 3.74, "v": 15.44},
    "sbg": {"gamma": 0.704, "delta": 1.182},
}


class _Worker:
    """A peer library in its own interpreter (``peer_fit.py serve``), imported once, fitting
    one data set per request: its fits alternate with tillage's."""

    def __init__(self, lib: str, python: str, timeout: float) -> None:
        self.lib, self.python, self.timeout = lib, python, timeout
        self.proc: subprocess.Popen | None = None
        self.version = "?"

    def _start(self) -> None:
        self.proc = subprocess.Popen(
            [self.python, str(PEER_FIT), "serve", self.lib],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.version = self._reply(600.0)["version"]

    def _reply(self, timeout: float) -> dict:
        assert self.proc is not None and self.proc.stdout is not None
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        line = self.proc.stdout.readline() if ready else ""
        if not line:
            self.close()
            raise RuntimeError(f"timeout after {timeout:.0f} s" if not ready else "failed")
        return json.loads(line)

    def fit(self, model: str, path: Path, fits: int = 1) -> dict:
        """``fits`` fits back to back; the reply times the last."""
        if self.proc is None:
            self._start()
        assert self.proc is not None and self.proc.stdin is not None
        self.proc.stdin.write(f"{model} {path} {fits}\n")
        self.proc.stdin.flush()
        return self._reply(self.timeout)

    def close(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None


#: A library whose untimed first fit took under this many seconds fits twice back to back in each
#: round and the second fit is timed: a process woken from waiting on the others pays a fixed
#: start (on the 2-core machine ~0.7 ms: Gamma-Gamma on CDNOW 1.0 ms after a fit, 1.7 ms after
#: 50 ms asleep) that would swamp a fit of a millisecond and is nothing to one of seconds.
BACK_TO_BACK = 0.1


def _fits_per_round(first_seconds: float) -> int:
    return 2 if first_seconds < BACK_TO_BACK else 1


def _side_by_side(
    model: str, label: str, frame: pd.DataFrame, workers: dict[str, _Worker], args, tmp: Path
) -> tuple[list[dict], list[tuple[str, str]]]:
    """Fit with tillage and each peer in turn, round after round (``--repeat`` rounds; fast
    ones go on until the rounds have taken 2 s, at most 30), after one untimed round, so that
    all see the same load; each library's time is the median of its rounds. A peer that fails
    or times out is dropped from the later rounds."""
    paths = {}
    for lib in workers:
        peer_frame = frame
        if args.peer_weights and lib != "pymc-marketing":
            peer_frame = _collapsed(model, frame)
        paths[lib] = tmp / f"{lib}.npz"
        np.savez(paths[lib], **{c: peer_frame[c].to_numpy(float) for c in peer_frame.columns})
    times: dict[str, list[float]] = {"tillage": [], **{lib: [] for lib in workers}}
    params: dict[str, dict] = {}
    errors: list[tuple[str, str]] = []
    active = dict(workers)
    # a first round untimed: lazy imports and first-call caches; it also sets how many fits each
    # library makes back to back in a round (the same rule for all, :data:`BACK_TO_BACK`)
    start = time.perf_counter()
    MODELS[model]().fit(frame)
    fits = {"tillage": _fits_per_round(time.perf_counter() - start)}
    for lib, worker in list(active.items()):
        try:
            fits[lib] = _fits_per_round(worker.fit(model, paths[lib])["seconds"])
        except RuntimeError as exc:
            errors.append((lib, str(exc)))
            del active[lib]
    spent, rounds, loads = 0.0, 0, []
    while rounds < args.repeat or (spent < 2.0 and rounds < 30):
        loads.append(os.getloadavg()[0])
        start = time.perf_counter()
        for _ in range(fits["tillage"]):
            fit_start = time.perf_counter()
            ours = MODELS[model]().fit(frame)
        times["tillage"].append(time.perf_counter() - fit_start)
        params["tillage"] = dict(ours.params_)
        for lib, worker in list(active.items()):
            try:
                reply = worker.fit(model, paths[lib], fits[lib])
            except RuntimeError as exc:
                errors.append((lib, str(exc)))
                del active[lib]
                continue
            times[lib].append(reply["seconds"])
            params[lib] = reply["params"]
        spent += time.perf_counter() - start
        rounds += 1
    rows = []
    for lib, seconds in times.items():
        if lib not in params or not seconds:
            continue
        name = "tillage" if lib == "tillage" else f"{lib} {workers[lib].version}"
        rows.append(
            {
                "library": name,
                "seconds": float(np.median(seconds)),
                "rounds": len(seconds),
                "load": float(np.median(loads)),
                "params": params[lib],
            }
        )
    return rows, errors


def _collapsed(model: str, frame: pd.DataFrame) -> pd.DataFrame:
    cols = list(MODELS[model]._columns)
    return frame.groupby(cols, as_index=False).size().rename(columns={"size": "weight"})


def _loglik(model: str, params: dict, frame: pd.DataFrame) -> float:
    model_cls = MODELS[model]
    fitted = model_cls()
    fitted.params_ = {k: float(params[k]) for k in model_cls._param_names}
    if model == "gammagamma":
        frame = frame[frame["frequency"] > 0]
    return float(fitted.log_likelihood(frame).sum())


def _datasets(sizes: list[int], continuous: list[int]) -> list[tuple[str, str, pd.DataFrame]]:
    spend = pd.read_csv(DATA / "cdnow" / "cdnow_customers_summary_with_transactions.csv")
    cdnow = pd.DataFrame(
        {
            "frequency": spend["x"],
            "recency": spend["t_x"],
            "T": spend["T"],
            "monetary_value": spend["zbar"],
        }
    )
    cohorts = pd.read_csv(DATA / "fader_hardie_sbg" / "sbg_paper.csv")
    regular = cohorts[cohorts["cohorts"] == "regular"]
    sbg_paper = pd.DataFrame(
        {
            "recency": regular["recency"].clip(upper=7).to_numpy(float),
            "T": 7.0,
            "alive": (regular["recency"] > 7).astype(float).to_numpy(),
        }
    )
    out = [(m, "CDNOW", cdnow) for m in ("bgnbd", "pareto", "gammagamma")]
    out.append(("sbg", "FH regular", sbg_paper))
    for n in sizes:
        T = np.random.default_rng(1).integers(27 * 7, 39 * 7 + 1, n) / 7.0
        bg = simulate_beta_geo(n, **PUBLISHED["bgnbd"], T=T, resolution=1 / 7, seed=2)
        pn = simulate_pareto_nbd(n, **PUBLISHED["pareto"], T=T, resolution=1 / 7, seed=3)
        pn["monetary_value"] = (
            simulate_gamma_gamma(pn["frequency"], **PUBLISHED["gammagamma"], seed=4)
            .round(2)
            .clip(0.01)
        )
        sbg = simulate_shifted_beta_geo(n, **PUBLISHED["sbg"], T=7, seed=5)
        label = f"sim {n:,}"
        out += [("bgnbd", label, bg), ("pareto", label, pn), ("gammagamma", label, pn)]
        out.append(("sbg", label, sbg))
    for n in continuous:  # times not recorded to the day: every history distinct
        T = np.random.default_rng(1).uniform(27.0, 39.0, n)
        label = f"sim {n:,} cont."
        bg = simulate_beta_geo(n, **PUBLISHED["bgnbd"], T=T, seed=2)
        pn = simulate_pareto_nbd(n, **PUBLISHED["pareto"], T=T, seed=3)
        # spend not rounded to the cent either: no two repeat buyers' mean spends are equal
        pn["monetary_value"] = simulate_gamma_gamma(
            pn["frequency"], **PUBLISHED["gammagamma"], seed=4
        ).clip(1e-6)
        out += [("bgnbd", label, bg), ("pareto", label, pn), ("gammagamma", label, pn)]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description="tillage vs lifetimes, btyd, pymc-marketing")
    parser.add_argument("--lifetimes", help="interpreter with lifetimes 0.11.3")
    parser.add_argument("--btyd", help="interpreter with btyd 0.1b3")
    parser.add_argument("--pymc-marketing", dest="pymc", help="interpreter with pymc-marketing")
    parser.add_argument("--sizes", type=int, nargs="*", default=[10_000, 100_000, 1_000_000])
    parser.add_argument(
        "--continuous-sizes",
        type=int,
        nargs="*",
        default=[1_000_000],
        help="bases with continuous times and spend (no two histories equal)",
    )
    parser.add_argument("--models", nargs="*", default=list(MODELS))
    parser.add_argument("--repeat", type=int, default=5, help="alternating rounds per data set")
    parser.add_argument("--timeout", type=float, default=1800.0, help="per peer fit, s")
    parser.add_argument("--skip", nargs="*", default=[], help='e.g. "btyd:pareto:sim 1,000,000"')
    parser.add_argument("--peer-weights", action="store_true", help="give peers collapsed rows")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--markdown", type=Path, help="also write a Markdown table here")
    args = parser.parse_args()
    pythons = {"lifetimes": args.lifetimes, "btyd": args.btyd, "pymc-marketing": args.pymc}
    workers = {lib: _Worker(lib, py, args.timeout) for lib, py in pythons.items() if py}
    header = (
        f"{'model':<11}{'data':<20}{'library':<22}{'fit ms':>10}{'rounds':>7}{'speedup':>9}"
        f"{'loglik':>16}{'Δll':>10}{'max|rel|':>10}  parameters"
    )
    print(header)
    results = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for model, label, frame in _datasets(args.sizes, args.continuous_sizes):
                if model not in args.models:
                    continue
                peers = {
                    lib: workers[lib]
                    for lib in PEERS_OF[model]
                    if lib in workers and f"{lib}:{model}:{label}" not in args.skip
                }
                rows, errors = _side_by_side(model, label, frame, peers, args, Path(tmp))
                results.append(_report(model, label, frame, rows, errors))
    finally:
        for worker in workers.values():
            worker.close()
    print()
    print(_table(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    if args.markdown:
        args.markdown.write_text(_markdown(results))


def _report(model: str, label: str, frame: pd.DataFrame, rows: list[dict], errors) -> dict:
    """Print one data set's rows: time, likelihood and distance from the best estimate."""
    model_cls = MODELS[model]
    for row in rows:
        row["loglik"] = _loglik(model, row["params"], frame)
    best = max(rows, key=lambda r: r["loglik"] if np.isfinite(r["loglik"]) else -np.inf)
    peer_times = [r["seconds"] for r in rows if r["library"] != "tillage"]
    fastest = min(peer_times) if peer_times else float("nan")
    for row in rows:
        row["delta_ll"] = row["loglik"] - best["loglik"]
        row["max_rel"] = max(
            abs(row["params"][k] - best["params"][k]) / abs(best["params"][k])
            for k in model_cls._param_names
        )
        ratio = fastest / row["seconds"] if row["library"] == "tillage" else float("nan")
        row["speedup"] = ratio
        text = ", ".join(f"{k}={row['params'][k]:.6g}" for k in model_cls._param_names)
        speed = f"{ratio:>8.1f}x" if np.isfinite(ratio) else f"{'':>9}"
        print(
            f"{model:<11}{label:<20}{row['library']:<22}{row['seconds'] * 1e3:>10.2f}"
            f"{row['rounds']:>7}{speed}"
            f"{row['loglik']:>16.3f}{row['delta_ll']:>10.2g}{row['max_rel']:>10.1e}  {text}",
            flush=True,
        )
    for lib, error in errors:
        print(f"{model:<11}{label:<20}{lib:<22}  {error}")
    if label in ("CDNOW", "FH regular"):
        text = ", ".join(f"{k}={v}" for k, v in PUBLISHED[model].items())
        print(f"{'':<11}{'':<20}{'published':<22}{'':>68}  {text}")
    return {"model": model, "data": label, "rows": rows, "errors": errors}


def _table(results: list[dict]) -> str:
    """Model × data set: tillage's median fit time, each peer's, and the ratio to the fastest
    peer, with the median 1-minute load average of the rounds."""
    libs = ["lifetimes", "btyd", "pymc-marketing"]
    head = f"{'model':<11}{'data':<20}{'tillage ms':>11}" + "".join(f"{lib:>16}" for lib in libs)
    lines = [head + f"{'× fastest':>11}{'load':>7}"]
    for result in results:
        by_lib = {row["library"].split()[0]: row for row in result["rows"]}
        ours = by_lib["tillage"]
        cells = [
            f"{by_lib[lib]['seconds'] * 1e3:>16.1f}" if lib in by_lib else f"{'—':>16}"
            for lib in libs
        ]
        ratio = f"{ours['speedup']:.1f}×" if np.isfinite(ours["speedup"]) else "—"
        lines.append(
            f"{result['model']:<11}{result['data']:<20}{ours['seconds'] * 1e3:>11.2f}"
            + "".join(cells)
            + f"{ratio:>11}{ours['load']:>7.1f}"
        )
    return "\n".join(lines)


def _markdown(results: list[dict]) -> str:
    """The results as a Markdown table (for docs/models.md)."""
    lines = [
        "| model | data | library | fit s | tillage's speed-up | Δ log-lik | max rel. diff |",
        "| --- | --- | --- | ---: | ---: | ---: | ---: |",
    ]
    for result in results:
        for row in result["rows"]:
            speed = f"{row['speedup']:.1f}×" if np.isfinite(row["speedup"]) else ""
            lines.append(
                f"| {result['model']} | {result['data']} | {row['library']} | "
                f"{row['seconds']:.3f} | {speed} | {row['delta_ll']:.1e} | {row['max_rel']:.1e} |"
            )
        for lib, error in result["errors"]:
            lines.append(f"| {result['model']} | {result['data']} | {lib} | {error} | | | |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
