"""Reporting periods: a calendar month or quarter, given as text or as its first and last day.

Nothing here reads the clock: a period is always named (``2026-09``, ``2026-Q3``) or built from
dates passed in.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from tillage.errors import DataValidationError, ParameterError

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_QUARTER = re.compile(r"^(\d{4})-[Qq]([1-4])$")


@dataclass(frozen=True, order=True)
class Period:
    """The days ``first`` … ``last`` (both included), labelled ``label``."""

    first: dt.date
    last: dt.date
    label: str

    def __post_init__(self) -> None:
        if self.last < self.first:
            raise DataValidationError(
                f"period {self.label}: last day {self.last} is before {self.first}"
            )

    @property
    def close(self) -> dt.date:
        """The day after the last day: MRR "at the close" is the MRR running into it."""
        return self.last + dt.timedelta(days=1)

    @property
    def months(self) -> int:
        """Calendar months the period spans (1 for a month, 3 for a quarter)."""
        return (self.last.year - self.first.year) * 12 + self.last.month - self.first.month + 1

    @property
    def days(self) -> int:
        """Days in the period."""
        return (self.last - self.first).days + 1

    def next(self) -> Period:
        """The period of the same length (in months) that follows this one."""
        return _months_from(self.close, self.months)

    def previous(self) -> Period:
        """The period of the same length (in months) that precedes this one."""
        year, month = self.first.year, self.first.month - self.months
        while month < 1:
            month += 12
            year -= 1
        return _months_from(dt.date(year, month, 1), self.months)


def _months_from(first: dt.date, months: int) -> Period:
    year, month = first.year, first.month + months
    while month > 12:
        month -= 12
        year += 1
    last = dt.date(year, month, 1) - dt.timedelta(days=1)
    if months == 3 and first.month % 3 == 1:
        label = f"{first.year}-Q{(first.month - 1) // 3 + 1}"
    elif months == 1:
        label = f"{first.year}-{first.month:02d}"
    else:
        label = f"{first.isoformat()}..{last.isoformat()}"
    return Period(first, last, label)


FIRST_YEAR, LAST_YEAR = 1900, 2999
"""The years a period, month or business date may fall in (wider than any real business record;
outside it, date arithmetic such as the year before would leave the calendar)."""


def check_year(year: int, what: str) -> None:
    """:class:`~tillage.errors.ParameterError` naming ``what`` unless ``year`` is in
    :data:`FIRST_YEAR` … :data:`LAST_YEAR`."""
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise ParameterError(f"{what}: the year {year:04d} is outside {FIRST_YEAR}–{LAST_YEAR}")


def parse_period(text: str) -> Period:
    """``2026-09`` (a month) or ``2026-Q3`` (a quarter) as a :class:`Period`; a year outside
    :data:`FIRST_YEAR` … :data:`LAST_YEAR` is refused (:class:`~tillage.errors.ParameterError`)."""
    value = text.strip()
    if match := _MONTH.match(value):
        year, month = int(match[1]), int(match[2])
        if not 1 <= month <= 12:
            raise ParameterError(f"period {text!r}: month {month} is not 01–12")
        check_year(year, f"period {text!r}")
        return _months_from(dt.date(year, month, 1), 1)
    if match := _QUARTER.match(value):
        year, quarter = int(match[1]), int(match[2])
        check_year(year, f"period {text!r}")
        return _months_from(dt.date(year, 3 * quarter - 2, 1), 3)
    raise ParameterError(
        f"period {text!r} is neither a month like 2026-09 nor a quarter like 2026-Q3"
    )


def period_containing(day: dt.date, unit: str = "quarter") -> Period:
    """The month or quarter (``unit``) that contains ``day``."""
    if unit == "month":
        return _months_from(dt.date(day.year, day.month, 1), 1)
    if unit == "quarter":
        return _months_from(dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1), 3)
    raise DataValidationError(f"period unit {unit!r}: choose month or quarter")


def trailing(period: Period, count: int) -> list[Period]:
    """``count`` consecutive periods ending with ``period``, oldest first."""
    out = [period]
    for _ in range(count - 1):
        out.append(out[-1].previous())
    return out[::-1]
