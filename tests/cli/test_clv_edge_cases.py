"""``tillage clv`` run as the installed command on real-shaped edge cases: CDNOW master-like
records with a first purchase on the calibration-end day (T = 0), $0 transactions, a
200-purchase customer, returns and guest lines; and Online Retail II-style invoice lines with
C cancellations and negative quantities."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ..installed import run_tillage

CDNOW = Path(__file__).resolve().parents[1] / "data" / "cdnow" / "cdnow_sample_transactions.csv"
END = "1997-09-30"


def _tillage(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return run_tillage(args, data_dir=cwd, cwd=cwd, lang="en", columns=200)


def _edge_log(path: Path) -> None:
    """The CDNOW sample (first 800 customers) plus the edge cases, as a CSV."""
    log = pd.read_csv(CDNOW, dtype={"sample_customer_id": str, "date": str})
    log = log[log["sample_customer_id"].astype(int) <= 800][["sample_customer_id", "date"]]
    log["dollar_value"] = pd.read_csv(CDNOW)["dollar_value"]
    rows = [
        ("T0", "19970930", 15.0),  # first purchase on the calibration-end day
        ("ZERO", "19970105", 12.0),  # repeat purchases of $0 only (free items)
        ("ZERO", "19970301", 0.0),
        ("ZERO", "19970501", 0.0),
        ("NET", "19970110", 30.0),  # returns more than its repeat order: spills back
        ("NET", "19970210", 10.0),
        ("NET", "19970211", -25.0),
        ("", "19970301", 99.0),  # a guest order without a customer id
    ]
    days = pd.date_range("1997-01-02", "1997-09-29", periods=201).strftime("%Y%m%d")
    rows += [("HEAVY", day, 20.0) for day in days]  # 201 purchase days: 200 repeats
    extra = pd.DataFrame(rows, columns=["sample_customer_id", "date", "dollar_value"])
    pd.concat([log, extra]).to_csv(path, index=False)


@pytest.fixture(scope="module")
def edge_run(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    tmp = tmp_path_factory.mktemp("clv-edge")
    _edge_log(tmp / "log.csv")
    done = _tillage(
        "clv", "log.csv", "--customer", "sample_customer_id", "--date", "date",
        "--amount", "dollar_value", "--date-format", "%Y%m%d", "--calibration-end", END,
        "--horizon", "39", "--out", "clv.csv", "--params-out", "params.json",
        cwd=tmp,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    frame = pd.read_csv(tmp / "clv.csv", dtype={"sample_customer_id": str}, keep_default_na=False)
    frame = frame.set_index("sample_customer_id")
    return frame, json.loads((tmp / "params.json").read_text()), done.stderr


def test_t_zero_customer_is_forecast(edge_run) -> None:  # type: ignore[no-untyped-def]
    frame, _, _ = edge_run
    row = frame.loc["T0"]
    assert row["T"] == 0 and row["frequency"] == 0
    assert float(row["p_alive"]) == pytest.approx(1.0)
    assert float(row["expected_purchases"]) > 0 and float(row["clv"]) > 0


def test_heavy_buyer_is_forecast(edge_run) -> None:  # type: ignore[no-untyped-def]
    frame, _, _ = edge_run
    row = frame.loc["HEAVY"]
    assert row["frequency"] == 200
    assert float(row["expected_purchases"]) > 100  # it buys about 5 times a week to the end
    assert float(row["clv"]) > 100 * 20 * 0.9


def test_zero_spend_is_blank_with_the_reason_and_a_big_return_reverses_the_repeat(edge_run) -> None:  # type: ignore[no-untyped-def]
    frame, params, stderr = edge_run
    row = frame.loc["ZERO"]
    assert row["clv"] == "" and row["expected_avg_value"] == ""
    assert row["note"] == "mean repeat spend is zero or negative"
    assert float(row["p_alive"]) > 0  # spend-free forecasts are still written
    assert "1 customer(s) whose mean repeat spend is zero or negative" in stderr
    # NET's return of 25 reverses its repeat order of 10 and spills 15 back onto the first
    # order: a one-time buyer (no purchase occasion of the return, no negative repeat spend)
    net = frame.loc["NET"]
    assert net["frequency"] == 0 and float(net["monetary_value"]) == 0
    assert net["clv"] != "" and float(net["clv"]) >= 0
    # no negative expected revenue anywhere
    values = pd.to_numeric(frame["clv"].replace("", np.nan))
    assert (values.dropna() >= 0).all() and values.notna().sum() == len(frame) - 1
    assert params["gamma_gamma"]["p"] > 0


def test_guest_lines_are_left_out_and_counted(edge_run) -> None:  # type: ignore[no-untyped-def]
    frame, params, stderr = edge_run
    assert "" not in frame.index
    assert params["rows_without_customer"] == 1
    assert "1 line(s) without a customer id were left out" in stderr


def test_auto_names_the_model_it_used(edge_run) -> None:  # type: ignore[no-untyped-def]
    _, params, stderr = edge_run
    assert params["model"] in {"bgnbd", "pareto"}
    label = {"bgnbd": "BG/NBD", "pareto": "Pareto/NBD"}[params["model"]]
    assert f"the forecast uses {label}" in stderr
    assert "error" not in params["bgnbd"] and "error" not in params["pareto_nbd"]


def _not_json(constant: str) -> None:
    raise AssertionError(f"{constant} is not valid JSON")


def _invoice_lines(path: Path) -> None:
    """Online Retail II-shaped lines: C invoices with negative quantities, float customer ids
    with blanks, datetimes with a time of day. Nobody drops out: each customer buys at their
    own rate from their first day to the end, and spends around their own mean."""
    rng = np.random.default_rng(3)
    end = pd.Timestamp("2010-12-09")
    rows = []
    for c in range(400):
        first = pd.Timestamp("2009-12-01") + pd.Timedelta(days=int(rng.integers(0, 300)))
        span = (end - first).days
        count = 1 + rng.poisson(rng.gamma(2.0, 1 / 15) * span)
        offsets = np.sort(np.r_[0, rng.uniform(0, span, count - 1)])
        mean_price = rng.gamma(4.0, 5.0)
        for k, offset in enumerate(offsets):
            when = first + pd.Timedelta(days=float(offset), hours=9)
            price = mean_price * rng.gamma(6.0, 1 / 6)
            rows.append((f"{489000 + len(rows)}", 2, price, when, 12346.0 + c))
            if k == 1 and c % 10 == 0:  # part of the second order is cancelled the next day
                when = when + pd.Timedelta(days=1)
                rows.append((f"C{489000 + len(rows)}", -1, price, when, 12346.0 + c))
    rows.append(("489999", 3, 2.5, end, np.nan))  # a guest line
    columns = ["Invoice", "Quantity", "Price", "InvoiceDate", "Customer ID"]
    pd.DataFrame(rows, columns=columns).to_parquet(path)


def test_online_retail_style_invoices_with_quantity(tmp_path: Path) -> None:
    _invoice_lines(tmp_path / "lines.parquet")
    done = _tillage(
        "clv", "lines.parquet", "--customer", "Customer ID", "--date", "InvoiceDate",
        "--amount", "Price", "--quantity", "Quantity", "--model", "pareto",
        "--out", "clv.csv", "--params-out", "params.json", cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    frame = pd.read_csv(tmp_path / "clv.csv", dtype={"Customer ID": str})
    params = json.loads((tmp_path / "params.json").read_text(), parse_constant=_not_json)
    assert params["model"] == "pareto" and params["bgnbd"] is None  # only the model asked for
    assert frame["Customer ID"].iloc[0] == "12346"  # ids read as floats come back whole
    assert len(frame) == 400
    # nobody drops out in these data: the maximum is on the boundary and the output says so
    assert "the likelihood is highest on the edge of the parameter space" in done.stderr
    pareto = params["pareto_nbd"]
    assert pareto["boundary"] and all(
        pareto["standard_errors"][k] is None for k in pareto["boundary"]
    )
    assert (frame["clv"].dropna() >= 0).all()


def test_unknown_model_is_a_usage_message(tmp_path: Path) -> None:
    done = _tillage(
        "clv", str(CDNOW), "--customer", "sample_customer_id", "--date", "date",
        "--amount", "dollar_value", "--model", "lifetimes", cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 2
    assert "--model must be one of bgnbd, pareto, auto" in done.stderr
    assert "Traceback" not in done.stderr
