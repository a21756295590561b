"""tillage's forecasts against the naive run rate and lifetimes on public data (a benchmark).

    PYTHONPATH=src python benchmarks/truth_real_data.py \\
        [--online-retail PARQUET] [--lifetimes .venv-peers/bin/python] [--quick] \\
        [--only fader-hardie|cdnow|demo|online-retail ...]

Rolling-origin backtests (:func:`tillage.strategy.backtest.backtest`: fit as of a calibration
end with tillage's forecast chosen by the folds inside the calibration data, predict the holdout,
compare with what happened) on:

* **Online Retail II** 2009-12 – 2010-12 (UCI, CC BY 4.0; the Parquet file of
  ``../shared/data/online_retail`` beside the repository or ``--online-retail``): calibration
  ends 2010-05-31, 06-30, 07-31 and 08-31, three-month holdouts (the file ends on 2010-12-09);
* the **CDNOW** 1/10 sample (``tests/data/cdnow``): calibration ends 1997-09-30 and 1997-12-31,
  six-month holdouts;
* the **Fader–Hardie** regular and high-end cohorts (``tests/data/fader_hardie_sbg``) as yearly
  contracts of 100 a month from 2000-01-01: calibration at the start of years 4 and 5,
  24-month holdouts (the year under contract and the one after the renewal decision);
* the **demo company** (2,000 accounts, seed 42) against the generator's true 12-month futures.

For every backtest and method it prints per-account revenue MAE, RMSE, the relative total
error, Spearman's rank correlation with the realised revenue, the share of realised revenue in
the top decile by the forecast, the coverage of the nominal 80 % interval (randomised at the
atom 0: a realised 0 inside its interval counts as the interval's probability of including it,
:mod:`tillage.models.forecast`; any other value counts 1 inside and 0 outside), the Brier score
(P(an order in the holdout) for purchase data, P(no contract left at its end) for contracts);
methods: ``tillage`` (the chosen forecast), ``run rate`` (the last holdout-length period carried
forward), ``fitted`` (the probabilistic models alone) and, with ``--lifetimes PYTHON`` (an
interpreter with lifetimes 0.11.3, see ``requirements-peers.txt``), lifetimes' BG/NBD ×
Gamma-Gamma on the same RFM summary. The load average is printed with each data set.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
from ltv_backtest_online_retail import import_online_retail  # the one loader (same folder)

from tillage.demo import DemoConfig, generate
from tillage.features.engine import VALUE_COLUMNS, duckdb_backend, feature_backend
from tillage.models.evaluation import (
    brier_score,
    errors,
    interval_coverage,
    spearman,
    top_decile_capture,
)
from tillage.strategy.backtest import BacktestResult, backtest
from tillage.strategy.value import value_inputs

ROOT = Path(__file__).resolve().parents[1]
RETAIL = (
    Path(__file__).resolve().parents[2]
    / "shared"
    / "data"
    / "online_retail"
    / "online_retail_II_2009-12_2010-12.parquet"
)
DATA = ROOT / "tests" / "data"
#: The data sets of ``--only``.
DATASETS = ("fader-hardie", "cdnow", "demo", "online-retail")

LIFETIMES = """
import json, sys
import numpy as np
from lifetimes import BetaGeoFitter, GammaGammaFitter
d = np.load(sys.argv[1])
f, r, T, m, t = d["f"], d["r"], d["T"], d["m"], float(d["t"])
out = {}
try:
    bg = BetaGeoFitter().fit(f, r, T)
    n = bg.conditional_expected_number_of_purchases_up_to_time(t, f, r, T)
    rep = (f > 0) & (m > 0)
    gg = GammaGammaFitter().fit(f[rep], m[rep])
    spend = np.asarray(gg.conditional_expected_average_profit(f, np.where(m > 0, m, 0.0)))
    spend = np.where(f > 0, spend, (gg.params_["p"] * gg.params_["v"]) / (gg.params_["q"] - 1))
    out["revenue"] = (np.asarray(n) * spend).tolist()
except Exception as exc:  # report any failure of the peer instead of stopping the benchmark
    out["error"] = f"{type(exc).__name__}: {exc}"
