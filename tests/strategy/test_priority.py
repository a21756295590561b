"""Priority: value at stake × (1 + urgency), its percentile, and the reasons in both languages."""

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


def test_priority_is_the_value_at_stake_times_one_plus_urgency() -> None:
    out = score_priority(_frame())
    # default weights: value 1, growth 1; urgency churn 1, renewal 0.5, competition,
    # silence and usage decline 0.25
    stake = [12_400_000.0, 1_000_000.0 + 500_000.0, 3_000_000.0]
    urgency = [
        0.1 + 0.5 * 52 / 90 + 0.25 * 1.0 + 0.25 * 0.62,  # silence 94/90 → 1, usage 0.31/0.5
        0.05 + 0.25 * 1.0 + 0.25 * 10 / 90,  # renewal beyond the window; two competitors
        0.6 + 0.25 * 1.0,  # no renewal date, no usage: they add nothing
    ]
    assert out["value_at_stake"].tolist() == pytest.approx(stake)
    assert out["urgency"].tolist() == pytest.approx(urgency)
    value = [v * (1 + u) for v, u in zip(stake, urgency, strict=True)]
    assert out["priority_value"].tolist() == pytest.approx(value)
    # the percentile of the priority value: 1 first, then 3, then 2
    assert out["priority"].tolist() == pytest.approx([100.0, 0.0, 50.0])
    assert out["priority_rank"].tolist() == [1, 3, 2]
    assert out.loc[0, "c_renewal"] == pytest.approx(52 / 90)
    # the reasons split the priority value: urgency first, the value at stake last
    first = out.loc[0, "reasons"]
    assert [r["code"] for r in first] == ["renewal", "silence", "usage_decline", "value"]
    assert first[-1]["contribution"] == pytest.approx(100 / (1 + urgency[0]), abs=0.01)
    assert first[0]["contribution"] == pytest.approx(
        100 * 0.5 * 52 / 90 / (1 + urgency[0]), abs=0.01
    )
    # at most max_reasons (4), the LTV kept: the expansion potential is left out here …
    second = out.loc[1, "reasons"]
    assert [r["code"] for r in second] == ["competition", "churn_risk", "silence", "value"]
    # … and with room for all, the contributions add up to 100 %
    every = score_priority(_frame(), loads_strategy("[priority]\nmax_reasons = 10\n"))
    assert [r["code"] for r in every.loc[1, "reasons"]][-2:] == ["value", "growth"]
    for reasons in every["reasons"]:
        assert sum(r["contribution"] for r in reasons) == pytest.approx(100, abs=0.05)
    assert "competitor on 2 open deals" in out.loc[1, "reasons_en"]
    # missing inputs contribute nothing and never name a reason
    assert "growth" not in [r["code"] for r in out.loc[2, "reasons"]]
    assert out.loc[2, "c_usage_decline"] == 0.0


def test_negative_ltv_puts_nothing_at_stake() -> None:
    frame = pd.DataFrame(
        {
            "account_id": [1, 2, 3],
            "ltv": [-500_000.0, -500_000.0, 2_000_000.0],
            "expected_expansion_value": [0.0, 800_000.0, 0.0],
            "days_to_next_renewal": [10.0, 10.0, np.nan],
        }
    )
    out = score_priority(frame)
    # a loss-making account: no value at stake, priority 0 however urgent, the LTV as reason
    assert out.loc[0, "value_at_stake"] == 0 and out.loc[0, "priority_value"] == 0
    assert out.loc[0, "priority"] == 0 and out.loc[0, "priority_rank"] == 3
    assert out.loc[0, "reasons"] == [{"code": "value", "value": -500_000.0, "contribution": 0.0}]
    assert out.loc[0, "reasons_en"] == "LTV -¥500K"
    # expansion that outweighs the loss leaves the difference at stake, explained without it
    assert out.loc[1, "value_at_stake"] == pytest.approx(300_000.0)
    assert [r["code"] for r in out.loc[1, "reasons"]] == ["renewal", "growth"]
    assert out.loc[2, "priority"] == 100


def test_missing_columns_and_bad_input() -> None:
    out = score_priority(pd.DataFrame({"account_id": [1, 2], "ltv": [1.0, 2.0]}))
    assert out["priority_value"].tolist() == [1.0, 2.0]
    assert out["priority"].tolist() == [0.0, 100.0]
    assert out.loc[1, "reasons"] == [{"code": "value", "value": 2.0, "contribution": 100.0}]
    with pytest.raises(DataValidationError, match="account_id"):
        score_priority(pd.DataFrame({"ltv": [1.0]}))
    nothing = loads_strategy("[priority.weights]\nvalue = 0\ngrowth = 0\n")
    with pytest.raises(DataValidationError, match="value or growth"):
        score_priority(pd.DataFrame({"account_id": [1], "ltv": [1.0]}), nothing)


def test_render_reasons_other_currency() -> None:
    reasons = [{"code": "value", "value": 1_500_000.0}, {"code": "churn_risk", "value": 0.42}]
    assert render_reasons(reasons, "en", "USD") == "LTV $1.5M · churn risk 42%"
