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
environment (leave out a ``--LIB`` option to skip that peer): this script writes each data set
to a temporary ``.npz`` file, fits it with ``benchmarks/peer_fit.py`` in a subprocess of the
peer's interpreter (which reports its own fit time, imports excluded), fits tillage here, and
prints for every model and data set:

* the fit time of each library: the best of ``--repeat`` fits in one process (fewer once the
  fits have taken 20 s in all; fits that take under 2 s in all are repeated for up to 2 s, at
  most 30 times), for tillage and for each peer alike, since timings on a shared machine are
  noisy;
* the log-likelihood of each estimate, always computed by tillage's likelihood so that they are
  comparable, and its difference from the best one any library found;
* the largest relative difference of its parameters from the best estimate;
* for tillage, the speed ratio against the fastest peer.

Data: the CDNOW calibration summary (2,357 customers; 946 repeat buyers for Gamma-Gamma), the
Fader-Hardie "regular" cohort for the sBG, and bases simulated from the published estimates
(acquired over 12 weeks, observed to week 39, times recorded to the day; ``--continuous-sizes``
adds bases whose times and spends are not rounded, so that no two histories are equal). The
peers are given one row per customer, as their users do (``--peer-weights`` gives them the
collapsed rows with weights instead, where they accept weights); tillage collapses identical rows
itself.
"""

from __future__ import annotations

import argparse
import json
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
BUDGET = 20.0  # seconds of repeated runs per fit


def _best_time(fit, repeat: int) -> tuple[float, object]:
    best, result, spent, count = float("inf"), None, 0.0, 0
    # as benchmarks/peer_fit.py: at least `repeat` fits, fast ones repeated for up to 2 s
    while count < repeat or (spent < 2.0 and count < 30):
        start = time.perf_counter()
        result = fit()
        seconds = time.perf_counter() - start
        best, spent, count = min(best, seconds), spent + seconds, count + 1
        if spent > BUDGET:
            break
    return best, result


def _collapsed(model: str, frame: pd.DataFrame) -> pd.DataFrame:
    cols = list(MODELS[model]._columns)
    return frame.groupby(cols, as_index=False).size().rename(columns={"size": "weight"})


def _peer(
    lib: str, python: str, model: str, label: str, frame: pd.DataFrame, args: argparse.Namespace
) -> dict:
    cached = None
    if args.cache is not None:
        key = f"{lib}-{model}-{label}-{'w' if args.peer_weights else 'rows'}".replace(" ", "_")
        cached = args.cache / f"{key.replace(',', '')}.json"
        if cached.exists():
            return json.loads(cached.read_text())
    if args.peer_weights and lib != "pymc-marketing":
        frame = _collapsed(model, frame)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "data.npz"
        np.savez(path, **{c: frame[c].to_numpy(float) for c in frame.columns})
        try:
            out = subprocess.run(
                [python, str(PEER_FIT), lib, model, str(path), str(args.repeat)],
                capture_output=True,
                text=True,
                timeout=args.timeout,
                check=True,
            )
        except subprocess.TimeoutExpired:
            return {"error": f"timeout after {args.timeout:.0f} s"}
        except subprocess.CalledProcessError as exc:
            lines = exc.stderr.strip().splitlines() or ["failed"]
            return {"error": lines[-1][:100]}
    result = json.loads(out.stdout.strip().splitlines()[-1])
    if cached is not None:
        args.cache.mkdir(parents=True, exist_ok=True)
        cached.write_text(json.dumps(result))
    return result


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
        default=[],
        help="also bases with continuous times and spend (no two histories equal)",
    )
    parser.add_argument("--models", nargs="*", default=list(MODELS))
    parser.add_argument("--repeat", type=int, default=3, help="runs per fit (best is kept)")
    parser.add_argument("--timeout", type=float, default=1800.0, help="per peer fit, s")
    parser.add_argument("--skip", nargs="*", default=[], help='e.g. "btyd:pareto:sim 1,000,000"')
    parser.add_argument("--peer-weights", action="store_true", help="give peers collapsed rows")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--markdown", type=Path, help="also write a Markdown table here")
    parser.add_argument(
        "--cache", type=Path, help="reuse peer results stored in this folder (and store new ones)"
    )
    args = parser.parse_args()
    pythons = {"lifetimes": args.lifetimes, "btyd": args.btyd, "pymc-marketing": args.pymc}
    header = (
        f"{'model':<11}{'data':<15}{'library':<16}{'fit s':>9}{'speedup':>9}"
        f"{'loglik':>16}{'Δll':>10}{'max|rel|':>10}  parameters"
    )
    print(header)
    results = []
    for model, label, frame in _datasets(args.sizes, args.continuous_sizes):
        if model not in args.models:
            continue
        model_cls = MODELS[model]
        seconds, ours = _best_time(lambda c=model_cls, f=frame: c().fit(f), args.repeat)
        rows = [{"library": "tillage", "seconds": seconds, "params": dict(ours.params_)}]
        errors = []
        for lib in PEERS_OF[model]:
            if pythons[lib] is None:
                continue
            if f"{lib}:{model}:{label}" in args.skip:
                errors.append((lib, "skipped"))
                continue
            peer = _peer(lib, pythons[lib], model, label, frame, args)
            if "error" in peer:
                errors.append((lib, peer["error"]))
            else:
                rows.append({"library": f"{lib} {peer['version']}", **peer})
        for row in rows:
            row["loglik"] = _loglik(model, row["params"], frame)
        best = max(rows, key=lambda r: r["loglik"] if np.isfinite(r["loglik"]) else -np.inf)
        peer_times = [r["seconds"] for r in rows[1:]]
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
                f"{model:<11}{label:<15}{row['library']:<16}{row['seconds']:>9.3f}{speed}"
                f"{row['loglik']:>16.3f}{row['delta_ll']:>10.2g}{row['max_rel']:>10.1e}  {text}"
            )
        for lib, error in errors:
            print(f"{model:<11}{label:<15}{lib:<16}  {error}")
        if label in ("CDNOW", "FH regular"):
            text = ", ".join(f"{k}={v}" for k, v in PUBLISHED[model].items())
            print(f"{'':<11}{'':<15}{'published':<16}{'':>64}  {text}")
        results.append({"model": model, "data": label, "rows": rows, "errors": errors})
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    if args.markdown:
        args.markdown.write_text(_markdown(results))


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
