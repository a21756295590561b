"""Patterns of the parameters that routes and pages share, so that the API and a page accept
the same input. Values that match but are out of range (a year 0000) are refused by the
services with :class:`~tillage.errors.DataValidationError` (422 / a message / exit 2)."""

from __future__ import annotations

PERIOD_PATTERN = r"^([Ff][Yy])?\d{4}(-([Qq][1-4]|(0[1-9]|1[0-2])))?$"
"""A month (2026-09), a quarter (2026-Q3, 2026-q3), a year (2026), a fiscal quarter (FY2026-Q1)
or a fiscal year (FY2026): :func:`tillage.kpi.period.parse_period`."""

MONTH_PATTERN = r"^\d{4}-(0[1-9]|1[0-2])$"
"""A month (2026-10)."""
