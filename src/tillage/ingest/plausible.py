"""Plausibility of imported values: what a column's type can hold, and what the data itself says.

Three checks, run by :mod:`tillage.ingest.validate` on every import and identical whatever the
database (they run before anything is written):

* **finite**: ``inf``, ``-inf`` and ``NaN`` spelled out in a cell are refused in every number
  column;
* **capacity**: a value must fit the store's column — money is ``NUMERIC(18, 2)``, so
  ``|x| < 10¹⁶``; integers are 32-bit (``|x| ≤ 2³¹ − 1``); floats must be finite;
* **outliers** (money columns): with ``n`` values in the column, the reference ``r`` is the
  99.9th percentile of ``|x|`` after setting aside the ``k = ⌈n / 1000⌉`` largest (so the value
  under suspicion cannot raise its own yardstick); a value with ``|x| > factor · r`` is refused.
  ``factor`` defaults to 1,000 (a mapping's ``outlier_factor`` changes it or, set to 0, turns
  the check off). Columns with fewer than ``MIN_ROWS`` non-zero values are not judged.

Text columns refuse NUL and other control characters (tab, line feed and carriage return
excepted): PostgreSQL cannot store NUL, and SQLite would keep a value no screen shows.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from sqlalchemy import Column, Float, Integer, Numeric

MONEY_LIMIT = 1e16  # NUMERIC(18, 2): 16 digits before the point
INT_LIMIT = 2**31 - 1
DEFAULT_OUTLIER_FACTOR = 1000.0
MIN_ROWS = 20
CONTROL_CHARACTERS = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]"


def capacity(column: Column) -> float | None:
    """The largest magnitude ``column`` can store (``None``: no limit short of infinity)."""
    if isinstance(column.type, Numeric) and not isinstance(column.type, Float):
        precision = column.type.precision or 18
        scale = column.type.scale or 0
        return 10.0 ** (precision - scale)
    if isinstance(column.type, Integer):
        return float(INT_LIMIT)
    return None


def is_money(column: Column) -> bool:
    """A currency amount column (``NUMERIC`` with two decimals)."""
    return isinstance(column.type, Numeric) and not isinstance(column.type, Float)


def outlier_reference(values: pd.Series) -> float | None:
    """The yardstick ``r`` of the outlier check (see the module), or ``None`` with too few
    values to judge."""
    magnitude = np.abs(values.dropna().to_numpy(dtype=float))
    magnitude = magnitude[np.isfinite(magnitude) & (magnitude > 0)]
    n = len(magnitude)
    if n < MIN_ROWS:
        return None
    set_aside = math.ceil(n / 1000)
    kept = np.sort(magnitude)[: n - set_aside]
    reference = float(np.quantile(kept, 0.999))
    return reference if reference > 0 else None


def finite(values: pd.Series) -> pd.Series:
    """Cells that are empty or finite numbers."""
    return values.isna() | np.isfinite(values.astype(float))


def within(values: pd.Series, limit: float) -> pd.Series:
    """Cells that are empty, not finite (reported apart), or of magnitude below ``limit``."""
    numbers = values.astype(float)
    return (values.isna() | ~np.isfinite(numbers) | (numbers.abs() < limit)).astype(bool)


def no_control_characters(values: pd.Series) -> pd.Series:
    """Cells without NUL or other control characters."""
    text = values.astype("string")
    found = text.str.contains(CONTROL_CHARACTERS, regex=True)
    return ~found.fillna(False).astype(bool)
