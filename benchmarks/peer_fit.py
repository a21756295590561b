"""Fit one model with one peer library and print the time and estimates as JSON.

    PEER_PYTHON benchmarks/peer_fit.py LIB MODEL DATA.npz [REPEAT]
    PEER_PYTHON benchmarks/peer_fit.py serve LIB    (then "MODEL DATA.npz" lines on stdin)

Run by ``benchmarks/peers.py`` in each peer's own virtual environment (the peers pin
incompatible NumPy/SciPy/Python versions), so this file imports nothing from tillage and keeps to
Python 3.9 syntax (btyd 0.1b3 requires Python < 3.10). ``LIB`` is ``lifetimes``, ``btyd`` or
``pymc-marketing``; ``MODEL`` is ``bgnbd``, ``pareto``, ``gammagamma`` or ``sbg``. The time
covers what a user waits for: building the model and fitting it (for pymc-marketing, the graph
compilation and ``find_MAP``), best of ``REPEAT`` fits in the same process (default 1; fits
under 2 s in all are repeated for up to 2 s, at most 30 times; repeats stop once they have taken
20 s in all), as tillage is timed. pymc-marketing is fitted by MAP
with flat priors (``HalfFlat``) on every parameter, which is the maximum-likelihood estimate.
"""

import json
import sys
import time
import warnings

import numpy as np

warnings.simplefilter("ignore")

NAMES = {
    "bgnbd": ("r", "alpha", "a", "b"),
    "pareto": ("r", "alpha", "s", "beta"),
    "gammagamma": ("p", "q", "v"),
}


def _lifetimes_like(module, model, data):
    # lifetimes and btyd share the fitter API (btyd is a fork of lifetimes).
    weights = data.get("weight")
    kwargs = {} if weights is None else {"weights": weights}
    if model == "bgnbd":
        fitter = module.BetaGeoFitter()
        fitter.fit(data["frequency"], data["recency"], data["T"], **kwargs)
    elif model == "pareto":
        fitter = module.ParetoNBDFitter()
        fitter.fit(data["frequency"], data["recency"], data["T"], **kwargs)
    elif model == "gammagamma":
        keep = data["frequency"] > 0
        if weights is not None:
            kwargs = {"weights": weights[keep]}
        fitter = module.GammaGammaFitter()
        fitter.fit(data["frequency"][keep], data["monetary_value"][keep], **kwargs)
    else:
        raise SystemExit("no " + model + " model in " + module.__name__)
    return {k: float(fitter.params_[k]) for k in NAMES[model]}


def _pymc_marketing(model, data):
    import pandas as pd
    from pymc_extras.prior import Prior
    from pymc_marketing import clv

    n = data["T"].size if "T" in data else data["frequency"].size
    ids = np.arange(n)
    if model == "bgnbd":
        frame = pd.DataFrame(
            {
                "customer_id": ids,
                "frequency": data["frequency"],
                "recency": data["recency"],
                "T": data["T"],
            }
        )
        config = {k: Prior("HalfFlat") for k in ("r", "alpha", "a", "b")}
        fitted = clv.BetaGeoModel(model_config=config)
        names = {"r": "r", "alpha": "alpha", "a": "a", "b": "b"}
    elif model == "pareto":
        frame = pd.DataFrame(
            {
                "customer_id": ids,
                "frequency": data["frequency"],
                "recency": data["recency"],
                "T": data["T"],
            }
        )
        config = {k: Prior("HalfFlat") for k in ("r", "alpha", "s", "beta")}
        fitted = clv.ParetoNBDModel(model_config=config)
        names = {"r": "r", "alpha": "alpha", "s": "s", "beta": "beta"}
    elif model == "gammagamma":
        keep = data["frequency"] > 0
        frame = pd.DataFrame(
            {
                "customer_id": ids[keep],
                "frequency": data["frequency"][keep],
                "monetary_value": data["monetary_value"][keep],
            }
        )
        config = {k: Prior("HalfFlat") for k in ("p", "q", "v")}
        fitted = clv.GammaGammaModel(model_config=config)
        names = {"p": "p", "q": "q", "v": "v"}
    else:  # sbg: pymc-marketing censors at T, so an active customer has recency = T = periods + 1
        periods = data["T"].astype(int)
        alive = data["alive"] > 0
        frame = pd.DataFrame(
            {
                "customer_id": ids,
                "recency": np.where(alive, periods + 1, data["recency"].astype(int)),
                "T": periods + 1,
                "cohort": "all",
            }
        )
        config = {k: Prior("HalfFlat", dims="cohort") for k in ("alpha", "beta")}
        fitted = clv.ShiftedBetaGeoModel(model_config=config)
        names = {"gamma": "alpha", "delta": "beta"}
    fitted.fit(frame, method="map", progressbar=False)
    posterior = fitted.idata.posterior
    return {ours: float(np.asarray(posterior[theirs]).ravel()[0]) for ours, theirs in names.items()}


def _import(lib):
    # imports before the clock starts: a user pays them once per session, not per fit
    if lib == "lifetimes":
        import lifetimes as module
    elif lib == "btyd":
        import btyd as module
    elif lib == "pymc-marketing":
        import pymc_marketing as module
        from pymc_extras.prior import Prior  # noqa: F401
        from pymc_marketing import clv  # noqa: F401
    else:
        raise SystemExit("unknown library " + lib)
    return module


def _fit_once(lib, module, model, data):
    start = time.perf_counter()
    if lib == "pymc-marketing":
        params = _pymc_marketing(model, data)
    else:
        params = _lifetimes_like(module, model, data)
    return time.perf_counter() - start, params


def serve(lib):
    """One request line ``MODEL PATH FITS`` on standard input: ``FITS`` fits back to back, one
    JSON line on standard output with the time of the last (``benchmarks/peers.py`` alternates
    these with tillage's own fits)."""
    module = _import(lib)
    version = getattr(module, "__version__", "?")
    print(json.dumps({"ready": True, "version": version}), flush=True)
    for line in sys.stdin:
        model, path, fits = line.split()
        data = dict(np.load(path))
        for _ in range(int(fits)):
            seconds, params = _fit_once(lib, module, model, data)
        print(json.dumps({"seconds": seconds, "params": params, "version": version}), flush=True)


def main():
    if sys.argv[1] == "serve":
        serve(sys.argv[2])
        return
    lib, model, path = sys.argv[1:4]
    repeat = int(sys.argv[4]) if len(sys.argv) > 4 else 1
    data = dict(np.load(path))
    module = _import(lib)
    seconds, spent, count = float("inf"), 0.0, 0
    # at least REPEAT fits; fast ones are repeated for up to 2 s (at most 30 fits)
    while count < repeat or (spent < 2.0 and count < 30):
        elapsed, params = _fit_once(lib, module, model, data)
        seconds, spent, count = min(seconds, elapsed), spent + elapsed, count + 1
        if spent > 20.0:
            break
    version = getattr(module, "__version__", "?")
    print(json.dumps({"seconds": seconds, "params": params, "version": version}))


if __name__ == "__main__":
    main()
