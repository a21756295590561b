"""Priority and portfolio cell of every account, as the snapshot stores them.

:func:`rank_accounts` joins the account values (LTV with its interval, churn risk) with the
signals, the expected expansion value and the competitive win probability, then applies
:func:`tillage.strategy.priority.score_priority` (``priority`` 0–100, the percentile of the value
at stake × (1 + urgency), and ``reasons``) and
:func:`tillage.strategy.portfolio.value_growth_portfolio` (``segment`` = deepen / maintain /
nurture / reduce, ``p_cell``, ``borderline``). ``growth`` is the expected expansion value
(currency); ``days_to_renewal`` whole days to the next undecided renewal. The thresholds used
go into the record.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from tillage.strategy.config import Strategy
from tillage.strategy.portfolio import churn_bands, value_growth_portfolio
from tillage.strategy.priority import score_priority


def rank_accounts(
    values: pd.DataFrame,
    signals: pd.DataFrame,
    expansion: pd.DataFrame,
    win_probability: pd.Series,
    strategy: Strategy,
    *,
    previous: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, dict]:
    """One row per account of ``values`` with the priority, segment and the planning inputs.

    ``values``: ``account_id``, ``ltv`` (and ``ltv_low``, ``ltv_high``, ``churn_risk`` when
    known); ``signals``: :func:`tillage.strategy.inputs.account_signals`; ``expansion``:
    ``account_id``, ``expected_expansion_value``; ``win_probability``: account id → the win
    probability of its competitive pipeline; ``previous`` the previous snapshot's ``account_id``,
    ``cell``, ``ltv`` and ``expected_expansion_value`` (the cells' hysteresis and drift, see
    :func:`tillage.strategy.portfolio.value_growth_portfolio`).
    """
    frame = values.merge(signals, on="account_id", how="left", suffixes=("", "_signal"))
    frame = frame.merge(
        expansion[["account_id", "expected_expansion_value"]], on="account_id", how="left"
    )
    frame["expected_expansion_value"] = frame["expected_expansion_value"].astype(float).fillna(0.0)
    frame["win_probability"] = frame["account_id"].map(win_probability).astype(float)
    if "churn_risk" in frame.columns:
        frame["churn_probability"] = frame["churn_risk"].astype(float)
    priority = score_priority(frame, strategy)
    cells = value_growth_portfolio(frame, strategy, previous=previous)
    frame["priority"] = priority["priority"].to_numpy()
    frame["reasons"] = priority["reasons"].to_numpy()
    frame["segment"] = cells["cell"].to_numpy()
    frame["p_cell"] = cells["p_cell"].to_numpy(dtype=float)
    frame["borderline"] = cells["borderline"].to_numpy(dtype=bool)
    frame["growth"] = frame["expected_expansion_value"]
    # the next renewal still to be decided (one whose successor is on file is not due)
    column = (
        "days_to_undecided_renewal"
        if "days_to_undecided_renewal" in frame.columns
        else "days_to_next_renewal"
    )
    days = pd.to_numeric(frame[column], errors="coerce")
    frame["days_to_renewal"] = np.round(days).astype("Int64")
    record = {
        "priority": {
            "formula": "percentile of max(value·ltv + growth·expansion, 0) × (1 + urgency)",
            "weights": strategy.priority.weights.model_dump(),
        },
        "portfolio": {
            "value_threshold": float(cells.attrs["value_threshold"]),
            "growth_threshold": float(cells.attrs["growth_threshold"]),
            "borderline_probability": strategy.portfolio.borderline_probability,
            "hysteresis": strategy.portfolio.hysteresis,
            "value_drift": float(cells.attrs["value_drift"]),
            "growth_drift": float(cells.attrs["growth_drift"]),
            "previous_snapshot": previous is not None,
        },
        "churn_bands": churn_bands(
            frame.get("churn_probability", pd.Series(dtype=float)), strategy
        ),
    }
    return frame, record
