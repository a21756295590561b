"""``tillage ltv``, ``backtest`` and ``score`` run to the end on a CDNOW master-like store with
its edge cases: a customer whose first purchase is on the as-of day (T = 0), one whose orders
are all $0, one with 200 repeat purchases and one whose repeat orders are net negative (a
return larger than them) (CDNOW sample, Fader & Hardie; tests/data/cdnow)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from tillage.cli.main import app
from tillage.config import get_settings
from tillage.store.database import make_engine, migrate
from tillage.store.load import replace_all

CDNOW = Path(__file__).resolve().parents[1] / "data" / "cdnow" / "cdnow_sample_transactions.csv"
AS_OF = dt.date(1998, 6, 30)
T_ZERO, FREE, HEAVY, RETURNS = 90001, 90002, 90003, 90004


def _tables(customers: int = 400) -> dict[str, pd.DataFrame]:
    raw = pd.read_csv(CDNOW, dtype=str)
    raw["account_id"] = raw["sample_customer_id"].astype(int)
    raw = raw[raw["account_id"] <= customers]
    raw["order_date"] = pd.to_datetime(raw["date"], format="%Y%m%d").dt.date
    raw["amount"] = raw["dollar_value"].astype(float)
    daily = raw.groupby(["account_id", "order_date"], as_index=False)["amount"].sum()
    # 201 purchase days from the first day of the data to the as-of day: 200 repeats, still active
    span = (AS_OF - dt.date(1997, 1, 1)).days
    heavy = [dt.date(1997, 1, 1) + dt.timedelta(days=k * span // 200) for k in range(201)]
    edge = pd.DataFrame(
        [(T_ZERO, AS_OF, 25.0)]  # first purchase on the as-of day
        + [(FREE, dt.date(1997, 3, 1), 0.0), (FREE, dt.date(1997, 5, 1), 0.0)]  # $0 spend
        + [(HEAVY, day, 20.0) for day in heavy]
        + [(RETURNS, dt.date(1997, 2, 1), 50.0), (RETURNS, dt.date(1997, 6, 1), 20.0)]
        + [(RETURNS, dt.date(1998, 3, 1), 15.0), (RETURNS, dt.date(1998, 3, 2), -60.0)],
        columns=["account_id", "order_date", "amount"],
    )
    orders = pd.concat([daily, edge], ignore_index=True)
    orders["id"] = range(1, len(orders) + 1)
    orders["key"] = orders["id"].astype(str)
    orders["order_number"] = "O" + orders["key"]
    orders["quantity"] = 1.0
    accounts = orders.groupby("account_id", as_index=False)["order_date"].min()
    accounts = accounts.rename(columns={"account_id": "id", "order_date": "customer_since"})
    accounts["key"] = accounts["id"].astype(str)
    accounts["name"] = "customer " + accounts["key"]
    return {"accounts": accounts, "orders": orders}


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('cdnow') / 't.db'}"
    engine = make_engine(url)
    migrate(engine)
    replace_all(engine, _tables())
    engine.dispose()
    return url


def _run(url: str, monkeypatch: pytest.MonkeyPatch, *args: str) -> str:
    monkeypatch.setenv("TILLAGE_DATABASE_URL", url)
    get_settings.cache_clear()
    result = CliRunner().invoke(app, ["--lang", "en", *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_ltv_values_every_edge_case_and_never_a_negative_revenue(
    store: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    out = tmp_path / "ltv.csv"
    text = _run(store, monkeypatch, "ltv", "--as-of", AS_OF.isoformat(), "--out", str(out))
    assert "order revenue: " in text  # which forecast it used, and why
    values = pd.read_csv(out, index_col=0)
    assert {T_ZERO, FREE, HEAVY, RETURNS} <= set(values.index)
    assert values["ltv"].notna().all() and (values["ltv_low"] <= values["ltv_high"]).all()
    # no negative revenue anywhere
    for column in ("expected_revenue", "expected_order_revenue", "fitted_revenue", "ltv"):
        assert (values[column] >= 0).all(), column
    # the return of 60 reverses the repeat orders of 15 and 20 and 25 of the first order: a
    # one-time buyer of 25, not a repeat history of -25 (returns spill back, latest first)
    assert "repeat orders are net negative" not in text
    # a retailer without contracts is not warned that its renewal churn model is not fitted
    assert "renewal churn model" not in text
    # the heavy buyer is worth more than the one-off buyer of today, who is worth more than $0
    assert values.loc[HEAVY, "ltv"] > values.loc[T_ZERO, "ltv"] > values.loc[FREE, "ltv"]


def test_backtest_and_score_run_to_the_end(store: str, monkeypatch: pytest.MonkeyPatch) -> None:
    text = _run(store, monkeypatch, "backtest", "--calibration-end", "1997-12-31", "--horizon", "6")
    assert "Revenue MAE per account" in text
    assert "P(churn within the horizon): " in text
    _run(store, monkeypatch, "score", "--as-of", AS_OF.isoformat())
