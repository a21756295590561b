"""The order KPIs on real invoice lines (a sample of UCI Online Retail II imported as orders),
against a direct pandas computation from the source file; the subscription KPIs left blank
with their reason on a store without contracts; the lapse window from the strategy file; and
the contact KPIs of such a store over its recent buyers once activities are logged."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pandas as pd
import pytest

from tillage.ingest import import_path
from tillage.kpi import compute_kpis, kpi_backend, parse_period
from tillage.kpi.compute import REGISTRY, blank_reasons
from tillage.kpi.period import Period
from tillage.kpi.registry import LAPSE_DAYS
from tillage.store.database import make_engine, migrate
from tillage.strategy.config import Strategy

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "tests" / "data" / "online_retail" / "online_retail_II_sample.parquet"
MAPPING = ROOT / "examples" / "mappings" / "online_retail.toml"
ORDER_KEYS = ("active_buyers", "repeat_purchase_rate", "reactivation_rate", "order_frequency")


@pytest.fixture(scope="module")
def retail_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('retail') / 'store.db'}"
    engine = make_engine(url)
    migrate(engine)
    result = import_path(
        engine,
        SAMPLE,
        mapping=MAPPING,
        as_of=dt.date(2011, 1, 1),
        imported_at=dt.datetime(2011, 1, 1),
        currency="GBP",
        timezone="Europe/London",
    )
    assert result.errors == []
    engine.dispose()
    return url


@pytest.fixture(scope="module")
def orders() -> pd.DataFrame:
    """Orders from the source file: (customer, invoice) with a positive net amount, first day."""
    raw = pd.read_parquet(SAMPLE)
    raw = raw[raw["Customer ID"].notna()]
    day = pd.to_datetime(raw["InvoiceDate"]).dt.date
    raw = raw.assign(amount=raw["Quantity"] * raw["Price"], day=day)
    grouped = raw.groupby(["Customer ID", "Invoice"]).agg(net=("amount", "sum"), day=("day", "min"))
    return grouped[grouped["net"] > 0].reset_index()


def _account_key(customer: float) -> str:
    """The account key the mapping gives a Customer ID (13085.0 → "13085")."""
    return str(int(customer))


def _expected(
    orders: pd.DataFrame, period: Period, lapse_days: int = LAPSE_DAYS
) -> dict[str, float]:
    def buyers(p: Period) -> pd.Series:
        inside = orders[(orders["day"] >= p.first) & (orders["day"] <= p.last)]
        return inside.groupby("Customer ID").size()

    now, before = buyers(period), buyers(period.previous())
    earlier = orders[orders["day"] < period.first].groupby("Customer ID")["day"].max()
    lapsed = earlier[earlier < period.first - dt.timedelta(days=lapse_days)].index
    out = {
        "active_buyers": float(len(now)),
        "order_frequency": now.sum() / (len(now) * period.months) if len(now) else float("nan"),
        "repeat_purchase_rate": 100 * before.index.isin(now.index).mean()
        if len(before)
        else float("nan"),
        "reactivation_rate": 100 * pd.Index(lapsed).isin(now.index).mean()
        if len(lapsed)
        else float("nan"),
    }
    return out


@pytest.mark.parametrize(
    ("text", "fiscal"), [("2010-Q2", 1), ("2010-Q3", 1), ("2010-11", 1), ("FY2010-Q3", 4)]
)
def test_order_kpis_match_pandas(
    retail_url: str, orders: pd.DataFrame, text: str, fiscal: int
) -> None:
    period = parse_period(text, fiscal)
    with kpi_backend(retail_url) as con:
        frame = compute_kpis(con, period, keys=list(ORDER_KEYS))
    got = dict(zip(frame["kpi"], frame["value"], strict=True))
    want = _expected(orders, period)
    assert want["active_buyers"] > 0, "the sample must have buyers in every period tested"
    for key in ORDER_KEYS:
        assert got[key] == pytest.approx(want[key], nan_ok=True), key


def test_subscription_kpis_are_blank_with_the_reason(retail_url: str) -> None:
    with kpi_backend(retail_url) as con:
        reasons = blank_reasons(con, REGISTRY.values(), lang="en")
        frame = compute_kpis(con, parse_period("2010-Q3"))
    contractual = {k.key for k in REGISTRY.values() if "contracts" in k.needs}
    assert {"nrr", "grr", "logo_churn_rate", "renewal_rate"} <= contractual
    assert contractual <= set(reasons)
    assert all("no contracts" in reasons[k] for k in contractual)
    assert not set(ORDER_KEYS) & set(reasons)  # the order KPIs have values
    values = frame.set_index("kpi")["value"]
    assert values[list(contractual)].isna().all()
    assert values["active_buyers"] > 0
    # a count KPI the store cannot give is blank, not 0
    assert "success_stories" in reasons and pd.isna(values["success_stories"])


def test_blank_reasons_in_japanese(retail_url: str) -> None:
    with kpi_backend(retail_url) as con:
        reasons = blank_reasons(con, [REGISTRY["nrr"]], lang="ja")
    assert "契約" in reasons["nrr"]


def test_the_lapse_window_comes_from_the_strategy_file(
    retail_url: str, orders: pd.DataFrame
) -> None:
    period = parse_period("2010-11")
    with kpi_backend(retail_url) as con:
        short = compute_kpis(con, period, keys=["reactivation_rate"], lapse_days=60)
        default = compute_kpis(con, period, keys=["reactivation_rate"])
    got = short["value"].iloc[0]
    assert got == pytest.approx(_expected(orders, period, 60)["reactivation_rate"])
    assert default["value"].iloc[0] == pytest.approx(_expected(orders, period)["reactivation_rate"])
    assert default["denominator"].iloc[0] > 0
    assert short["denominator"].iloc[0] > default["denominator"].iloc[0]  # more accounts lapse
    assert Strategy.model_validate({"kpi": {"lapse_days": 90}}).kpi.lapse_days == 90
    assert Strategy().kpi.lapse_days == 180
    for bad in (0, 3, 2000):
        with pytest.raises(ValueError, match="lapse_days"):
            Strategy.model_validate({"kpi": {"lapse_days": bad}})


def test_contact_kpis_of_a_store_without_contracts(
    retail_url: str, orders: pd.DataFrame, tmp_path: Path
) -> None:
    """Without activities the contact KPIs are blank with the reason; once activities are
    logged they are computed over the buyers with an order in the lapse window up to the
    period's last day."""
    period = parse_period("2010-Q3")
    keys = ["regular_meeting_rate", "contact_frequency"]
    with kpi_backend(retail_url) as con:
        reasons = blank_reasons(con, [REGISTRY[k] for k in keys], lang="en")
    assert set(reasons) == set(keys)
    assert all("no activities" in reasons[k] for k in keys)

    copy = f"sqlite:///{tmp_path / 'store.db'}"
    shutil.copy(retail_url.removeprefix("sqlite:///"), tmp_path / "store.db")
    engine = make_engine(copy)
    with engine.begin() as connection:
        accounts = pd.read_sql("select id, key from accounts order by id", connection)
        visited = accounts["id"].tolist() * 2
        rows = [
            {
                "key": f"visit-{i}",
                "account_id": int(a),
                "type": "visit" if i % 3 == 1 else "call",
                "occurred_at": dt.datetime(2010, 8, 1 + i % 28, 10),
            }
            for i, a in enumerate(visited)
        ]
        pd.DataFrame(rows).to_sql("activities", connection, if_exists="append", index=False)
        ids = dict(zip(accounts["key"], accounts["id"], strict=True))
    engine.dispose()
    with kpi_backend(copy) as con:
        assert blank_reasons(con, [REGISTRY[k] for k in keys]) == {}
        frame = compute_kpis(con, period, keys=keys, lapse_days=120)
    got = dict(zip(frame["kpi"], frame["value"], strict=True))
    recent = orders[
        (orders["day"] > period.last - dt.timedelta(days=120)) & (orders["day"] <= period.last)
    ]
    buyers = {ids[k] for k in recent["Customer ID"].map(_account_key) if k in ids}
    touched = [r for r in rows if r["account_id"] in buyers]
    met = {r["account_id"] for r in touched if r["type"] == "visit"}
    # some accounts are not recent buyers: their touches do not count
    assert 3 <= len(buyers) < len(accounts) and 2 <= len(met) < len(buyers)
    assert got["regular_meeting_rate"] == pytest.approx(100 * len(met) / len(buyers))
    assert got["contact_frequency"] == pytest.approx(len(touched) / (len(buyers) * 3))
