"""Key-person risk and silent churn on hand-built inputs, against the documented formulas."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tillage.errors import DataValidationError
from tillage.strategy.config import Strategy
from tillage.strategy.risk import key_person_risk, render_signals, silent_churn


def _breadth(rows: list[tuple]) -> pd.DataFrame:
    cols = ["account_id", "rep_touches", "reps_touching", "contacts_touched"]
    cols += ["departments_touched", "rep_concentration", "top_rep_share", "top_rep_id"]
    frame = pd.DataFrame(rows, columns=cols).set_index("account_id")
    frame["touches"] = frame["rep_touches"]
    frame["top_rep_id"] = frame["top_rep_id"].astype("Int64")
    return frame


def test_key_person_risk_formula_and_single_threaded_flag() -> None:
    frame = _breadth(
        [
            (1, 6, 1, 1, 1, 1.0, 1.0, 7),  # one rep, one contact: the whole risk
            (2, 4, 2, 3, 2, 0.625, 0.75, 7),  # 3:1 over three contacts in two departments
            (3, 5, 2, 1, 0, 0.68, 0.8, 8),  # exactly at the 80 % share, one contact
            (4, 5, 2, 2, 1, 0.68, 0.8, 8),  # … but two contacts
            (5, 0, 0, 2, 1, np.nan, np.nan, None),  # touches, none naming a rep
        ]
    )
    out = key_person_risk(frame)
    assert out.loc[1, "key_person_risk"] == 1.0
    assert out.loc[2, "key_person_risk"] == pytest.approx(0.625 * (1 / 3 + 1 / 2) / 2)
    assert out.loc[3, "key_person_risk"] == pytest.approx(0.68)  # departments 0 count as 1
    assert out.loc[4, "key_person_risk"] == pytest.approx(0.68 * (1 / 2 + 1) / 2)
    assert np.isnan(out.loc[5, "key_person_risk"])
    assert out["single_threaded"].tolist() == [True, False, True, False, False]
    assert out.loc[3, "top_rep_id"] == 8
    # the thresholds come from the strategy file
    loose = Strategy.model_validate(
        {"key_person": {"single_threaded_rep_share": 0.7, "single_threaded_max_contacts": 3}}
    )
    assert key_person_risk(frame, loose)["single_threaded"].tolist() == [True] * 4 + [False]


def _silent(rows: list[tuple]) -> pd.DataFrame:
    cols = ["days_since_last_meeting", "tickets_unresolved_30d", "nps_latest"]
    cols += ["usage_active_users_trend", "revenue_365d", "revenue_prev_365d"]
    frame = pd.DataFrame(rows, columns=cols, dtype=float)
    return frame.rename_axis("account_id")


def test_silent_churn_strengths_score_and_order() -> None:
    frame = _silent(
        [
            (150, 2, 3, -0.31, 500.0, 1000.0),  # every signal fires
            (30, 0, 9, 0.10, 1200.0, 1000.0),  # none does
            (np.nan, 5, np.nan, np.nan, 100.0, 0.0),  # never met; 5 tickets; no prior year
            (119, 0, 7, -0.24, 760.0, 1000.0),  # each just short of its threshold
        ]
    )
    out = silent_churn(frame)
    # defaults: usage_drop 0.25, silent_days 120, detractor_nps 6, order_drop 0.25
    strengths = {
        "unresolved_tickets": 2 / 3,
        "usage_down": 0.31 / 0.5,
        "detractor": 1.0,
        "silence": 150 / 240,
        "orders_down": 1.0,  # −50 % is twice the drop
    }
    assert out.loc[0, "silent_churn"] == pytest.approx(sum(strengths.values()) / 5)
    signals = out.loc[0, "signals"]
    assert [s["code"] for s in signals] == [
        "detractor",
        "orders_down",
        "unresolved_tickets",
        "silence",
        "usage_down",
    ]
    assert {s["code"]: s["strength"] for s in signals} == pytest.approx(strengths, abs=1e-4)
    assert signals[-1]["value"] == pytest.approx(-0.31)
    assert out.loc[1, "silent_churn"] == 0 and out.loc[1, "signals"] == []
    assert not out.loc[1, "silent"] and out.loc[0, "silent"]
    assert out.loc[2, "silent_churn"] == pytest.approx((1 + 1) / 5)
    assert out.loc[2, "signals"][0] == {"code": "unresolved_tickets", "value": 5.0, "strength": 1.0}
    assert out.loc[2, "signals"][1]["value"] is None  # no meeting on record
    assert out.loc[3, "silent_churn"] == 0


def test_accounts_that_already_churned_are_not_silently_churning() -> None:
    frame = _silent([(150, 2, 3, -0.31, 500.0, 1000.0)] * 2)
    frame["active"] = [True, False]
    out = silent_churn(frame)
    assert out.loc[0, "silent_churn"] > 0 and out.loc[0, "silent"]
    assert np.isnan(out.loc[1, "silent_churn"]) and not out.loc[1, "silent"]
    assert out.loc[1, "signals"] == [] and out.loc[1, "signals_en"] == ""


def test_signals_in_english_and_japanese() -> None:
    out = silent_churn(_silent([(150, 0, np.nan, -0.31, 0.0, 0.0), (np.nan, 1, 4, 0, 0, 0)]))
    assert out.loc[0, "signals_en"] == "no meeting for 150 days · usage down 31%"
    assert out.loc[0, "signals_ja"] == "150日間商談なし · 利用 31%減"
    assert (
        out.loc[1, "signals_en"] == "detractor NPS 4 · no meeting on record · unresolved tickets: 1"
    )
    ja = render_signals(out.loc[1, "signals"], "ja")
    assert "NPS 4" in ja and "商談の記録なし" in ja and "未解決" in ja


def test_missing_columns_are_named() -> None:
    with pytest.raises(DataValidationError, match="nps_latest"):
        silent_churn(_silent([]).drop(columns="nps_latest"))
    with pytest.raises(DataValidationError, match="account_id"):
        key_person_risk(pd.DataFrame({"rep_touches": [1]}))
