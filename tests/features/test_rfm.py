"""RFM summary from a transaction log.

The published-value test reproduces the CDNOW 39-week calibration summary of Fader, Hardie & Lee
(2005), "Counting your customers the easy way" (as shipped with lifetimes 0.11.3 and BTYD:
frequency, recency and T in weeks, rounded to two decimals; zbar, the mean repeat transaction
value, in "RFM and CLV: Using Iso-Value Curves") from the raw CDNOW sample transactions.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import ibis
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from tillage.errors import DataValidationError
from tillage.features.rfm import rfm_summary, rfm_summary_expr

CDNOW = Path(__file__).resolve().parents[1] / "data" / "cdnow"


@pytest.fixture(scope="module")
def transactions() -> pd.DataFrame:
    return pd.read_csv(CDNOW / "cdnow_sample_transactions.csv")


@pytest.fixture(scope="module")
def summary(transactions: pd.DataFrame) -> pd.DataFrame:
    return rfm_summary(
        transactions,
        customer="sample_customer_id",
        date="date",
        amount="dollar_value",
        period="week",
        calibration_end="1997-09-30",
        observation_end="1998-06-30",
        date_format="%Y%m%d",
    )


def test_reproduces_published_cdnow_summary(summary: pd.DataFrame) -> None:
    published = pd.read_csv(CDNOW / "cdnow_customers_summary.csv", index_col="ID")
    assert len(summary) == 2357
    assert list(summary.index) == list(published.index)
    np.testing.assert_array_equal(summary["frequency"], published["frequency"])
    # the published file is rounded to two decimals
    np.testing.assert_array_equal(summary["recency"].round(2), published["recency"])
    np.testing.assert_array_equal(summary["T"].round(2), published["T"])
    np.testing.assert_allclose(summary["recency"], published["recency"], atol=0.005)


def test_reproduces_published_mean_repeat_value(summary: pd.DataFrame) -> None:
    published = pd.read_csv(CDNOW / "cdnow_customers_summary_with_transactions.csv", index_col=0)
    np.testing.assert_allclose(summary["monetary_value"], published["zbar"], atol=0.005 + 1e-9)
    assert (summary.loc[summary["frequency"] == 0, "monetary_value"] == 0).all()


def test_holdout_columns(summary: pd.DataFrame, transactions: pd.DataFrame) -> None:
    days = pd.to_datetime(transactions["date"].astype(str), format="%Y%m%d")
    log = transactions.assign(day=days)
    log = log[log["day"] <= "1998-06-30"]
    distinct_days = log.groupby("sample_customer_id")["day"].nunique()
    total = summary["frequency"] + summary["frequency_holdout"] + 1
    np.testing.assert_array_equal(total, distinct_days.loc[summary.index])
    assert summary["duration_holdout"].unique().tolist() == [273 / 7]


def _log() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "account": ["a", "a", "a", "a", "b", "c", "a"],
            "when": pd.to_datetime(
                [
                    "2024-01-01 09:00",
                    "2024-01-01 17:30",  # same day as the first: one purchase
                    "2024-01-15 10:00",
                    "2024-01-29 00:00",
                    "2024-01-10 00:00",
                    "2024-03-01 00:00",  # first purchase after calibration end: not a customer yet
                    "2024-02-20 00:00",  # after calibration end: ignored
                ]
            ),
            "amount": [10.0, 5.0, 20.0, 40.0, 7.0, 3.0, 99.0],
        }
    )


def _by_account(frame: pd.DataFrame | ibis.Table | None = None, **options: Any) -> pd.DataFrame:
    """:func:`rfm_summary` of ``frame`` (default :func:`_log`) by ``account`` and ``when``."""
    return rfm_summary(
        _log() if frame is None else frame, customer="account", date="when", **options
    )


@pytest.mark.parametrize(("period", "days"), [("day", 1.0), ("week", 7.0), ("month", 30.4375)])
def test_small_log_by_hand(period: str, days: float) -> None:
    out = _by_account(amount="amount", period=period, calibration_end=dt.date(2024, 1, 31))
    assert list(out.index) == ["a", "b"]
    assert out.index.name == "account"
    a, b = out.loc["a"], out.loc["b"]
    assert a["frequency"] == 2
    assert a["recency"] == pytest.approx(28 / days)
    assert a["T"] == pytest.approx(30 / days)
    assert a["monetary_value"] == pytest.approx(30.0)  # mean of 20 and 40; first day excluded
    assert (b["frequency"], b["recency"], b["monetary_value"]) == (0, 0, 0)
    assert b["T"] == pytest.approx(21 / days)


def test_without_amount_has_no_monetary_column() -> None:
    out = _by_account(calibration_end="2024-01-31")
    assert list(out.columns) == ["frequency", "recency", "T"]


def test_accepts_an_ibis_table() -> None:
    table = ibis.memtable(pa.Table.from_pandas(_log(), preserve_index=False))
    expr = rfm_summary_expr(
        table, customer="account", date="when", amount="amount", calibration_end="2024-01-31"
    )
    assert isinstance(expr, ibis.expr.types.Table)
    from_table = _by_account(table, amount="amount", calibration_end="2024-01-31")
    from_frame = _by_account(amount="amount", calibration_end="2024-01-31")
    pd.testing.assert_frame_equal(from_table, from_frame)


def test_missing_column_is_named() -> None:
    with pytest.raises(DataValidationError, match="'amount_jpy'"):
        _by_account(amount="amount_jpy", calibration_end="2024-1-31")


def test_observation_end_before_calibration_end_is_refused() -> None:
    with pytest.raises(DataValidationError, match="observation_end"):
        _by_account(calibration_end="2024-01-31", observation_end="2024-01-01")


def test_unknown_period_is_refused() -> None:
    with pytest.raises(DataValidationError, match="period"):
        _by_account(calibration_end="2024-01-31", period="year")


def _invoice_lines() -> pd.DataFrame:
    """Online Retail II-style lines: ``C`` invoices are cancellations with negative quantity."""
    rows = [
        # customer, invoice, day, quantity, price
        ("A", "489434", "2010-01-04", 10, 2.0),  # first purchase, 20
        ("A", "489500", "2010-01-11", 5, 4.0),  # repeat purchase, 20
        ("A", "C489501", "2010-01-12", -2, 4.0),  # returns 8 of it: no purchase occasion
        ("A", "489600", "2010-02-01", 3, 10.0),  # repeat purchase, 30
        ("A", "489601", "2010-02-01", 1, 5.0),  # same day: one occasion, 35 in all
        ("B", "C489000", "2010-01-02", -4, 5.0),  # returns an order from before the window
        ("B", "489700", "2010-01-20", 1, 50.0),  # first purchase
        ("C", "489800", "2010-01-05", 2, 10.0),  # first purchase, 20
        ("C", "489900", "2010-01-19", 1, 30.0),  # repeat purchase, 30
        ("C", "C489901", "2010-01-25", -1, 30.0),  # cancels it: net repeat spend 0
    ]
    frame = pd.DataFrame(rows, columns=["customer", "invoice", "day", "quantity", "price"])
    frame["day"] = pd.to_datetime(frame["day"])
    frame["amount"] = frame["quantity"] * frame["price"]
    return frame


def _netted(**ends: str) -> pd.DataFrame:
    """The daily summary of :func:`_invoice_lines` with the calibration (observation) ``ends``."""
    return rfm_summary(
        _invoice_lines(), customer="customer", date="day", amount="amount", period="day", **ends
    )


def test_cancellations_are_netted_not_counted_as_purchases() -> None:
    summary = _netted(calibration_end="2010-02-28")
    a, b, c = summary.loc["A"], summary.loc["B"], summary.loc["C"]
    # A: purchase days 01-04, 01-11 and 02-01; the 01-12 cancellation is netted into 01-11
    assert a["frequency"] == 2
    assert a["recency"] == 28  # 01-04 -> 02-01, the cancellation day is not a purchase
    assert a["monetary_value"] == pytest.approx(((20 - 8) + 35) / 2)
    # B: the return of an order placed before the window is not a purchase (T from 01-20)
    assert b["frequency"] == 0 and b["T"] == (dt.date(2010, 2, 28) - dt.date(2010, 1, 20)).days
    # C: the repeat order was cancelled in full: no repeat occasion, never a negative one
    assert c["frequency"] == 0 and c["monetary_value"] == 0


def _late_return() -> pd.DataFrame:
    rows = [
        ("D", "1", "2010-01-04", 100, 10.0),  # first order, 1,000
        ("D", "2", "2010-01-10", 5, 10.0),  # repeat order, 50
        ("D", "C3", "2010-01-20", -90, 10.0),  # returns 900 of the first order
        ("D", "4", "2010-02-01", 2, 10.0),  # repeat order, 20
        ("E", "1", "2010-01-04", 0, 1.0),  # a free sample: an occasion worth 0
        ("E", "2", "2010-01-10", 3, 10.0),  # repeat order, 30
    ]
    frame = pd.DataFrame(rows, columns=["customer", "invoice", "day", "quantity", "price"])
    frame["day"] = pd.to_datetime(frame["day"])
    frame["amount"] = frame["quantity"] * frame["price"]
    return frame


def _spilled(lines: Any) -> pd.DataFrame:
    return rfm_summary(
        lines,
        customer="customer",
        date="day",
        amount="amount",
        period="day",
        calibration_end="2010-02-28",
    )


def test_a_late_return_spills_back_to_the_order_it_reverses() -> None:
    """A big first order, a small repeat order, then the first order returned: the return is
    larger than the repeat order it lands on, so the rest spills back to the first order. One
    occasion is left, worth what was kept — never a negative repeat order."""
    summary = _spilled(_late_return())
    d, e = summary.loc["D"], summary.loc["E"]
    # D: 1,000 + 50 − 900 leaves 150 on the first occasion; the 01-10 order is consumed;
    # the 02-01 order is the one repeat occasion, worth 20
    assert d["frequency"] == 1 and d["monetary_value"] == 20
    assert d["recency"] == 28
    # E: the zero-value first order is kept (nothing reversed it); one repeat worth 30
    assert e["frequency"] == 1 and e["monetary_value"] == 30


@pytest.mark.postgres
def test_returns_spill_back_the_same_inside_postgresql(pg_database_url: str) -> None:
    """The spill-back (a window over the occasions after each one) gives the same summary when
    the query runs inside PostgreSQL as on DuckDB."""
    from tillage.features.engine import connect

    con = connect(pg_database_url)
    try:
        lines = con.create_table("lines", _late_return()[["customer", "day", "amount"]])
        inside = _spilled(lines)
    finally:
        con.disconnect()
    pd.testing.assert_frame_equal(inside, _spilled(_late_return()), check_dtype=False)
    assert inside.loc["D", "monetary_value"] == 20 and inside.loc["D", "frequency"] == 1


def test_returns_after_calibration_end_do_not_leak_into_calibration() -> None:
    summary = _netted(calibration_end="2010-01-20", observation_end="2010-02-28")
    # C's cancellation on 01-25 lies after the calibration end: the repeat order still counts 30
    assert summary.loc["C", "monetary_value"] == 30
    # and it is no holdout purchase either (it reverses a calibration order)
    assert summary.loc["C", "frequency_holdout"] == 0
    # A's holdout purchase day 02-01 is counted once
    assert summary.loc["A", "frequency_holdout"] == 1
