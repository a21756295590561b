"""Amounts in several currencies are converted into the reporting currency at import, or refused."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import Engine

from tillage.errors import ConfigurationError
from tillage.ingest import ImportRefused, import_path
from tillage.ingest.currency import Rate, Rates, load_rates

FIXTURES = Path(__file__).parent / "fixtures" / "salesforce_multicurrency"
RATES = [
    Rate("USD", 150.0),
    Rate("PEN", 40.0),
    Rate("MXN", 8.0, dt.date(2024, 1, 1)),
    Rate("MXN", 9.0, dt.date(2025, 1, 1)),
]


@pytest.fixture
def export(tmp_path: Path) -> Path:
    return Path(shutil.copytree(FIXTURES, tmp_path / "WE_00D5g000000MULTI_1"))


def _import(engine: Engine, folder: Path, rates=(), **kwargs):  # type: ignore[no-untyped-def]
    return import_path(
        engine,
        folder,
        as_of=dt.date(2024, 12, 31),
        imported_at=dt.datetime(2025, 1, 1),
        currency="JPY",
        rates=rates,
        **kwargs,
    )


def _deals(engine: Engine) -> pd.DataFrame:
    return pd.read_sql(
        "SELECT key, amount, currency, source_currency, fx_rate FROM opportunities ORDER BY key",
        engine,
    ).set_index("key")


def test_mixed_currencies_without_rates_are_refused_naming_currencies_and_rows(
    engine: Engine, export: Path
) -> None:
    with pytest.raises(ImportRefused) as caught:
        _import(engine, export)
    errors = caught.value.result.errors
    summary = errors[0]
    assert summary.value == "MXN, PEN, USD"
    assert "cannot be converted into JPY" in summary.reason
    by_currency = {p.value: p for p in errors[1:] if p.column == "CurrencyIsoCode"}
    assert set(by_currency) == {"MXN", "PEN", "USD"}
    assert by_currency["USD"].file == "Opportunity.csv"
    assert "rows 3, 6" in by_currency["USD"].reason and "2 rows in USD" in by_currency["USD"].reason
    assert by_currency["PEN"].row == 2
    assert _deals(engine).empty  # nothing written


def test_rates_convert_every_amount_and_keep_the_source(engine: Engine, export: Path) -> None:
    result = _import(engine, export, rates=RATES)
    assert result.errors == []
    deals = _deals(engine)
    assert deals["currency"].unique().tolist() == ["JPY"]
    assert deals.loc["0065g00000DDDDDD01", "amount"] == 37_000 * 40  # PEN
    assert deals.loc["0065g00000DDDDDD02", "amount"] == 10_000 * 150  # USD
    assert deals.loc["0065g00000DDDDDD04", "amount"] == 1_200_000  # already JPY
    assert deals.loc["0065g00000DDDDDD04", "fx_rate"] == 1.0
    # dated rates: the MXN deal closes 2025-02-28, after the 2025 rate starts
    assert deals.loc["0065g00000DDDDDD03", "amount"] == 500_000 * 9
    assert deals.loc["0065g00000DDDDDD03", "source_currency"] == "MXN"
    source = deals["amount"] / deals["fx_rate"]
    assert source.round(2).tolist() == [37_000, 10_000, 500_000, 1_200_000, 2_000]
    # the sum in the reporting currency is a sum of converted amounts, never of raw ones
    assert deals["amount"].sum() == 37_000 * 40 + 12_000 * 150 + 500_000 * 9 + 1_200_000


def test_a_dated_rate_applies_from_its_date(engine: Engine, export: Path) -> None:
    deals = export / "Opportunity.csv"
    deals.write_text(deals.read_text("utf-8").replace("2025-02-28", "2024-12-20"), "utf-8")
    _import(engine, export, rates=RATES)
    assert _deals(engine).loc["0065g00000DDDDDD03", "amount"] == 500_000 * 8


def test_a_date_before_every_dated_rate_has_no_rate(engine: Engine, export: Path) -> None:
    rates = [Rate("USD", 150.0), Rate("PEN", 40.0), Rate("MXN", 9.0, dt.date(2025, 1, 1))]
    deals = export / "Opportunity.csv"
    deals.write_text(deals.read_text("utf-8").replace("2025-02-28", "2024-12-20"), "utf-8")
    with pytest.raises(ImportRefused) as caught:
        _import(engine, export, rates=rates)
    assert [p.value for p in caught.value.result.errors[1:]] == ["MXN"]


def test_reimport_with_the_same_rates_is_unchanged(engine: Engine, export: Path) -> None:
    _import(engine, export, rates=RATES)
    again = _import(engine, export, rates=RATES)
    assert again.tables["opportunities"].inserted == 0
    assert again.tables["opportunities"].unchanged == 5


def test_rates_lookup_prefers_the_dated_rate() -> None:
    rates = Rates("JPY", [*RATES, Rate("MXN", 7.0)])
    currency = pd.Series(["MXN", "MXN", "MXN", "JPY", None], dtype="string")
    dates = pd.Series(pd.to_datetime(["2023-06-01", "2024-06-01", "2025-06-01", None, None]))
    assert rates.lookup(currency, dates).tolist()[:4] == [7.0, 8.0, 9.0, 1.0]
    assert pd.isna(rates.lookup(currency, dates).iloc[4])


def test_rates_files_csv_and_toml(tmp_path: Path) -> None:
    csv = tmp_path / "rates.csv"
    csv.write_text("currency,rate,valid_from\nUSD,150.5,\nEUR,160,2024-04-01\n", "utf-8")
    assert load_rates(csv) == [Rate("USD", 150.5), Rate("EUR", 160.0, dt.date(2024, 4, 1))]
    toml = tmp_path / "strategy.toml"
    toml.write_text(
        'currency = "JPY"\n[[exchange_rates]]\ncurrency = "USD"\nrate = 150.5\n'
        '[[exchange_rates]]\ncurrency = "EUR"\nrate = 160\nvalid_from = 2024-04-01\n',
        "utf-8",
    )
    assert load_rates(toml) == load_rates(csv)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("currency,rate\nUSX,150\n", "rates.csv, row 2: currency 'USX'"),
        ("currency,rate\nUSD,-1\n", "rates.csv, row 2: rate '-1'"),
        ("currency,rate,valid_from\nUSD,150,April\n", "valid_from 'April' is not a date"),
        ("code,value\nUSD,150\n", "needs the columns currency and rate"),
    ],
)
def test_bad_rates_files_name_the_row(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "rates.csv"
    path.write_text(text, "utf-8")
    with pytest.raises(ConfigurationError, match=message):
        load_rates(path)
