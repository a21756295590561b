"""A first portfolio: A / B / C zones by account value.

Accounts are ranked by value (LTV, currency); the top ``a_share`` of accounts form zone A, the
next ``b_share`` zone B, the rest zone C. Ties are broken by the order of the input, so the
assignment is deterministic.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from tillage.errors import ConfigurationError


def assign_zones(value: pd.Series, *, a_share: float = 0.2, b_share: float = 0.3) -> pd.Series:
    """Zone 'A', 'B' or 'C' per account, by descending ``value``."""
    if not (0 < a_share < 1 and 0 <= b_share < 1 and a_share + b_share <= 1):
        raise ConfigurationError(
            f"zone shares must be fractions with A + B <= 1, got A={a_share}, B={b_share}"
        )
    n = len(value)
    order = np.argsort(-value.to_numpy(dtype=float), kind="stable")
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n)
    n_a = round(n * a_share)
    n_b = round(n * (a_share + b_share))
    zones = np.where(rank < n_a, "A", np.where(rank < n_b, "B", "C"))
    return pd.Series(zones, index=value.index, name="zone")
