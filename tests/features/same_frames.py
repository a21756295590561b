"""Feature tables compared across engines: counts exactly, amounts to the cent (sums taken in
another order may differ in the last bits)."""

from __future__ import annotations

import numpy as np
import pandas as pd


def assert_same(left: pd.DataFrame, right: pd.DataFrame) -> None:
    """Equal columns, dtypes and rows; floats equal after rounding to cents."""
    assert list(left.columns) == list(right.columns)
    assert (left.dtypes == right.dtypes).all(), (left.dtypes != right.dtypes).to_dict()
    assert len(left) == len(right)
    for column in left.columns:
        a, b = left[column].to_numpy(), right[column].to_numpy()
        if np.issubdtype(a.dtype, np.floating):
            ok = np.isclose(np.round(a, 2), np.round(b, 2), rtol=1e-12, atol=0.011, equal_nan=True)
            assert ok.all(), f"{column}: {a[~ok][:5]} != {b[~ok][:5]}"
        else:
            assert (a == b).all(), f"{column} differs"
