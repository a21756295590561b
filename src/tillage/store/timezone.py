"""Business-local time: every stored date and time is naive and means the business time zone.

Sources give times in many shapes: naive local strings, ISO strings with an offset, UTC epoch
values. :func:`to_business_local` brings them all to naive business-local times, so that an
event at 08:00 JST on 1 April (23:00 UTC on 31 March) is stored as 2024-04-01 08:00 and counted
in April.
"""

from __future__ import annotations

import pandas as pd


def to_business_local(values: pd.Series, timezone: str) -> pd.Series:
    """Convert timestamps to naive business-local datetimes.

    Timezone-aware values are converted to ``timezone`` and made naive; naive values are taken to
    be business-local already and returned unchanged. Strings with mixed offsets are parsed with
    ``utc=True`` first.
    """
    series = values
    if not pd.api.types.is_datetime64_any_dtype(series):
        raw = series.astype("string")
        has_offset = raw.str.contains(r"(?:[+-]\d{2}:?\d{2}|Z)$", regex=True, na=False).any()
        series = pd.to_datetime(raw, utc=bool(has_offset), format="ISO8601")
    if isinstance(series.dtype, pd.DatetimeTZDtype):
        series = series.dt.tz_convert(timezone).dt.tz_localize(None)
    return series


def business_date(values: pd.Series, timezone: str) -> pd.Series:
    """The business-local calendar date of each timestamp (see :func:`to_business_local`)."""
    return to_business_local(values, timezone).dt.normalize()
