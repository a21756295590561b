"""Coaching from the rep's gaps: which KPI differences are gaps, the accounts each gap names,
the cadence question by cell, the proposals question per account, and which accounts keep the
obstacle question (hand-made frames, both languages)."""

from __future__ import annotations

import pandas as pd
import pytest

from tillage.kpi.agenda import BehaviourComparison
from tillage.kpi.coaching import gap_questions, is_gap, obstacle_questions, proposal_question
from tillage.strategy.config import Strategy

SCORES = pd.DataFrame(
    {
        "account_id": [1, 2, 3, 4, 5, 6],
        "name": ["株式会社A", "B社", "C社", "D社", "E社", "F社"],
        "segment": ["deepen", "deepen", "deepen", "nurture", "reduce", "deepen"],
        "ltv": [9e6, 5e6, 1e6, 3e6, 1e5, 2e6],
        "churn_risk": [0.05, 0.02, 0.6, 0.01, 0.7, 0.03],
        "reasons": [
            [{"code": "tickets", "value": 177, "ticket": "T-42", "severity": 1}],
            [],
            [],
            [],
            [],
            [],
        ],
        "signals": [[], [{"code": "usage_down", "value": -0.4}], [], [], [], []],
    }
)


def _cmp(kpi: str, unit: str, rep: float, team: float) -> BehaviourComparison:
    return BehaviourComparison(
        kpi=kpi, name=kpi, unit=unit, direction="higher", rep=rep, team=team, company=team
    )


@pytest.mark.parametrize(
    ("unit", "rep", "team", "gap"),
    [
        ("percent", 61.0, 79.0, True),
        ("percent", 76.0, 79.0, False),  # within 5 points
        ("percent", 90.0, 79.0, False),  # better
        ("per_account_month", 0.8, 1.0, True),  # 20% below
        ("per_account_month", 0.95, 1.0, False),  # 5% below
    ],
)
def test_is_gap(unit: str, rep: float, team: float, gap: bool) -> None:
    assert is_gap(unit, "higher", rep, team) is gap


def test_each_gap_names_its_accounts() -> None:
    rows = pd.DataFrame(
        {
            "account_id": [1, 2, 3, 4, 1, 2, 3, 6],
            "kpi": ["contact_within_cadence"] * 4 + ["proposal_win_rate"] * 2 + ["nps"] * 2,
            "num": [0.0, 0.0, 1.0, 0.0, 1.0, 0.0, -1.0, 1.0],
            "den": [1.0, 1.0, 1.0, 1.0, 2.0, 1.0, 1.0, 1.0],
        }
    )
    comparisons = [
        _cmp("contact_within_cadence", "percent", 25.0, 70.0),
        _cmp("proposal_win_rate", "percent", 60.0, 82.0),
        _cmp("nps", "score", 0.0, 30.0),
        _cmp("regular_meeting_rate", "percent", 80.0, 79.0),  # no gap: no question
    ]
    out = gap_questions(comparisons, rows, SCORES, Strategy(), "en")
    by_kpi: dict[str, list] = {}
    for q in out:
        by_kpi.setdefault(q.kpi, []).append(q)
    assert set(by_kpi) == {"contact_within_cadence", "proposal_win_rate", "nps"}
    # cadence by cell: deepen (1, 2 behind; 3 kept), nurture (4)
    deepen = next(q for q in by_kpi["contact_within_cadence"] if "deepen" in q.question)
    assert deepen.accounts == ["株式会社A", "B社"]  # highest LTV first
    assert deepen.question.startswith("2 of your deepen accounts had no visit in 30 days")
    assert "what is blocking a visit?" in deepen.question
    nurture = next(q for q in by_kpi["contact_within_cadence"] if "nurture" in q.question)
    assert nurture.accounts == ["D社"] and "no QBR in 91 days" in nurture.question
    # proposals lost: accounts 1 (1 of 2 won) and 2 (0 of 1)
    assert by_kpi["proposal_win_rate"][0].accounts == ["株式会社A", "B社"]
    assert "60%" in by_kpi["proposal_win_rate"][0].question
    # net detractors: account 3 only
    assert by_kpi["nps"][0].accounts == ["C社"]


def test_gap_questions_in_japanese() -> None:
    rows = pd.DataFrame(
        {
            "account_id": [1, 2],
            "kpi": ["regular_meeting_rate"] * 2,
            "num": [0.0, 0.0],
            "den": [1.0, 1.0],
        }
    )
    out = gap_questions(
        [_cmp("regular_meeting_rate", "percent", 61.0, 79.0)], rows, SCORES, Strategy(), "ja"
    )
    assert len(out) == 1
    assert out[0].question.startswith("重点顧客のうち2社で90日間")
    assert "株式会社A、B社" in out[0].question


def test_proposals_per_account_name_the_deepen_accounts_without_one() -> None:
    rows = pd.DataFrame(
        {"account_id": [1], "kpi": ["expansion_proposals"], "num": [1.0], "den": [0.0]}
    )
    # the rep: 1 proposal over 6 accounts; the team: 12 over 20 accounts
    out = proposal_question(1.0, 6, 12.0, 20, rows, SCORES, "en")
    assert len(out) == 1 and out[0].accounts == ["B社", "F社", "C社"]
    assert "0.17" in out[0].question and "0.60" in out[0].question
    assert proposal_question(6.0, 6, 12.0, 20, rows, SCORES, "en") == []  # more per account


def test_the_obstacle_question_fits_high_value_accounts_in_trouble() -> None:
    out = obstacle_questions(SCORES, Strategy(), "en")
    # top third by LTV: A (severity-1 ticket), B (usage down), D (no trouble) → A and B only;
    # C and E have a high churn risk but a low value
    assert [q.account for q in out] == ["株式会社A", "B社"]
    assert "T-42" in out[0].question
    assert out[0].question.endswith(
        "what is the biggest obstacle to this customer's success right now?"
    )
