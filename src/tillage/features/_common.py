"""Helpers shared by the feature families: the as-of date, windows, day counts.

Every family is a function ``(con, as_of, ...) -> ibis Table`` with one row per account that has
any data in the family and an ``account_id`` column; :mod:`tillage.features.build` joins them on
the accounts. Window bounds are computed here in Python from ``as_of`` and sent as literals, so
the SQL is the same on every engine and nothing reads the clock.

Conventions: a window of ``N`` days is the days ``(as_of − N, as_of]``, both as dates; a dated row
is known on ``as_of`` when its date is on or before ``as_of``; a timestamp when it is before the
midnight that ends ``as_of``.
"""

from __future__ import annotations

import datetime as dt

import ibis
import pandas as pd
from ibis.expr.types import Column, Scalar

from tillage.errors import DataValidationError

DAYS_PER_MONTH = 30.4375
"""Days in an average month (365.25 / 12): months of tenure and terms are this long."""


def as_date(value: dt.date | dt.datetime | pd.Timestamp | str, name: str = "as_of") -> dt.date:
    """``value`` as a date; a clear error when it is not one."""
    try:
        stamp = pd.Timestamp(value)
    except (TypeError, ValueError) as exc:
        raise DataValidationError(f"{name} {value!r} is not a date: {exc}") from exc
    if pd.isna(stamp):
        raise DataValidationError(f"{name} is missing")
    return stamp.date()


def day(value: dt.date) -> Scalar:
    """A date literal."""
    return ibis.literal(value, type="date")


def end_of(value: dt.date) -> Scalar:
    """The midnight that ends ``value``, as a timestamp literal."""
    stamp = dt.datetime.combine(value + dt.timedelta(days=1), dt.time())
    return ibis.literal(stamp, type="timestamp")


def days_between(later: Column | Scalar, earlier: Column | Scalar) -> Column:
    """Whole days from ``earlier`` to ``later`` (dates), as float64."""
    return later.delta(earlier, unit="day").cast("float64")


def in_window(column: Column, as_of: dt.date, days: int) -> Column:
    """``column`` (a date) lies in ``(as_of − days, as_of]``."""
    return (column > day(as_of - dt.timedelta(days=days))) & (column <= day(as_of))


def stamp_in_window(column: Column, as_of: dt.date, days: int) -> Column:
    """``column`` (a timestamp) lies on one of the days ``(as_of − days, as_of]``."""
    return (column >= end_of(as_of - dt.timedelta(days=days))) & (column < end_of(as_of))


def count_if(condition: Column) -> Scalar:
    """Number of rows where ``condition`` holds (0 when none)."""
    return ibis.ifelse(condition, 1, 0).sum()


def sum_if(condition: Column, value: Column) -> Scalar:
    """Sum of ``value`` where ``condition`` holds (0 when none)."""
    return ibis.ifelse(condition, value, 0.0).sum()


def money(column: Column) -> Column:
    """An amount column as float64 (PostgreSQL stores NUMERIC)."""
    return column.cast("float64")
