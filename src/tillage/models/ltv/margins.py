r"""Margin rates of an account's recurring and order revenue, by product family.

For stream ``s`` (``"contract"`` or ``"order"``) and account ``i`` with revenue ``R_{i,s,f}`` in
product family ``f`` (the revenue mix), the margin rate is the revenue-weighted
:math:`m_{i,s} = \sum_f R_{i,s,f}\, μ(f) / \sum_f R_{i,s,f}`, with ``μ`` the margin per family
(``margin_by_family``; families not in it, and accounts without mix, take its ``"default"``,
else ``default``). A column ``contract_margin_rate`` / ``order_margin_rate`` in the accounts
frame, where finite, wins over the mix: it is the account's observed rate (e.g. from margins
recorded on order lines). All rates are fractions of revenue.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from tillage.errors import DataValidationError
from tillage.models.ltv._columns import column

__all__ = ["STREAMS", "margin_rates"]

STREAMS = ("contract", "order")


def _check_mix(mix: pd.DataFrame) -> pd.DataFrame:
    needed = {"account_id", "stream", "family", "amount"}
    if not isinstance(mix, pd.DataFrame) or not needed <= set(mix.columns):
        raise DataValidationError(
            f"AccountLTV: the revenue mix must be a DataFrame with columns {sorted(needed)}"
        )
    unknown = sorted(set(mix["stream"].astype(str)) - set(STREAMS))
    if unknown:
        raise DataValidationError(
            f"AccountLTV: revenue mix column 'stream' has {unknown}; use 'contract' or 'order'"
        )
    return mix


def margin_rates(
    frame: pd.DataFrame,
    mix: pd.DataFrame | None,
    margin_by_family: Mapping[str, float] | None,
    default: float,
) -> dict[str, NDArray[np.float64]]:
    """``{"contract": m_c, "order": m_o}``, one rate per row of ``frame`` (see the module
    docstring). ``mix`` has ``account_id``, ``stream``, ``family`` and ``amount`` (currency)."""
    table = dict(margin_by_family or {})
    fallback = float(table.get("default", default))
    out: dict[str, NDArray[np.float64]] = {}
    by_account: dict[str, pd.Series] = {}
    if mix is not None and len(mix) and table:
        mix = _check_mix(mix)
        amount = pd.to_numeric(mix["amount"], errors="coerce").fillna(0.0).clip(lower=0.0)
        rate = mix["family"].map(table).astype(float).fillna(fallback)
        parts = pd.DataFrame(
            {
                "account_id": mix["account_id"],
                "stream": mix["stream"].astype(str),
                "amount": amount,
                "weighted": amount * rate,
            }
        )
        sums = parts.groupby(["stream", "account_id"])[["weighted", "amount"]].sum()
        rates = sums["weighted"] / sums["amount"].where(sums["amount"] > 0)
        for stream in STREAMS:
            if stream in rates.index.get_level_values(0):
                by_account[stream] = rates.xs(stream, level=0).dropna()
    for stream in STREAMS:
        observed = column(frame, f"{stream}_margin_rate", np.nan)
        family = (
            frame["account_id"].map(by_account[stream]).to_numpy(dtype=float)
            if stream in by_account
            else np.full(len(frame), np.nan)
        )
        out[stream] = np.where(
            np.isfinite(observed), observed, np.where(np.isfinite(family), family, fallback)
        )
    return out
