"""The review's Act (tillage.kpi.act) on hand-made frames; every figure computed by hand.

Period 2026-Q3, start snapshot as of 2026-06-30. Accounts (segment, churn_risk, LTV):

====  ========  =====  =====  ======================================================
acct  segment   risk   LTV    contracts (monthly amount) / plan / activity in Q3
====  ========  =====  =====  ======================================================
1     deepen    0.2    1000   100 ends 08-01, renewed at 150 from 08-01; planned, met
2     deepen    0.5    2000   200 ends 09-01, churned; planned, met
3     nurture   0.4    500    50 ends 08-15, churned; planned, not met
4     nurture   0.4    500    50 ends 09-15, churned; planned, not met
5     reduce    0.1    100    10 runs past Q3; not planned; 30 min logged
====  ========  =====  =====  ======================================================

Covered {1, 2}: 2 due, 1 churned, expected 0.7 → O/E 1/0.7; uncovered {3, 4}: 2 due, 2
churned, expected 0.8 → O/E 2.5. Realised effect 1 − (1/0.7)/2.5 = 0.428571…; realised uplift
that × (0.2·1000 + 0.5·2000) = 0.428571 × 1200 = 514.29.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from tillage.kpi.act import assemble_act, recommendations
from tillage.kpi.period import parse_period
from tillage.strategy.config import Strategy
from tillage.strategy.departure import DepartureCalibration
from tillage.strategy.effects import ActionEffect

PERIOD = parse_period("2026-Q3")
AS_OF = dt.date(2026, 6, 30)
SCORES = pd.DataFrame(
    {
        "account_id": [1, 2, 3, 4, 5],
        "segment": ["deepen", "deepen", "nurture", "nurture", "reduce"],
        "churn_risk": [0.2, 0.5, 0.4, 0.4, 0.1],
        "ltv": [1000.0, 2000.0, 500.0, 500.0, 100.0],
    }
)
CONTRACTS = pd.DataFrame(
    {
        "id": [1, 2, 3, 4, 5, 6],
        "account_id": [1, 2, 3, 4, 5, 1],
        "start_date": pd.to_datetime(
            ["2025-08-01", "2025-09-01", "2025-08-15", "2025-09-15", "2026-01-01", "2026-08-01"]
        ),
        "end_date": pd.to_datetime(
            ["2026-08-01", "2026-09-01", "2026-08-15", "2026-09-15", "2027-01-01", "2027-08-01"]
        ),
        "recurring_amount": [100.0, 200.0, 50.0, 50.0, 10.0, 150.0],
        "renewed": [True, False, False, False, False, False],
    }
)
ACTIONS = pd.DataFrame(
    {
        "account_id": [1, 2, 3, 4],
        "rep_id": [1, 1, 2, 2],
        "month": [dt.date(2026, 7, 1)] * 4,
        "action": ["renewal_preparation"] * 4,
        "hours": [4.0, 4.0, 2.0, 2.0],
        "expected_uplift": [60.0, 300.0, 40.0, 40.0],
        "must_do": [True] * 4,
    }
)
ACTIVITIES = pd.DataFrame(
    {
        "account_id": [1, 2, 2, 5],
        "rep_id": [1, 1, 1, 3],
        "occurred_at": pd.to_datetime(["2026-07-10", "2026-07-11", "2026-08-01", "2026-09-01"]),
        "duration_minutes": [60.0, 90.0, 30.0, 30.0],
    }
)


def _act(effects: dict | None = None, departure: DepartureCalibration | None = None):  # type: ignore[no-untyped-def]
    return assemble_act(
        PERIOD,
        as_of=AS_OF,
        scores=SCORES,
        actions=ACTIONS,
        activities=ACTIVITIES,
        contracts=CONTRACTS,
        forecast=None,
        effects=effects or {},
        strategy=Strategy(),
        lang="en",
        departure=departure,
    )


def test_covered_against_uncovered() -> None:
    act = _act()
    covered, uncovered = act.coverage
    assert (covered.accounts, covered.renewals_due, covered.churned) == (2, 2, 1)
    assert covered.expected_churn == pytest.approx(0.7)
    assert covered.planned_uplift == pytest.approx(360.0)
    assert (uncovered.accounts, uncovered.renewals_due, uncovered.churned) == (2, 2, 2)
    assert uncovered.observed_to_expected == pytest.approx(2.5)
    assert act.realised_effect == pytest.approx(1 - (1 / 0.7) / 2.5)
    assert act.realised_uplift == pytest.approx((1 - (1 / 0.7) / 2.5) * 1200.0)
    assert act.planned_uplift == pytest.approx(360.0)
    # retained: account 1's 100 a month × 12; expanded: its rise 100 → 150 a month × 12
    assert covered.retained_value == pytest.approx(1200.0)
    assert covered.expanded_value == pytest.approx(600.0)


def test_return_on_time_per_start_cell() -> None:
    cells = {c.cell: c for c in _act().cells}
    deepen, nurture, reduce = cells["deepen"], cells["nurture"], cells["reduce"]
    assert deepen.planned_hours == 8.0 and deepen.logged_hours == pytest.approx(3.0)
    assert deepen.retained_value == 1200.0 and deepen.lost_value == 2400.0
    assert deepen.value_per_hour == pytest.approx((1200.0 + 600.0) / 3.0)
    assert nurture.logged_hours == 0.0 and nurture.value_per_hour is None  # blank, not ∞
    assert nurture.lost_value == pytest.approx(1200.0)
    assert reduce.planned_hours == 0.0 and reduce.logged_hours == pytest.approx(0.5)


def _effect(estimate: float, low: float, high: float, treated: int = 200) -> ActionEffect:
    return ActionEffect(
        action="renewal_preparation",
        basis="churn",
        assumed=0.30,
        estimate=estimate,
        low=low,
        high=high,
        se=0.05,
        weight=0.8,
        effect=0.1,
        source="learned",
        decisions=1000,
        treated=treated,
        note="",
    )


def test_a_recommendation_needs_the_interval_to_exclude_the_assumption() -> None:
    strategy = Strategy()
    found = recommendations({"renewal_preparation": _effect(0.08, 0.01, 0.15)}, strategy, "en")
    assert len(found) == 1
    change = found[0]
    assert change.field == "playbooks.renewal_preparation.effect"
    assert (change.current, change.proposed) == (0.30, 0.08)
    assert "lower its assumed effect from 30% to 8%" in change.evidence
    assert "200 of 1,000" in change.evidence  # counts grouped as everywhere else
    assert recommendations({"renewal_preparation": _effect(0.25, 0.1, 0.4)}, strategy, "en") == []
    thin = _effect(0.08, 0.01, 0.15, treated=5)
    assert recommendations({"renewal_preparation": thin}, strategy, "en") == []


def _departure(estimate: float, low: float, high: float, source: str = "learned"):  # type: ignore[no-untyped-def]
    return DepartureCalibration(
        uplift=estimate,
        assumed=0.25,
        source=source,  # type: ignore[arg-type]
        estimate=estimate,
        low=low,
        high=high,
        treated=80,
        note="",
    )


def test_a_learned_departure_effect_is_recommended() -> None:
    strategy = Strategy()
    found = recommendations({}, strategy, "en", _departure(0.08, 0.02, 0.14))
    assert [c.field for c in found] == ["key_person.churn_uplift_if_owner_leaves"]
    change = found[0]
    assert (change.current, change.proposed) == (0.25, 0.08)
    assert "80 renewal decisions after the rep left" in change.evidence
    assert "lower the added churn risk from 25% to 8%" in change.evidence
    assert change.label == "Added churn risk when the account's rep leaves"
    # inside the interval, or not learned: no change
    assert recommendations({}, strategy, "en", _departure(0.2, 0.1, 0.3)) == []
    assert recommendations({}, strategy, "en", _departure(0.08, 0.02, 0.14, "assumed")) == []


def test_an_assumed_departure_effect_is_labelled_in_the_notes() -> None:
    none = DepartureCalibration(uplift=0.25, assumed=0.25, source="assumed", note="")
    act = _act(departure=none)
    assert any("(25%) is assumed: no rep has left" in n for n in act.notes)
    assert not any("is assumed" in n for n in _act().notes)  # nothing said without a calibration


def test_the_act_is_written_in_japanese() -> None:
    ja = recommendations({"renewal_preparation": _effect(0.08, 0.01, 0.15)}, Strategy(), "ja")
    assert "30%" in ja[0].evidence and "8%" in ja[0].evidence
    assert "lower" not in ja[0].evidence and "引き下げ" in ja[0].evidence
    assert ja[0].label == "更新準備の想定効果"
    leave = recommendations({}, Strategy(), "ja", _departure(0.08, 0.02, 0.14))[0]
    assert "25%" in leave.evidence and "rep" not in leave.evidence


def test_a_model_that_lost_to_its_baseline_is_said_plainly() -> None:
    from tillage.kpi.accuracy import probability_check
    from tillage.kpi.act import _verdicts
    from tillage.kpi.forecast import DealCheck, ForecastAccuracy, RevenueCheck

    # churn: forecasts 0.5 for two accounts of which one churned → Brier 0.25 = reference 0.25
    # … plus a third that did not churn at 0.9: Brier (0.25+0.25+0.81)/3 > r(1−r) = 2/9
    churn = probability_check([0.5, 0.5, 0.9], [1, 0, 0])
    deals = probability_check([0.9, 0.1], [1, 0])  # Brier 0.01 against 0.25: beats it
    forecast = ForecastAccuracy(
        snapshot_id=1,
        as_of=AS_OF,
        retention=churn,
        revenue=RevenueCheck(
            n=0,
            predicted=0,
            actual=0,
            error=0,
            mae=None,
            wape=None,
            share=0,
            n_all=0,
            actual_all=0,
        ),
        deals=DealCheck(
            **deals.model_dump(), still_open=0, closed_before=0, predicted_value=0, won_value=0
        ),
    )
    churn_verdict, deal_verdict = _verdicts(forecast, "en")
    assert churn_verdict.lost is True
    assert "lost to its baseline" in churn_verdict.statement and "0.437" in churn_verdict.statement
    assert deal_verdict.lost is False and "beat its baseline" in deal_verdict.statement
    ja = _verdicts(forecast, "ja")[0].statement
    assert "ベースラインに負けました" in ja
