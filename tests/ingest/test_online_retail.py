"""The shipped Online Retail II mapping reproduces a direct pandas computation on the sample."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import Engine

from tillage.ingest import import_path

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "tests" / "data" / "online_retail" / "online_retail_II_sample.parquet"
MAPPING = ROOT / "examples" / "mappings" / "online_retail.toml"


def _import(engine: Engine):  # type: ignore[no-untyped-def]
    return import_path(
        engine,
        SAMPLE,
        mapping=MAPPING,
        as_of=dt.date(2011, 1, 1),
        imported_at=dt.datetime(2011, 1, 1),
        currency="GBP",
        timezone="Europe/London",
    )


@pytest.fixture(scope="module")
def expected() -> dict[str, float]:
    raw = pd.read_parquet(SAMPLE)
    attributed = raw[raw["Customer ID"].notna()]
    return {
        "accounts": attributed["Customer ID"].nunique(),
        "products": attributed["StockCode"].nunique(),
        "orders": len(attributed),
        "skipped": int(raw["Customer ID"].isna().sum()),
        "revenue": float((attributed["Quantity"] * attributed["Price"]).sum()),
        "cancelled": int(attributed["Invoice"].str.startswith("C").sum()),
    }


def test_counts_match_pandas(engine: Engine, expected: dict[str, float]) -> None:
    result = _import(engine)
    assert result.errors == []
    inserted = {t: c.inserted for t, c in result.tables.items()}
    assert inserted == {
        "accounts": expected["accounts"],
        "products": expected["products"],
        "orders": expected["orders"],
    }
    assert result.rows_rejected == expected["skipped"]
    orders = pd.read_sql("SELECT amount, order_number FROM orders", engine)
    assert orders["amount"].sum() == pytest.approx(expected["revenue"], abs=0.01)
    assert (orders["amount"] < 0).sum() == expected["cancelled"]
    countries = pd.read_sql("SELECT region, country FROM accounts", engine)
    codes = dict(zip(countries["region"], countries["country"], strict=True))
    assert codes["Japan"] == "JP" and codes["United Kingdom"] == "GB" and codes["RSA"] == "ZA"
    assert pd.isna(codes["Unspecified"])
    warned = {p.value for p in result.warnings}
    assert "Unspecified" in warned


def test_reimport_changes_nothing(engine: Engine) -> None:
    _import(engine)
    again = _import(engine)
    assert again.inserted == 0 and again.updated == 0
