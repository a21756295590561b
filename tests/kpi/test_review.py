"""The period review on the hand-made company: every figure computed by hand.

Q3 2026 is bounded by snapshot 1 (2026-06-30) and snapshot 2 (2026-09-30), see
``review_fixture.py``; the contracts, activities and deals are those of ``handmade.py``.
"""

from __future__ import annotations

import json

import pytest

from tillage.report.review import render_review
from tillage.services.reviews import build_review
from tillage.store.database import make_engine
from tillage.store.schema import Account
from tillage.strategy.config import KpiSettings, Strategy

from . import review_fixture

DAYS_IN_WINDOW = 365  # 2026-07-01 … 2027-06-30
Q3_DAYS = 92


@pytest.fixture(scope="module")
def review(handmade_store):  # type: ignore[no-untyped-def]
    url, kind = handmade_store
    engine = make_engine(url)
    try:
        review_fixture.write(engine)
    finally:
        engine.dispose()
    strategy = Strategy(
        kpi=KpiSettings(targets={"nrr": 100.0, "logo_churn_rate": 10.0}, priority_share=1.0)
    )
    return build_review(url, "2026-Q3", strategy=strategy, by=("all", "team"), engine=kind)


def test_bounding_snapshots(review) -> None:  # type: ignore[no-untyped-def]
    assert review.start_snapshot.as_of == review_fixture.FIRST
    assert review.end_snapshot.as_of == review_fixture.SECOND
    assert review.previous_period == "2026-Q2"


def test_retention_forecast(review) -> None:  # type: ignore[no-untyped-def]
    # next renewals at 06-30 inside Q3: account 1 (c1 ends 10-01, renewed), 2 (c3 08-01,
    # renewed), 3 (c5 09-01, not renewed); account 6 renews 2027-01-01
    r = review.forecast.retention
    assert r.n == 3
    assert r.predicted_events == pytest.approx(0.1 + 0.3 + 0.6)
    assert r.actual_events == 1
    assert r.brier == pytest.approx((0.1**2 + 0.3**2 + 0.4**2) / 3)
    assert r.brier_reference == pytest.approx((1 / 3) * (2 / 3))
    assert r.mae == pytest.approx((0.1 + 0.3 + 0.4) / 3)


def test_revenue_forecast(review) -> None:  # type: ignore[no-untyped-def]
    f = review.forecast.revenue
    share = Q3_DAYS / DAYS_IN_WINDOW
    assert f.share == pytest.approx(share)
    # recognised in Q3: 1: 3 × 100k; 2: Jul 200k + Aug, Sep 120k; 3: Jul, Aug 50k
    actual = {1: 300_000.0, 2: 200_000.0 + 240_000.0, 3: 100_000.0}
    predicted = {1: 1_200_000.0 * share, 2: 2_000_000.0 * share, 3: 300_000.0 * share}
    assert f.n == 3
    assert f.predicted == pytest.approx(sum(predicted.values()))
    assert f.actual == pytest.approx(840_000.0)
    assert f.error == pytest.approx(840_000.0 - sum(predicted.values()))
    errors = [abs(predicted[a] - actual[a]) for a in actual]
    assert f.mae == pytest.approx(sum(errors) / 3)
    assert f.wape == pytest.approx(sum(errors) / 840_000.0)
    # every scored account (6 has no forecast: 3 × 100k)
    assert f.n_all == 4
    assert f.actual_all == pytest.approx(1_140_000.0)


def test_deal_forecast(review) -> None:  # type: ignore[no-untyped-def]
    d = review.forecast.deals
    assert (d.n, d.still_open, d.closed_before) == (2, 1, 1)
    assert d.predicted_events == pytest.approx(0.9)
    assert d.actual_events == 1
    assert d.brier == pytest.approx((0.4**2 + 0.3**2) / 2)
    assert d.predicted_value == pytest.approx(20_000 * 0.6 + 30_000 * 0.3)
    assert d.won_value == pytest.approx(20_000.0)


def test_segment_migration(review) -> None:  # type: ignore[no-untyped-def]
    m = review.migration
    assert m.field == "segment"
    cells = {(c.from_segment, c.to_segment): c.accounts for c in m.cells}
    assert cells == {
        ("deepen", "deepen"): 1,
        ("deepen", "reduce"): 1,
        ("reduce", "-"): 1,
        ("reduce", "reduce"): 1,
        ("-", "develop"): 1,
    }
    assert (m.stayed, m.moved, m.entered, m.left) == (2, 1, 1, 1)
    moved = next(c for c in m.cells if (c.from_segment, c.to_segment) == ("deepen", "reduce"))
    assert (moved.ltv_from, moved.ltv_to) == (2_500_000.0, 1_400_000.0)


