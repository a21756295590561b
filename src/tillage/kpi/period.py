"""Reporting periods: a month, a quarter or a year, given as text or as its first and last day,
in the company's fiscal calendar.

Nothing here reads the clock: a period is always named or built from dates passed in. The text
forms (``docs/kpi.md``, "Periods"):

* ``2026-09`` — a calendar month;
* ``2026-Q3`` — a calendar quarter (July–September 2026), whatever the fiscal calendar;
* ``2026`` — a calendar year;
* ``FY2026-Q1`` — the first quarter of fiscal year 2026;
* ``FY2026`` — fiscal year 2026.

The fiscal year starts in month ``fiscal_start`` (the strategy file's
``fiscal_year_start_month``, 1–12; 1 = the calendar year) and is **named by the calendar year in
which it starts**, the Japanese 年度 convention: with ``fiscal_start = 4``, FY2026 is
2026-04-01 … 2027-03-31 and FY2026-Q1 is April–June 2026. Quarters and years a period is built
from (the default quarter of a snapshot, ``previous()``, ``next()``) follow the fiscal calendar,
and a period that is a fiscal quarter or year is labelled as one (``FY2026-Q1``).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from tillage.errors import DataValidationError, ParameterError

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_QUARTER = re.compile(r"^(\d{4})-[Qq]([1-4])$")
_YEAR = re.compile(r"^(\d{4})$")
_FISCAL = re.compile(r"^[Ff][Yy](\d{4})(?:-[Qq]([1-4]))?$")


def check_fiscal_start(month: int) -> int:
    """``month`` when it is 1–12 (the first month of the fiscal year), else
    :class:`~tillage.errors.ParameterError`."""
    if not 1 <= int(month) <= 12:
        raise ParameterError(f"fiscal_year_start_month {month}: choose a month 1–12")
    return int(month)


def fiscal_year_of(day: dt.date, fiscal_start: int = 1) -> int:
    """The fiscal year containing ``day``, named by the calendar year it starts in."""
    return day.year if day.month >= fiscal_start else day.year - 1


@dataclass(frozen=True, order=True)
class Period:
    """The days ``first`` … ``last`` (both included), labelled ``label``; ``fiscal_start`` is
    the first month of the fiscal year the period's neighbours and label follow."""

    first: dt.date
    last: dt.date
    label: str
    fiscal_start: int = field(default=1, compare=False)

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
        return _months_from(self.close, self.months, self.fiscal_start)

    def previous(self) -> Period:
        """The period of the same length (in months) that precedes this one."""
        year, month = self.first.year, self.first.month - self.months
        while month < 1:
            month += 12
            year -= 1
        return _months_from(dt.date(year, month, 1), self.months, self.fiscal_start)


def _label(first: dt.date, last: dt.date, months: int, fiscal_start: int) -> str:
    """A fiscal quarter or year as ``FY2026-Q1`` / ``FY2026`` (calendar ones as ``2026-Q3`` /
    ``2026`` when the fiscal year is the calendar year), a month as ``2026-09``, anything else
    as its first and last day."""
    if months == 1:
        return f"{first.year}-{first.month:02d}"
    offset = (first.month - fiscal_start) % 12  # months since the fiscal year began
    if months in (3, 12) and offset % months == 0:
        year = fiscal_year_of(first, fiscal_start)
        quarter = f"-Q{offset // 3 + 1}" if months == 3 else ""
        return f"{year}{quarter}" if fiscal_start == 1 else f"FY{year}{quarter}"
    if months == 3 and first.month % 3 == 1:  # a calendar quarter off the fiscal grid
        return f"{first.year}-Q{(first.month - 1) // 3 + 1}"
    if months == 12 and first.month == 1:  # a calendar year beside a fiscal one
        return str(first.year)
    return f"{first.isoformat()}..{last.isoformat()}"


