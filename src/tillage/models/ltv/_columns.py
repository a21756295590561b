"""Reading optional numeric columns of the accounts frame."""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import NDArray

__all__ = ["DAYS_PER_MONTH", "column"]

DAYS_PER_MONTH = 30.4375


def column(frame: pd.DataFrame, name: str, default: float) -> NDArray[np.float64]:
    """``frame[name]`` as floats, ``default`` where missing or not a finite number (and for
    every row when the column is absent)."""
    if name not in frame.columns:
        return np.full(len(frame), default, dtype=float)
    values = pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype=float)
    return np.where(np.isfinite(values), values, default)
