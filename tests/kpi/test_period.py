"""Periods in a fiscal calendar: the text forms, labels, neighbours and the period containing a
day, for a Japanese fiscal year (April) and the calendar year."""

from __future__ import annotations

import datetime as dt

import pytest

from tillage.errors import ParameterError
from tillage.kpi.period import fiscal_year_of, parse_period, period_containing, trailing

D = dt.date


@pytest.mark.parametrize(
    ("text", "fiscal", "first", "last", "label"),
    [
        ("2026-09", 4, D(2026, 9, 1), D(2026, 9, 30), "2026-09"),
        ("FY2026-Q1", 4, D(2026, 4, 1), D(2026, 6, 30), "FY2026-Q1"),
        ("fy2026-q4", 4, D(2027, 1, 1), D(2027, 3, 31), "FY2026-Q4"),
        ("FY2026", 4, D(2026, 4, 1), D(2027, 3, 31), "FY2026"),
        # a calendar quarter keeps its days and takes its fiscal name
        ("2026-Q2", 4, D(2026, 4, 1), D(2026, 6, 30), "FY2026-Q1"),
        ("2026", 4, D(2026, 1, 1), D(2026, 12, 31), "2026"),
        # a calendar quarter off a February fiscal grid keeps its calendar label
        ("2026-Q1", 2, D(2026, 1, 1), D(2026, 3, 31), "2026-Q1"),
        ("FY2026-Q4", 2, D(2026, 11, 1), D(2027, 1, 31), "FY2026-Q4"),
        # the calendar year: FY is the calendar and labels stay calendar ones
        ("FY2026-Q3", 1, D(2026, 7, 1), D(2026, 9, 30), "2026-Q3"),
        ("2026-Q3", 1, D(2026, 7, 1), D(2026, 9, 30), "2026-Q3"),
        ("FY2026", 1, D(2026, 1, 1), D(2026, 12, 31), "2026"),
    ],
)
def test_parse(text: str, fiscal: int, first: dt.date, last: dt.date, label: str) -> None:
    period = parse_period(text, fiscal)
    assert (period.first, period.last, period.label) == (first, last, label)


def test_neighbours_step_by_fiscal_quarters_and_years() -> None:
    q1 = parse_period("FY2026-Q1", 4)
    assert q1.previous().label == "FY2025-Q4" and q1.previous().first == D(2026, 1, 1)
    assert q1.next().label == "FY2026-Q2"
    assert [p.label for p in trailing(parse_period("FY2026-Q2", 4), 3)] == [
        "FY2025-Q4",
        "FY2026-Q1",
        "FY2026-Q2",
    ]
    year = parse_period("FY2026", 4)
    assert (year.previous().label, year.next().first) == ("FY2025", D(2027, 4, 1))


@pytest.mark.parametrize(
    ("day", "fiscal", "unit", "label"),
    [
        (D(2027, 2, 3), 4, "quarter", "FY2026-Q4"),
        (D(2027, 2, 3), 4, "year", "FY2026"),
        (D(2026, 4, 1), 4, "quarter", "FY2026-Q1"),
        (D(2026, 3, 31), 4, "year", "FY2025"),
        (D(2026, 9, 30), 1, "quarter", "2026-Q3"),
        (D(2026, 1, 15), 2, "quarter", "FY2025-Q4"),
        (D(2026, 9, 30), 10, "month", "2026-09"),
    ],
)
def test_period_containing(day: dt.date, fiscal: int, unit: str, label: str) -> None:
    period = period_containing(day, unit, fiscal)
    assert period.label == label and period.first <= day <= period.last


def test_fiscal_year_is_named_by_its_first_calendar_year() -> None:
    assert fiscal_year_of(D(2027, 3, 31), 4) == 2026
    assert fiscal_year_of(D(2027, 4, 1), 4) == 2027


@pytest.mark.parametrize(
    ("text", "fiscal"),
    [("FY2026-Q5", 4), ("2026-13", 1), ("26-Q1", 1), ("FY0001", 4), ("2026", 13)],
)
def test_bad_periods_are_refused(text: str, fiscal: int) -> None:
    with pytest.raises(ParameterError):
        parse_period(text, fiscal)