print(json.dumps(out))
"""


def _backend(tables: dict[str, pd.DataFrame]):  # type: ignore[no-untyped-def]
    """A DuckDB feature backend holding ``tables`` (missing canonical tables empty)."""
    arrow = {}
    for name, columns in VALUE_COLUMNS.items():
        frame = tables.get(name, pd.DataFrame(columns=list(columns)))
        for c in columns:
            if c not in frame.columns:
                frame[c] = None
        arrow[name] = pa.Table.from_pandas(frame[list(columns)], preserve_index=False)
    return duckdb_backend(arrow)


def cdnow_tables() -> dict[str, pd.DataFrame]:
    """The CDNOW sample as accounts and orders (one order per customer and day)."""
    raw = pd.read_csv(DATA / "cdnow" / "cdnow_sample_transactions.csv", dtype=str)
    raw["date"] = pd.to_datetime(raw["date"], format="%Y%m%d")
    raw["amount"] = raw["dollar_value"].astype(float)
    raw["account_id"] = raw["sample_customer_id"].astype(int)
    daily = raw.groupby(["account_id", "date"], as_index=False)["amount"].sum()
    daily["order_number"] = [
        f"{a}-{d:%Y%m%d}" for a, d in zip(daily.account_id, daily.date, strict=False)
    ]
    accounts = daily.groupby("account_id", as_index=False)["date"].min()
    accounts = accounts.rename(columns={"account_id": "id", "date": "customer_since"})
    orders = daily.rename(columns={"date": "order_date"})
    orders["margin"] = None
    return {"accounts": accounts, "orders": orders}


def fader_hardie_tables() -> dict[str, pd.DataFrame]:
    """The two Fader–Hardie cohorts as yearly contracts of 100 a month from 2000-01-01: a
    customer lost after year ``r`` (``recency``) has ``r`` terms, the last one churned; one
    alive after year 7 has 8 terms, the eighth running."""
    raw = pd.read_csv(DATA / "fader_hardie_sbg" / "sbg_paper.csv")
    rows = []
    for cid, recency in zip(raw["customer_id"], raw["recency"], strict=True):
        terms = int(recency)
        for k in range(1, terms + 1):
            status = "renewed" if k < terms else ("active" if terms == 8 else "churned")
            rows.append(
                {
                    "id": int(cid) * 10 + k,
                    "account_id": int(cid),
                    "start_date": dt.date(1999 + k, 1, 1),
                    "end_date": dt.date(2000 + k, 1, 1),
                    "term_months": 12,
                    "recurring_amount": 100.0,
                    "renewed_from_id": int(cid) * 10 + k - 1 if k > 1 else None,
                    "status": status,
                }
            )
    contracts = pd.DataFrame(rows)
    accounts = pd.DataFrame({"id": raw["customer_id"], "customer_since": dt.date(2000, 1, 1)})
    return {"accounts": accounts, "contracts": contracts}


def _lifetimes(python: str, con, cal: str, horizon: int, index: pd.Index) -> pd.Series | str:  # type: ignore[no-untyped-def]
    rfm = value_inputs(con, cal).accounts.set_index("account_id").reindex(index)
    rfm = rfm[rfm["T"].notna()]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "rfm.npz"
        np.savez(
            path,
            f=rfm["frequency"].to_numpy(float),
            r=rfm["recency"].to_numpy(float),
            T=rfm["T"].to_numpy(float),
            m=rfm["monetary_value"].fillna(0.0).to_numpy(float),
            t=horizon * 30.4375 / 7.0,
        )
        done = subprocess.run(
            [python, "-c", LIFETIMES, str(path)], capture_output=True, text=True, check=False
        )
    if done.returncode:
        return f"lifetimes did not run: {done.stderr.strip().splitlines()[-1]}"
    out = json.loads(done.stdout)
    if "error" in out:
        return f"lifetimes failed: {out['error']}"
    return pd.Series(out["revenue"], index=rfm.index).reindex(index).fillna(0.0)


def rows(result: BacktestResult, lifetimes: pd.Series | str | None) -> list[dict[str, object]]:
    """One row per method: the metrics of the module docstring."""
    a = result.accounts
    actual = a["actual_revenue"]
    contracts = a["actual_churned"].notna().any()
    prob, outcome = ("p_churn", "actual_churned") if contracts else ("p_order", "actual_ordered")
    methods = {
        "tillage": (a["model_revenue"], a["model_revenue_low"], a["model_revenue_high"]),
        "run rate": (a["last_period_revenue"], None, None),
        "fitted": (a["fitted_revenue"], None, None),
    }
    if isinstance(lifetimes, pd.Series):
        methods["lifetimes"] = (lifetimes, None, None)
    out = []
    for name, (forecast, low, high) in methods.items():
        e = errors(forecast, actual)
        p = {"tillage": "model", "run rate": "last_period"}.get(name)
        out.append(
            {
                "method": name,
                "MAE": e["mae"],
                "RMSE": e["rmse"],
                "total error": e["total_error"],
                "Spearman": spearman(forecast, actual),
                "top-decile share": top_decile_capture(forecast, actual),
                "80% coverage": np.nan
                if low is None
                else interval_coverage(low, high, actual, a["model_revenue_zero_inclusion"]),
                f"Brier {prob}": np.nan if p is None else brier_score(a[f"{p}_{prob}"], a[outcome]),
            }
        )
    if isinstance(lifetimes, str):
        out.append({"method": lifetimes})
    return out


def run(name: str, con, cal: str, horizon: int, args, actuals=None) -> list[dict]:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    result = backtest(con, cal, horizon, actuals=actuals)
    seconds = time.perf_counter() - started
    peer = None
    if args.lifetimes and result.accounts["actual_churned"].isna().all():
        peer = _lifetimes(args.lifetimes, con, cal, horizon, result.accounts.index)
    choice = result.settings["forecast"]
    used = "; ".join(
        f"{k} {choice[k]['reason']}" for k in ("contract_revenue", "order_revenue", "churn")
    )
    interval = choice.get("interval") or {}
    levels = ", ".join(f"{v:.3f}" for v in interval.get("fold_levels", []))
    band = interval.get("level_band", 1.0)
    used += f"; interval: folds' levels Σy/Σf {levels or '–'}, level band {band:.3f}"
    for group, table in (interval.get("groups") or {}).items():
        used += f"; {group} ({table['accounts']:,} fold rows) band {table['level_band']:.3f}"
    load = " ".join(f"{v:.1f}" for v in os.getloadavg())
    print(
        f"{name} {cal} +{horizon} months: {len(result.accounts):,} accounts, {seconds:.0f} s, "
        f"load {load}; tillage used {used}",
        flush=True,
    )
    return [
        {"data": name, "calibration end": cal, "months": horizon, **row}
        for row in rows(result, peer)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--online-retail", type=Path, default=RETAIL)
    parser.add_argument("--lifetimes", help="Python interpreter with lifetimes 0.11.3.")
    parser.add_argument("--quick", action="store_true", help="One calibration end per data set.")
    parser.add_argument("--out", type=Path, help="Write the table as CSV here.")
    parser.add_argument(
        "--only",
        choices=DATASETS,
        action="append",
        help="Run only this data set (repeatable; default: all).",
    )
    args = parser.parse_args()
    table: list[dict] = []
    only = set(args.only or DATASETS)

    if "fader-hardie" in only:
        table += fader_hardie(args)
    if "cdnow" in only:
        table += cdnow(args)
    if "demo" in only:
        table += demo(args)
    if "online-retail" in only:
        table += online_retail(args)
    print_table(table, args)


def fader_hardie(args) -> list[dict]:  # type: ignore[no-untyped-def]
    table: list[dict] = []
    con = _backend(fader_hardie_tables())
    for cal in ("2004-01-01",) if args.quick else ("2004-01-01", "2005-01-01"):
        table += run("Fader-Hardie", con, cal, 24, args)
    con.disconnect()
    return table


def cdnow(args) -> list[dict]:  # type: ignore[no-untyped-def]
    table: list[dict] = []
    con = _backend(cdnow_tables())
    for cal in ("1997-09-30",) if args.quick else ("1997-09-30", "1997-12-31"):
        table += run("CDNOW", con, cal, 6, args)
    con.disconnect()
    return table


def demo(args) -> list[dict]:  # type: ignore[no-untyped-def]
    """The demo company (2,000 accounts, seed 42) against the generator's true futures."""
    company = generate(DemoConfig(n_accounts=2000, seed=42))
    truth = company.truth["accounts"].set_index("account_id")
    at_risk = truth["is_contractual"] & ~truth["churned_before_as_of"]
    actuals = pd.DataFrame(
        {
            "revenue": truth["future_revenue"],
            "orders": truth["future_orders"],
            "ordered": (truth["future_orders"] > 0).astype(float),
            "churned": np.where(at_risk, truth["churned_in_horizon"].astype(float), np.nan),
        }
    )
    con = _backend({name: company.tables[name] for name in VALUE_COLUMNS})
    table = run("demo (truth)", con, company.config.as_of.isoformat(), 12, args, actuals)
    con.disconnect()
    return table


