"""The month grid of the simulation and vectorised date helpers.

Internally every date is an integer day number (days since 1970-01-01) and every month an index
into the grid: month 0 is the first month of the history window, month ``n_history - 1`` holds
``as_of``, and the horizon months follow.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Timeline:
    """Month grid covering the history window and the simulated horizon."""

    month_start: np.ndarray  # int64 day numbers, shape (T,)
    month_end: np.ndarray  # int64 day numbers of the last day of each month
    n_history: int
    as_of: int  # day number
    horizon_end: int  # day number of as_of + horizon months

    @classmethod
    def build(cls, as_of: dt.date, history_months: int, horizon_months: int) -> Timeline:
        as_of_month = np.datetime64(as_of, "M")
        months = np.arange(
            as_of_month - (history_months - 1), as_of_month + horizon_months + 1
        )  # one spare month so the horizon end is inside the grid
        start = months.astype("datetime64[D]").astype(np.int64)
        end = (months + 1).astype("datetime64[D]").astype(np.int64) - 1
        as_of_day = int(np.datetime64(as_of, "D").astype(np.int64))
        horizon_end = pd.Timestamp(as_of) + pd.DateOffset(months=horizon_months)
        return cls(
            month_start=start,
            month_end=end,
            n_history=history_months,
            as_of=as_of_day,
            horizon_end=int(np.datetime64(horizon_end.date(), "D").astype(np.int64)),
        )

    @property
    def n_months(self) -> int:
        return len(self.month_start)

    @property
    def start(self) -> int:
        """First day of the history window."""
        return int(self.month_start[0])

    def month_of(self, days: np.ndarray) -> np.ndarray:
        """Grid month index of each day number (-1 before the grid, T-1 clipped after it)."""
        return np.searchsorted(self.month_start, days, side="right") - 1

    def random_day(self, rng: np.random.Generator, months: np.ndarray) -> np.ndarray:
        """A uniformly random day inside each given grid month."""
        length = self.month_end[months] - self.month_start[months] + 1
        return self.month_start[months] + np.floor(rng.random(len(months)) * length).astype(
            np.int64
        )

    def random_business_day(self, rng: np.random.Generator, months: np.ndarray) -> np.ndarray:
        """A random weekday inside each given grid month."""
        days = self.random_day(rng, months).astype("datetime64[D]")
        forward = np.busday_offset(days, 0, roll="forward")
        backward = np.busday_offset(days, 0, roll="backward")
        end = self.month_end[months].astype("datetime64[D]")
        return np.where(forward <= end, forward, backward).astype(np.int64)


def add_months(days: np.ndarray, months: np.ndarray | int) -> np.ndarray:
    """Day numbers shifted by whole calendar months (day of month clipped to the month end)."""
    d = days.astype("datetime64[D]")
    month = d.astype("datetime64[M]")
    day_of_month = (d - month.astype("datetime64[D]")).astype(np.int64)
    target = month + np.asarray(months)
    target_len = ((target + 1).astype("datetime64[D]") - target.astype("datetime64[D]")).astype(
        np.int64
    )
    return target.astype("datetime64[D]").astype(np.int64) + np.minimum(
        day_of_month, target_len - 1
    )


def to_dates(days: np.ndarray) -> np.ndarray:
    """Day numbers to ``datetime64[s]`` (pandas' resolution for plain dates); -1 means NaT."""
    out = np.asarray(days, dtype=np.int64).astype("datetime64[D]").astype("datetime64[s]")
    return out


def to_datetimes(days: np.ndarray, seconds: np.ndarray) -> np.ndarray:
    """Day numbers plus seconds since midnight to naive ``datetime64[s]``."""
    return (np.asarray(days, dtype=np.int64) * 86400 + np.asarray(seconds, np.int64)).astype(
        "datetime64[s]"
    )
