"""Priority: value at stake × (1 + urgency), its percentile, and the reasons in both languages."""

from __future__ import annotations

import datetime as dt

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
    # by share of the priority: renewal 3 × 52/90, silence 1.2, LTV 1, usage 2 × 0.16/0.35
    assert [r["code"] for r in first["reasons"]] == ["renewal", "silence", "value", "usage_decline"]
    assert first["reasons_en"] == (
        "renewal in 38 days · no meeting for 94 days (≥ 60 days) · LTV ¥12.4M · "
        "usage down 31% (beyond the 15% noise)"
    )
    assert first["reasons_ja"] == (
        "更新まで38日 · 94日間商談なし（基準60日） · LTV ￥1,240万 · 利用 31%減（変動幅15%超）"
    )


def test_priority_is_value_at_stake_times_urgency_times_actionability() -> None:
    out = score_priority(_frame())
    # default weights: value 1, growth 1; urgency churn 1, renewal 0.5, competition,
    # silence and usage decline 0.25 (silence from 60 days, usage beyond the 15% noise)
    stake = [12_400_000.0, 1_000_000.0 + 500_000.0, 3_000_000.0]
    urgency = [
        0.1 + 0.5 * 52 / 90 + 0.25 * 1.0 + 0.25 * (0.31 - 0.15) / 0.35,
        0.05 + 0.25 * 1.0,  # renewal beyond the window; 10 days of silence is no urgency
        0.6 + 0.25 * 1.0,  # no renewal date, no usage: they add nothing
    ]
    assert out["value_at_stake"].tolist() == pytest.approx(stake)
    assert out["urgency"].tolist() == pytest.approx(urgency)
    value = [v * (1 + u) for v, u in zip(stake, urgency, strict=True)]
    assert out["priority_value"].tolist() == pytest.approx(value)
    assert out["actionability"].tolist() == [1.0, 1.0, 1.0]
    # the percentile of the priority value: 1 first, then 3, then 2
    assert out["priority"].tolist() == pytest.approx([100.0, 0.0, 50.0])
    assert out["priority_rank"].tolist() == [1, 3, 2]
    assert out.loc[0, "c_renewal"] == pytest.approx(52 / 90)
    # the reasons split the priority value, largest share first; a churn risk of 10 % is under
    # the 20 % threshold and no reason, however large its share
    first = out.loc[0, "reasons"]
    assert [r["code"] for r in first] == ["value", "renewal", "silence", "usage_decline"]
    assert first[0]["contribution"] == pytest.approx(100 / (1 + urgency[0]), abs=0.01)
    assert first[1]["contribution"] == pytest.approx(
        100 * 0.5 * 52 / 90 / (1 + urgency[0]), abs=0.01
    )
    contributions = [r["contribution"] for r in first]
    assert contributions == sorted(contributions, reverse=True)
    second = out.loc[1, "reasons"]
    assert [r["code"] for r in second] == ["value", "growth", "competition"]
    assert "competitor on 2 open deals" in out.loc[1, "reasons_en"]
    third = out.loc[2, "reasons"]
    assert [r["code"] for r in third] == ["value", "churn_risk", "silence"]
    assert "churn risk 60% (≥ 20%)" in out.loc[2, "reasons_en"]
    # missing inputs contribute nothing and never name a reason
    assert "growth" not in [r["code"] for r in out.loc[2, "reasons"]]
    assert out.loc[2, "c_usage_decline"] == 0.0


def test_reasons_only_when_material() -> None:
    frame = pd.DataFrame(
        {
            "account_id": [1, 2, 3],
            "ltv": [62_000_000.0, 5_000_000.0, 5_000_000.0],
            "expected_expansion_value": [1_600.0, 0.0, 0.0],
            "days_since_last_meeting": [1.0, 59.0, 61.0],
            "usage_trend": [-0.03, -0.14, -0.40],
            "churn_probability": [0.005, 0.0, 0.0],
        }
    )
    out = score_priority(frame)
    # no "no meeting for 1 days", no "expansion potential ¥1.6K" on a ¥62M account, no noise
    assert out.loc[0, "reasons_en"] == "LTV ¥62M"
    assert out.loc[0, "c_silence"] == 0 and out.loc[0, "c_usage_decline"] == 0
    assert out.loc[1, "reasons_en"] == "LTV ¥5M"
    assert out.loc[2, "reasons_en"] == (
        "LTV ¥5M · usage down 40% (beyond the 15% noise) · no meeting for 61 days (≥ 60 days)"
    )
    # a stricter share threshold in the strategy file drops the small parts
    strict = loads_strategy("[priority]\nmin_reason_share = 0.2\n")
    assert score_priority(frame, strict).loc[2, "reasons_en"] == "LTV ¥5M"


def test_reasons_name_their_evidence_and_plurals() -> None:
    frame = pd.DataFrame(
        {
            "account_id": [1, 2],
            "ltv": [87_000_000.0, 3_000_000.0],
            "days_to_next_renewal": [1.0, 1.0],
            "days_to_undecided_renewal": [1.0, np.nan],  # account 2's renewal is on file
            "nps_score": [3.0, 9.0],
            "nps_date": [dt.date(2026, 5, 12), dt.date(2026, 8, 1)],
            "severe_tickets": [
                [
                    {"ticket": "T-00042", "severity": 1, "age_days": 177.0},
                    {"ticket": "T-00107", "severity": 2, "age_days": 20.0},
                ],
                [],
            ],
        }
    )
    out = score_priority(frame)
    assert out.loc[0, "c_tickets"] == 1.0 and out.loc[0, "c_detractor"] == 1.0
    assert out.loc[0, "reasons_en"] == (
        "LTV ¥87M · detractor NPS 3 on 2026-05-12 · "
        "severity-1 ticket T-00042 open 177 days (+1 more) · renewal in 1 day"
    )
    assert out.loc[0, "reasons_ja"] == (
        "LTV ￥8,700万 · NPS 3（批判者、2026-05-12回答） · "
        "重大度1のチケット T-00042 が177日未解決（他1件） · 更新まで1日"
    )
    # a renewal with its successor on file adds no urgency; a promoter is no signal
    assert out.loc[1, "urgency"] == 0 and out.loc[1, "reasons_en"] == "LTV ¥3M"


def test_an_account_nobody_owns_is_less_actionable() -> None:
    frame = pd.DataFrame({"account_id": [1, 2], "ltv": [1e6, 1e6], "rep_id": [7, None]})
    out = score_priority(frame, loads_strategy("[priority]\nunowned_actionability = 0.4\n"))
    assert out["actionability"].tolist() == [1.0, 0.4]
    assert out["priority_value"].tolist() == pytest.approx([1e6, 4e5])


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
    assert [r["code"] for r in out.loc[1, "reasons"]] == ["growth", "renewal"]
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