def online_retail(args) -> list[dict]:  # type: ignore[no-untyped-def]
    table: list[dict] = []
    if args.online_retail.is_file():
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite:///{Path(tmp) / 'retail.db'}"
            import_online_retail(args.online_retail, url)
            ends = ("2010-08-31",) if args.quick else ("2010-05-31", "2010-06-30", "2010-07-31")
            ends = ends if args.quick else (*ends, "2010-08-31")
            with feature_backend(url, "duckdb", tables=VALUE_COLUMNS) as con:
                for cal in ends:
                    table += run("Online Retail II", con, cal, 3, args)
    else:
        print(f"Online Retail II left out: {args.online_retail} is not a file")
    return table


def print_table(table: list[dict], args) -> None:  # type: ignore[no-untyped-def]
    frame = pd.DataFrame(table)
    if args.out:
        frame.to_csv(args.out, index=False)
    with pd.option_context(
        "display.width", 250, "display.max_columns", 20, "display.float_format", "{:,.4g}".format
    ):
        print(frame.astype(object).where(frame.notna(), "").to_string(index=False))
    print(
        "80% coverage: randomised at the atom 0 (a realised 0 inside its interval counts as the "
        "probability that the interval includes 0; see tillage.models.forecast)"
    )


if __name__ == "__main__":
    main()