def _months_from(first: dt.date, months: int, fiscal_start: int = 1) -> Period:
    year, month = first.year, first.month + months
    while month > 12:
        month -= 12
        year += 1
    last = dt.date(year, month, 1) - dt.timedelta(days=1)
    return Period(first, last, _label(first, last, months, fiscal_start), fiscal_start)


FIRST_YEAR, LAST_YEAR = 1900, 2999
"""The years a period, month or business date may fall in (wider than any real business record;
outside it, date arithmetic such as the year before would leave the calendar)."""


def check_year(year: int, what: str) -> None:
    """:class:`~tillage.errors.ParameterError` naming ``what`` unless ``year`` is in
    :data:`FIRST_YEAR` … :data:`LAST_YEAR`."""
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise ParameterError(f"{what}: the year {year:04d} is outside {FIRST_YEAR}–{LAST_YEAR}")


def parse_period(text: str, fiscal_start: int = 1) -> Period:
    """``text`` as a :class:`Period` (the forms in the module doc: ``2026-09``, ``2026-Q3``,
    ``2026``, ``FY2026-Q1``, ``FY2026``) in the fiscal calendar whose year starts in month
    ``fiscal_start``; a year outside :data:`FIRST_YEAR` … :data:`LAST_YEAR` is refused
    (:class:`~tillage.errors.ParameterError`)."""
    fiscal_start = check_fiscal_start(fiscal_start)
    value = text.strip()
    if match := _MONTH.match(value):
        year, month = int(match[1]), int(match[2])
        if not 1 <= month <= 12:
            raise ParameterError(f"period {text!r}: month {month} is not 01–12")
        check_year(year, f"period {text!r}")
        return _months_from(dt.date(year, month, 1), 1, fiscal_start)
    if match := _QUARTER.match(value):
        year, quarter = int(match[1]), int(match[2])
        check_year(year, f"period {text!r}")
        return _months_from(dt.date(year, 3 * quarter - 2, 1), 3, fiscal_start)
    if match := _YEAR.match(value):
        check_year(int(match[1]), f"period {text!r}")
        return _months_from(dt.date(int(match[1]), 1, 1), 12, fiscal_start)
    if match := _FISCAL.match(value):
        year = int(match[1])
        check_year(year, f"period {text!r}")
        if match[2] is None:
            return _months_from(dt.date(year, fiscal_start, 1), 12, fiscal_start)
        month = fiscal_start + 3 * (int(match[2]) - 1)  # may run into the next calendar year
        first = dt.date(year + (month - 1) // 12, (month - 1) % 12 + 1, 1)
        return _months_from(first, 3, fiscal_start)
    raise ParameterError(
        f"period {text!r} is none of a month like 2026-09, a quarter like 2026-Q3, a year like "
        "2026, a fiscal quarter like FY2026-Q1 or a fiscal year like FY2026"
    )


def period_containing(day: dt.date, unit: str = "quarter", fiscal_start: int = 1) -> Period:
    """The month, fiscal quarter or fiscal year (``unit``: ``month``, ``quarter``, ``year``)
    that contains ``day``, in the fiscal calendar starting in month ``fiscal_start``."""
    fiscal_start = check_fiscal_start(fiscal_start)
    if unit == "month":
        return _months_from(dt.date(day.year, day.month, 1), 1, fiscal_start)
    if unit in ("quarter", "year"):
        months = 3 if unit == "quarter" else 12
        offset = (day.month - fiscal_start) % 12 // months * months
        start_year = fiscal_year_of(day, fiscal_start)
        month = fiscal_start + offset
        first = dt.date(start_year + (month - 1) // 12, (month - 1) % 12 + 1, 1)
        return _months_from(first, months, fiscal_start)
    raise DataValidationError(f"period unit {unit!r}: choose month, quarter or year")


def trailing(period: Period, count: int) -> list[Period]:
    """``count`` consecutive periods ending with ``period``, oldest first."""
    out = [period]
    for _ in range(count - 1):
        out.append(out[-1].previous())
    return out[::-1]