def test_plan_execution(review) -> None:  # type: ignore[no-untyped-def]
    rows = {e.rep: e for e in review.execution}
    ito, sato, total = rows["Ito"], rows["Sato"], rows["Total"]
    # Ito: 1 Jul (email 07-05), 1 Sep (meeting 09-15), 2 Aug (call 08-01): all covered
    assert (ito.planned_actions, ito.covered_actions, ito.coverage) == (3, 3, 100.0)
    assert (ito.must_do, ito.must_do_covered, ito.planned_hours) == (1, 1, 12.0)
    assert (ito.activities, ito.activity_hours) == (3, pytest.approx((60 + 15 + 30) / 60))
    # Sato: 6 Jul — the visit was on 06-30; October's action is outside Q3
    assert (sato.planned_actions, sato.covered_actions, sato.coverage) == (1, 0, 0.0)
    assert (sato.activities, sato.activity_hours) == (2, pytest.approx((90 + 45) / 60))
    assert (total.planned_actions, total.covered_actions, total.coverage) == (4, 3, 75.0)
    assert total.team is None and ito.team == "East"


def test_meetings_and_retention(review) -> None:  # type: ignore[no-untyped-def]
    m = review.meetings
    # priority accounts: all four scored in snapshot 1; in the Q3 cohort: 1, 2, 3, 6.
    # a meeting in the 90 days before 07-01: only 6 (visit 06-30 23:00); 3 churned
    assert m.ranked_by == "priority" and m.priority_accounts == 4
    assert (m.with_meetings.n, m.with_meetings.successes) == (1, 1)
    assert (m.without_meetings.n, m.without_meetings.successes) == (3, 2)
    assert m.difference == pytest.approx(1 - 2 / 3)
    assert m.difference_low < m.difference < m.difference_high
    assert "association" in m.warning


def test_kpis_with_previous_period_and_targets(review) -> None:  # type: ignore[no-untyped-def]
    by = {(k.cut_value, k.kpi): k for k in review.kpis}
    nrr = by[("all", "nrr")]
    # Q3 cohort start MRR 100+200+50+100 = 450k, close 150+120+0+100 = 370k (test_kpi_handmade)
    assert nrr.value == pytest.approx(100 * 370 / 450)
    assert nrr.target == 100.0 and nrr.met is False
    assert nrr.gap == pytest.approx(100 * 370 / 450 - 100)
    churn = by[("all", "logo_churn_rate")]
    assert churn.value == pytest.approx(25.0) and churn.met is False
    # Q2: the cohort on 04-01 (1, 2, 3, 6) all still run on 07-01: no churn
    assert churn.previous == pytest.approx(0.0)
    assert churn.change == pytest.approx(25.0) and churn.improved is False
    # the company target of a ratio KPI applies to each team
    assert by[("East", "nrr")].target == 100.0
    assert by[("East", "nrr")].value == pytest.approx(100 * 270 / 300)


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_renders_markdown_html_and_json(review, lang) -> None:  # type: ignore[no-untyped-def]
    review = review.model_copy(update={"lang": lang})
    md = render_review(review, "md")
    html = render_review(review, "html")
    data = json.loads(render_review(review, "json"))
    assert data["forecast"]["retention"]["actual_events"] == 1
    heading = "期間レビュー" if lang == "ja" else "Period review"
    assert md.startswith(f"# {heading} 2026-Q3")
    assert f"<h1>{heading} 2026-Q3</h1>" in html
    assert review.meetings.warning in md


def test_a_change_too_small_to_show_is_neither_better_nor_worse() -> None:
    """CAC payback (months, shown to 0.1) from 1.60 to 1.62 prints ±0.0: no verdict; to 1.70
    it is worse (lower is better)."""
    import pandas as pd

    from tillage.kpi.review import changes_between
    from tillage.kpi.targets import targets_from_settings

    def change(now: float) -> bool | None:
        frame = pd.DataFrame(
            {
                "period": ["2026-Q3", "2026-Q2"],
                "cut": ["all", "all"],
                "cut_value": ["all", "all"],
                "kpi": ["cac_payback_months"] * 2,
                "value": [now, 1.60],
            }
        )
        targets = targets_from_settings(KpiSettings())
        return changes_between(frame, "2026-Q3", "2026-Q2", targets, lang="en")[0].improved

    assert change(1.62) is None
    assert change(1.70) is False
    assert change(1.50) is True


def test_a_limited_review_keeps_its_own_priority_accounts(review, handmade_store) -> None:  # type: ignore[no-untyped-def]
    """The meeting counts come from pieces over every account; a caller who sees accounts 1
    and 6 only gets the cohort of those two (1 retained without a meeting, 6 with one)."""
    url, kind = handmade_store
    strategy = Strategy(kpi=KpiSettings(priority_share=1.0))
    limited = build_review(
        url, "2026-Q3", strategy=strategy, engine=kind, visible=Account.id.in_([1, 6])
    )
    m = limited.meetings
    assert m is not None and m.priority_accounts == 2
    assert (m.with_meetings.n, m.with_meetings.successes) == (1, 1)
    assert (m.without_meetings.n, m.without_meetings.successes) == (1, 1)
    assert [k.value for k in limited.kpis if k.cut == "all"] == [
        k.value for k in review.kpis if k.cut == "all"
    ]  # the company's KPIs, whoever reads them
