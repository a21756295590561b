"""tillage against lifetimes 0.11.3 (a benchmark, not a test).

    python -m venv .venv-peers
    .venv-peers/bin/pip install -r benchmarks/requirements-peers.txt
    PYTHONPATH=src python benchmarks/peers.py --peers-python .venv-peers/bin/python

lifetimes pins old NumPy/pandas/SciPy, so it runs in its own virtual environment: this script
writes each data set to a temporary ``.npz`` file, fits lifetimes in a subprocess of the peers'
interpreter, fits tillage here, and prints fit times, parameters, the log-likelihood of each
estimate (always computed by tillage's likelihood, so the two are comparable) and the relative
differences. Data: the CDNOW calibration summary (published values) and customers simulated from
the CDNOW estimates (lifetimes is given the raw rows, as its users do; tillage collapses them).
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

from tillage.models import BetaGeoModel, GammaGammaModel, ParetoNBDModel
from tillage.models.simulate import simulate_beta_geo, simulate_gamma_gamma, simulate_pareto_nbd

ROOT = Path(__file__).resolve().parents[1]
CDNOW = ROOT / "tests" / "data" / "cdnow"

PEER_SCRIPT = r"""
import json, sys, time, warnings
import numpy as np
warnings.simplefilter("ignore")
from lifetimes import BetaGeoFitter, GammaGammaFitter, ParetoNBDFitter
data = np.load(sys.argv[1])
model = sys.argv[2]
start = time.perf_counter()
if model == "bgnbd":
    f = BetaGeoFitter().fit(data["frequency"], data["recency"], data["T"])
elif model == "pareto":
    f = ParetoNBDFitter().fit(data["frequency"], data["recency"], data["T"])
else:
    keep = data["frequency"] > 0
    f = GammaGammaFitter().fit(data["frequency"][keep], data["monetary_value"][keep])
seconds = time.perf_counter() - start
print(json.dumps({"seconds": seconds, "params": {k: float(v) for k, v in f.params_.items()}}))
"""

MODELS = {"bgnbd": BetaGeoModel, "pareto": ParetoNBDModel, "gammagamma": GammaGammaModel}
PUBLISHED = {
    "bgnbd": {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426},
    "pareto": {"r": 0.5534, "alpha": 10.5802, "s": 0.6061, "beta": 11.6562},
    "gammagamma": {"p": 6.25, "q": 3.74, "v": 15.44},
}


def _peer(python: str, frame: pd.DataFrame, model: str, timeout: float) -> dict | None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "data.npz"
        np.savez(path, **{c: frame[c].to_numpy(float) for c in frame.columns})
        try:
            out = subprocess.run(
                [python, "-c", PEER_SCRIPT, str(path), model],
                capture_output=True,
                text=True,
                timeout=timeout,
                check=True,
            )
        except subprocess.TimeoutExpired:
            return {"error": f"timeout after {timeout:.0f} s"}
        except subprocess.CalledProcessError as exc:
            return {"error": exc.stderr.strip().splitlines()[-1]}
    return json.loads(out.stdout.strip().splitlines()[-1])


def _loglik(model_cls: type, params: dict, frame: pd.DataFrame) -> float:
    model = model_cls()
    model.params_ = {k: float(params[k]) for k in model_cls._param_names}
    if model_cls is GammaGammaModel:
        frame = frame[frame["frequency"] > 0]
    return float(model.log_likelihood(frame).sum())


def _datasets(sizes: list[int]) -> list[tuple[str, str, pd.DataFrame]]:
    spend = pd.read_csv(CDNOW / "cdnow_customers_summary_with_transactions.csv")
    cdnow = pd.DataFrame(
        {
            "frequency": spend["x"],
            "recency": spend["t_x"],
            "T": spend["T"],
            "monetary_value": spend["zbar"],
        }
    )
    out = [(m, "CDNOW", cdnow) for m in MODELS]
    for n in sizes:
        T = np.random.default_rng(1).integers(27 * 7, 39 * 7 + 1, n) / 7.0
        bg = simulate_beta_geo(n, **PUBLISHED["bgnbd"], T=T, resolution=1 / 7, seed=2)
        pn = simulate_pareto_nbd(n, **PUBLISHED["pareto"], T=T, resolution=1 / 7, seed=3)
        pn["monetary_value"] = (
            simulate_gamma_gamma(pn["frequency"], **PUBLISHED["gammagamma"], seed=4)
            .round(2)
            .clip(0.01)
        )
        out += [("bgnbd", f"sim {n:,}", bg), ("pareto", f"sim {n:,}", pn)]
        out.append(("gammagamma", f"sim {n:,}", pn))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description="tillage vs lifetimes 0.11.3")
    parser.add_argument("--peers-python", required=True, help="interpreter with lifetimes")
    parser.add_argument("--sizes", type=int, nargs="*", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--timeout", type=float, default=900.0, help="per lifetimes fit, s")
    parser.add_argument("--skip", nargs="*", default=[], help='e.g. "pareto:sim 1,000,000"')
    args = parser.parse_args()
    header = f"{'model':<11}{'data':<15}{'lib':<10}{'fit s':>8}{'loglik':>14}  parameters"
    print(header)
    for model, label, frame in _datasets(args.sizes):
        model_cls = MODELS[model]
        start = time.perf_counter()
        ours = model_cls().fit(frame)
        ours_s = time.perf_counter() - start
        rows = [("tillage", ours_s, ours.params_)]
        if f"{model}:{label}" in args.skip:
            peer = {"error": "skipped"}
        else:
            peer = _peer(args.peers_python, frame, model, args.timeout)
        if peer is not None and "error" not in peer:
            rows.append(("lifetimes", peer["seconds"], peer["params"]))
        for lib, seconds, params in rows:
            ll = _loglik(model_cls, params, frame)
            text = ", ".join(f"{k}={params[k]:.5g}" for k in model_cls._param_names)
            print(f"{model:<11}{label:<15}{lib:<10}{seconds:>8.2f}{ll:>14.3f}  {text}")
        if peer is not None and "error" in peer:
            print(f"{model:<11}{label:<15}{'lifetimes':<10}  {peer['error']}")
        elif peer is not None:
            rel = {
                k: (ours.params_[k] - peer["params"][k]) / peer["params"][k]
                for k in model_cls._param_names
            }
            text = ", ".join(f"{k}={v:+.1e}" for k, v in rel.items())
            print(f"{'':<11}{'':<15}{'rel diff':<10}{peer['seconds'] / ours_s:>7.0f}x  {text}")
        if label == "CDNOW":
            text = ", ".join(f"{k}={v}" for k, v in PUBLISHED[model].items())
            print(f"{'':<11}{'':<15}{'published':<10}{'':>22}  {text}")


if __name__ == "__main__":
    main()
