"""Helpers shared by the feature families: the as-of date, windows, day counts.

Every family is a function ``(con, as_of, ...) -> ibis Table`` with one row per account that has
any data in the family and an ``account_id`` column; :mod:`tillage.features.build` joins them on
the accounts. Window bounds are computed here in Python from ``as_of`` and sent as literals, so
the SQL is the same on every engine and nothing reads the clock.

Conventions: a window of ``N`` days is the days ``(as_of − N, as_of]``, both as dates; a dated row
is known on ``as_of`` when its date is on or before ``as_of``; a timestamp when it is before the
midnight that ends ``as_of``.

A family may also be given an :class:`AsOfParameter` instead of a date: the same expression is
then built once with ibis scalar parameters in place of the date literals, and
:class:`tillage.features.dated.DatedQuery` compiles it once and runs it for any date.
"""

from __future__ import annotations

import datetime as dt

import ibis
import pandas as pd
from ibis.expr.types import Column, Scalar

from tillage.errors import DataValidationError

#: First sentinel value of the date parameters (:meth:`AsOfParameter.sentinels`); the k-th
#: parameter of a query takes the k-th day after it. No store holds dates of that year.
SENTINEL_DAY = dt.date(1111, 1, 1)

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


class AsOfParameter:
    """The as-of date of a feature query as ibis scalar parameters (``ibis.param``).

    ``as_of ± timedelta`` shifts it by whole days, as it shifts a date; :func:`day` and
    :func:`end_of` turn it into one parameter per derived date (``as_of − 365 days`` as a date,
    the midnight that ends ``as_of`` as a timestamp …), shared by every shifted copy. Each
    parameter stands for the literal the same call on a date would give, so an expression
    built on the parameter and bound to a date (:meth:`bind`) compiles to the SQL the
    expression built on that date compiles to: nothing is computed differently in SQL.
    """

    def __init__(self, offset_days: int = 0, _params: dict | None = None) -> None:
        self.offset_days = offset_days
        self._params: dict[tuple[str, int], Scalar] = {} if _params is None else _params

    def __add__(self, delta: dt.timedelta) -> AsOfParameter:
        return AsOfParameter(self.offset_days + delta.days, self._params)

    def __sub__(self, delta: dt.timedelta) -> AsOfParameter:
        return AsOfParameter(self.offset_days - delta.days, self._params)

    def param(self, kind: str) -> Scalar:
        """The parameter of this offset: ``"date"`` (the day) or ``"end"`` (its end)."""
        key = (kind, self.offset_days)
        if key not in self._params:
            self._params[key] = ibis.param("date" if kind == "date" else "timestamp")
        return self._params[key]

    def bind(self, as_of: dt.date) -> dict[Scalar, dt.date | dt.datetime]:
        """The value of every parameter used so far when the as-of date is ``as_of``."""
        return {
            param: _value(kind, as_of + dt.timedelta(days=offset))
            for (kind, offset), param in self._params.items()
        }

    def sentinels(self) -> dict[Scalar, dt.date | dt.datetime]:
        """A distinct stand-in value per parameter (days from :data:`SENTINEL_DAY` on)."""
        return {
            param: _value(kind, SENTINEL_DAY + dt.timedelta(days=2 * k))
            for k, ((kind, _), param) in enumerate(self._params.items())
        }


def _value(kind: str, value: dt.date) -> dt.date | dt.datetime:
    if kind == "date":
        return value
    return dt.datetime.combine(value + dt.timedelta(days=1), dt.time())


AsOf = dt.date | AsOfParameter
"""An as-of date, or the parameter that stands for it in a query compiled once."""


def as_of_date(value: AsOf | dt.datetime | pd.Timestamp | str) -> AsOf:
    """:func:`as_date` of ``value``; an :class:`AsOfParameter` is kept as it is."""
    return value if isinstance(value, AsOfParameter) else as_date(value)


def day(value: AsOf) -> Scalar:
    """A date literal (the parameter of that day for an :class:`AsOfParameter`)."""
    if isinstance(value, AsOfParameter):
        return value.param("date")
    return ibis.literal(value, type="date")


def end_of(value: AsOf) -> Scalar:
    """The midnight that ends ``value``, as a timestamp literal (or parameter)."""
    if isinstance(value, AsOfParameter):
        return value.param("end")
    stamp = dt.datetime.combine(value + dt.timedelta(days=1), dt.time())
    return ibis.literal(stamp, type="timestamp")


def days_between(later: Column | Scalar, earlier: Column | Scalar) -> Column:
    """Whole days from ``earlier`` to ``later`` (dates), as float64."""
    return later.delta(earlier, unit="day").cast("float64")


def in_window(column: Column, as_of: AsOf, days: int) -> Column:
    """``column`` (a date) lies in ``(as_of − days, as_of]``."""
    return (column > day(as_of - dt.timedelta(days=days))) & (column <= day(as_of))


def stamp_in_window(column: Column, as_of: AsOf, days: int) -> Column:
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
