"""Priority: the weighted components, their order, and the reasons in both languages."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tillage.errors import DataValidationError
from tillage.strategy.config import loads_strategy
from tillage.strategy.priority import render_reasons, score_priority


def _frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "account_id": [1, 2, 3],
            "ltv": [12_400_000.0, 1_000_000.0, 3_000_000.0],
            "expected_expansion_value": [0.0, 500_000.0, np.nan],
            "churn_probability": [0.1, 0.05, 0.6],
            "days_to_next_renewal": [38.0, 300.0, np.nan],
            "open_with_competitor": [0, 2, 0],
            "days_since_last_meeting": [94.0, 10.0, 200.0],
            "usage_trend": [-0.31, 0.1, np.nan],
        }
    )


def test_reasons_read_as_in_the_brief() -> None:
    strategy = loads_strategy(
        "[priority]\nmax_reasons = 4\n[priority.weights]\n"
        "value = 1\ngrowth = 0\nchurn_risk = 0\nrenewal = 3\ncompetition = 0\n"
        "silence = 1.2\nusage_decline = 2\n"
    )
    out = score_priority(_frame(), strategy)
    first = out.iloc[0]
    assert [r["code"] for r in first["reasons"]] == ["renewal", "usage_decline", "silence", "value"]
    assert (
        first["reasons_en"]
        == "renewal in 38 days · usage down 31% · no meeting for 94 days · LTV ¥12.4M"
    )
    assert first["reasons_ja"] == "更新まで38日 · 利用 31%減 · 94日間商談なし · LTV ￥1240万"


def test_score_is_the_weighted_mean_of_the_components() -> None:
    out = score_priority(_frame())
    weights = {"value": 3, "growth": 2, "churn_risk": 3, "renewal": 2, "competition": 1,
               "silence": 1, "usage_decline": 1}  # fmt: skip
    # account 1: value rank 1, growth rank 0 (of two), churn 0.1, renewal (90-38)/90,
    # silence 94/90 -> 1, usage 0.31/0.5
    parts = {"value": 1.0, "growth": 0.0, "churn_risk": 0.1, "renewal": 52 / 90,
             "competition": 0.0, "silence": 1.0, "usage_decline": 0.62}  # fmt: skip
    expected = 100 * sum(weights[k] * parts[k] for k in parts) / sum(weights.values())
    assert out.loc[0, "priority"] == pytest.approx(expected)
    assert sorted(out["priority_rank"]) == [1, 2, 3]
    assert out.loc[out["priority"].idxmax(), "priority_rank"] == 1
    # missing inputs contribute nothing and never name a reason
    assert out.loc[2, "c_growth"] == 0.0
    assert "growth" not in [r["code"] for r in out.loc[2, "reasons"]]
    assert "competitor on 2 open deals" in out.loc[1, "reasons_en"]


def test_missing_columns_and_bad_input() -> None:
    out = score_priority(pd.DataFrame({"account_id": [1, 2], "ltv": [1.0, 2.0]}))
    assert out["priority"].tolist() == pytest.approx([0.0, 100 * 3 / 13])
    with pytest.raises(DataValidationError, match="account_id"):
        score_priority(pd.DataFrame({"ltv": [1.0]}))


def test_render_reasons_other_currency() -> None:
    reasons = [{"code": "value", "value": 1_500_000.0}, {"code": "churn_risk", "value": 0.42}]
    assert render_reasons(reasons, "en", "USD") == "LTV $1.5M · churn risk 42%"
