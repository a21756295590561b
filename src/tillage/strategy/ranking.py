"""Priority and portfolio cell of every account, as the snapshot stores them.

:func:`rank_accounts` joins the account values (LTV with its interval, churn risk) with the
signals, the expected expansion value and the competitive win probability, then applies
:func:`tillage.strategy.priority.score_priority` (``priority`` 0–100, the percentile of the value
at stake × (1 + urgency), and ``reasons``) and
:func:`tillage.strategy.portfolio.value_growth_portfolio` (``segment`` = deepen / maintain /
nurture / reduce, ``p_cell``, ``borderline``). ``growth`` is the expected expansion value
(currency); ``days_to_renewal`` whole days. The thresholds used go into the record.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from tillage.strategy.config import Strategy
from tillage.strategy.portfolio import value_growth_portfolio
from tillage.strategy.priority import score_priority


def rank_accounts(
    values: pd.DataFrame,
    signals: pd.DataFrame,
    expansion: pd.DataFrame,
    win_probability: pd.Series,
    strategy: Strategy,
) -> tuple[pd.DataFrame, dict]:
    """One row per account of ``values`` with the priority, segment and the planning inputs.

    ``values``: ``account_id``, ``ltv`` (and ``ltv_low``, ``ltv_high``, ``churn_risk`` when
    known); ``signals``: :func:`tillage.strategy.inputs.account_signals`; ``expansion``:
    ``account_id``, ``expected_expansion_value``; ``win_probability``: account id → the win
    probability of its competitive pipeline.
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
    cells = value_growth_portfolio(frame, strategy)
    frame["priority"] = priority["priority"].to_numpy()
    frame["reasons"] = priority["reasons"].to_numpy()
    frame["segment"] = cells["cell"].to_numpy()
    frame["p_cell"] = cells["p_cell"].to_numpy(dtype=float)
    frame["borderline"] = cells["borderline"].to_numpy(dtype=bool)
    frame["growth"] = frame["expected_expansion_value"]
    days = pd.to_numeric(frame["days_to_next_renewal"], errors="coerce")
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
        },
    }
    return frame, record
