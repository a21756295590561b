"""Recency-frequency-monetary summary of a transaction log, as the repeat-buying models need it.

Written once as an ibis expression (:func:`rfm_summary_expr`) so it runs where the data lives —
the in-memory DuckDB backend for a pandas frame, or any ibis backend for a table — and
:func:`rfm_summary` executes it into a pandas frame indexed by customer.

The conventions are those of lifetimes' ``summary_data_from_transaction_data`` (with
``freq="D"`` and ``freq_multiplier`` 7 for weeks), which reproduce the published CDNOW
calibration summary of Fader, Hardie & Lee (2005):

* transactions of a customer on the same **day** are one purchase (amounts summed);
* a day whose net value is negative (only returns or cancellations) is no purchase: its value is
  netted into the customer's latest purchase day before it, the order it reverses, so a return
  lowers the spend without adding a purchase occasion (returns of orders placed before the
  window are dropped);
* only purchases on or before ``calibration_end`` count; the first one is the acquisition;
* ``frequency`` — number of repeat purchase days (purchase days after the first);
* ``recency`` — time from the first to the last purchase;
* ``T`` — time from the first purchase to ``calibration_end``;
* ``monetary_value`` — mean value of the repeat purchase days, 0 when ``frequency`` is 0.

Times are in ``period`` units measured from calendar days: days, weeks of 7 days, or months of
30.4375 days (365.25 / 12), so ``recency`` and ``T`` are multiples of 1/7 for weeks. With
``observation_end``, holdout columns follow: ``frequency_holdout`` (purchase days in
``(calibration_end, observation_end]``), ``monetary_value_holdout`` (their mean value, 0 when
none) and ``duration_holdout`` (the holdout length). Nothing reads the clock.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

import ibis
import pandas as pd
import pyarrow as pa
from ibis.expr.types import Table

from tillage.errors import DataValidationError, Problem
from tillage.features._common import AsOfParameter
from tillage.features._common import day as date_scalar

__all__ = ["PERIOD_DAYS", "rfm_summary", "rfm_summary_expr"]

#: Length of each period in days.
PERIOD_DAYS: dict[str, float] = {"day": 1.0, "week": 7.0, "month": 30.4375}

Period = Literal["day", "week", "month"]
DateLike = dt.date | dt.datetime | pd.Timestamp | str


def _as_date(value: DateLike, name: str) -> dt.date:
    try:
        stamp = pd.Timestamp(value)
    except (TypeError, ValueError) as exc:
        raise DataValidationError(f"{name} {value!r} is not a date: {exc}") from exc
    if pd.isna(stamp):
        raise DataValidationError(f"{name} is missing")
    return stamp.date()


def _net_returns(daily: Table) -> Table:
    """Purchase days with the returns netted in. A day whose net value is negative (returns or
    cancellations only, e.g. Online Retail's ``C`` invoices) is not a purchase occasion; its value
    is added to the customer's latest purchase day on or before it (the order it most plausibly
    reverses). Returns before a customer's first purchase day in ``daily`` reverse purchases
    outside the window and are dropped.

    A return larger than the order it lands on spills back to the orders before it, latest first:
    with ``v_k`` the k-th occasion's netted value and ``P_k = v_1 + … + v_k``, what is left of
    occasion k is ``R_k = v_k + min(0, min_{m>k} P_m − P_k)`` (the deficit arriving from later
    occasions), never below zero for an occasion that passes a deficit on. An occasion is kept
    while something of it is left (``R_k > 0``); one reversed in full — by its own returns or by
    a later return spilling back — is no purchase occasion. An order worth exactly zero that
    nothing reversed (a free sample, CDNOW's $0 lines) remains a purchase occasion. A deficit
    beyond the first occasion reverses purchases before the window and is dropped."""
    purchase = daily.value >= 0
    ordered = ibis.cumulative_window(group_by=daily.customer, order_by=daily.day)
    marked = daily.mutate(
        occasion=ibis.ifelse(purchase, 1, 0).sum().over(ordered),
        purchase_day=ibis.ifelse(purchase, daily.day, ibis.null("date")),
    )
    marked = marked.filter(marked.occasion > 0)
    occasions = marked.group_by(["customer", "occasion"]).aggregate(
        day=marked.purchase_day.max(),
        value=marked.value.sum(),
        returned=(marked.value < 0).any(),
    )
    prefix = ibis.cumulative_window(group_by=occasions.customer, order_by=occasions.occasion)
    occasions = occasions.mutate(total=occasions.value.sum().over(prefix))
    # the occasions after k, as a frame that grows from the last occasion backwards: a frame
    # whose start moves (``rows=(1, None)``) is re-aggregated row by row on PostgreSQL and
    # Spark (quadratic in a customer's occasions: 1.5 of the 3.7 s of the 2,000-account
    # demo's deal history query on PostgreSQL); the minimum is the same
    later = ibis.window(
        group_by=occasions.customer, order_by=ibis.desc(occasions.occasion), rows=(None, -1)
    )
    arriving = ibis.least(occasions.total.min().over(later) - occasions.total, 0.0).fill_null(0.0)
    occasions = occasions.mutate(left=occasions.value + arriving, arriving=arriving)
    # 1e-6: what a sum of cents leaves behind in float64 when an order is returned in full
    kept = occasions.filter(
        (occasions.left > 1e-6) | ((occasions.arriving == 0) & ~occasions.returned)
    )
    return kept.select("customer", "day", value=ibis.greatest(kept.left, 0.0))


def rfm_summary_expr(
    transactions: Table,
    *,
    customer: str,
    date: str,
    amount: str | None = None,
    period: Period = "week",
    calibration_end: DateLike | AsOfParameter,
    observation_end: DateLike | None = None,
    date_format: str | None = None,
) -> Table:
    """The RFM summary as an unexecuted ibis expression (columns as in :func:`rfm_summary`, plus
    the customer column). ``date_format`` (strptime, e.g. ``"%Y%m%d"``) parses a text or integer
    date column; otherwise the column is cast to a date. ``calibration_end`` may be the
    parameter of a query compiled once (:class:`~tillage.features._common.AsOfParameter`),
    without ``observation_end``."""
    if period not in PERIOD_DAYS:
        raise DataValidationError(
            f"period must be one of {', '.join(PERIOD_DAYS)}, got {period!r}",
            [Problem("arguments", None, "period", period, "unknown period")],
        )
    needed = [customer, date, *([amount] if amount is not None else [])]
    missing = [c for c in needed if c not in transactions.columns]
    if missing:
        raise DataValidationError(
            f"the transactions lack column(s) {', '.join(map(repr, missing))}; "
            f"available: {', '.join(map(repr, transactions.columns))}",
            [Problem("transactions", None, c, None, "column is missing") for c in missing],
        )
    if isinstance(calibration_end, AsOfParameter):
        if observation_end is not None:
            raise DataValidationError("a parametrised calibration_end takes no observation_end")
        cal_end: dt.date | AsOfParameter = calibration_end
    else:
        cal_end = _as_date(calibration_end, "calibration_end")
    obs_end = None if observation_end is None else _as_date(observation_end, "observation_end")
    if obs_end is not None and isinstance(cal_end, dt.date) and obs_end < cal_end:
        raise DataValidationError(
            f"observation_end {obs_end} is before calibration_end {cal_end}",
            [Problem("arguments", None, "observation_end", str(obs_end), "before calibration")],
        )
    days = PERIOD_DAYS[period]

    t = transactions
    if date_format is not None:
        day = t[date].cast("string").as_date(date_format)
    else:
        day = t[date].cast("date")
    value = t[amount].cast("float64") if amount is not None else ibis.literal(0.0)
    daily = (
        t.select(customer=t[customer], day=day, value=value)
        .group_by(["customer", "day"])
        .aggregate(value=lambda d: d.value.sum())
    )
    cal_end_lit = date_scalar(cal_end)

    cal = _net_returns(daily.filter(daily.day <= cal_end_lit))
    cal = cal.mutate(first_day=cal.day.min().over(group_by=cal.customer))
    summary = cal.group_by("customer").aggregate(
        first_day=cal.first_day.min(),
        last_day=cal.day.max(),
        purchase_days=cal.count(),
        repeat_value=ibis.ifelse(cal.day > cal.first_day, cal.value, 0.0).sum(),
    )
    frequency = (summary.purchase_days - 1).cast("float64")
    summary = summary.mutate(
        frequency=frequency,
        recency=summary.last_day.delta(summary.first_day, unit="day").cast("float64") / days,
        T=cal_end_lit.delta(summary.first_day, unit="day").cast("float64") / days,
        monetary_value=ibis.ifelse(frequency > 0, summary.repeat_value / frequency, 0.0),
    )
    columns = ["customer", "frequency", "recency", "T"]
    if amount is not None:
        columns.append("monetary_value")
    summary = summary.select(*columns)

    if obs_end is not None and isinstance(cal_end, dt.date):
        hold = _net_returns(
            daily.filter((daily.day > cal_end_lit) & (daily.day <= ibis.literal(obs_end)))
        )
        hold = hold.group_by("customer").aggregate(
            frequency_holdout=hold.count().cast("float64"),
            monetary_value_holdout=hold.value.mean(),
        )
        hold = hold.rename(hold_customer="customer")
        joined = summary.left_join(hold, summary.customer == hold.hold_customer)
        extra = {
            "frequency_holdout": joined.frequency_holdout.fill_null(0.0),
            "duration_holdout": ibis.literal((obs_end - cal_end).days / days),
        }
        if amount is not None:
            extra["monetary_value_holdout"] = joined.monetary_value_holdout.fill_null(0.0)
        summary = joined.select(*columns, **extra)
    return summary.order_by("customer")


def rfm_summary(
    transactions: pd.DataFrame | Table,
    *,
    customer: str,
    date: str,
    amount: str | None = None,
    period: Period = "week",
    calibration_end: DateLike,
    observation_end: DateLike | None = None,
    date_format: str | None = None,
) -> pd.DataFrame:
    """One row per customer who bought on or before ``calibration_end``, indexed by customer:
    ``frequency``, ``recency``, ``T`` (in ``period`` units), ``monetary_value`` when ``amount``
    is given, and the holdout columns when ``observation_end`` is given.

    A pandas frame runs on an in-memory DuckDB backend (``ibis.memtable``); an ibis table runs on
    its own backend.
    """
    if isinstance(transactions, pd.DataFrame):
        # via Arrow: ibis's pandas schema inference trips pandas 3's deprecation warnings
        table = ibis.memtable(pa.Table.from_pandas(transactions, preserve_index=False))
    else:
        table = transactions
    expr = rfm_summary_expr(
        table,
        customer=customer,
        date=date,
        amount=amount,
        period=period,
        calibration_end=calibration_end,
        observation_end=observation_end,
        date_format=date_format,
    )
    frame = expr.to_pyarrow().to_pandas()
    frame = frame.set_index("customer")
    frame.index.name = customer
    return frame
