"""Done-when: on the demo company, snapshots at two consecutive quarter ends, the review of both
periods, and the forecast-accuracy section checked against the generator's own outcomes.

The store holds the demo's history up to its as-of date (2026-09-30); the snapshots are scored
at 2025-12-31 and 2026-03-31, so 2026-Q1 is reviewed from the first and 2026-Q2 from the second.
(2026-Q3 is not: its last renewals' successor contracts start on 2026-10-01, after the history,
so they would look like churn.)
The realized churn is the generator's renewal decisions (truth ``renewals``), the realized wins
its deal outcomes (truth ``opportunities_truth``), the realized revenue its contract and order
frames — none read back from the store.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from tillage.demo import DemoConfig, generate
from tillage.kpi.forecast import retention_check
from tillage.kpi.period import parse_period
from tillage.services import review_frames as reviews
from tillage.services.reviews import build_review
from tillage.services.scoring import run_scoring
from tillage.store.database import make_engine, migrate, session_scope
from tillage.store.load import replace_all

QUARTER_ENDS = (dt.date(2025, 12, 31), dt.date(2026, 3, 31))
PERIODS = ("2026-Q1", "2026-Q2")
pytestmark = pytest.mark.slow
CREATED = dt.datetime(2026, 10, 1)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):  # type: ignore[no-untyped-def]
    company = generate(DemoConfig(n_accounts=300, seed=5))
    url = f"sqlite:///{tmp_path_factory.mktemp('demo_review') / 'store.db'}"
    engine = make_engine(url)
    migrate(engine)
    replace_all(engine, company.tables)
    ids = []
    for as_of in QUARTER_ENDS:
        snapshot = run_scoring(engine, as_of, created_at=CREATED)
        ids.append(snapshot)
    reviews_by_period = {p: build_review(url, p) for p in PERIODS}
    yield company, url, engine, ids, reviews_by_period
    engine.dispose()


def _recognised(company, first: str, last: str) -> pd.Series:  # type: ignore[no-untyped-def]
    """Revenue per account in the period from the generator's frames (docs/review.md)."""
    c = company.tables["contracts"]
    total = pd.Series(0.0, index=c.index)
    for month in pd.date_range(first, last, freq="MS"):
        after = month + pd.offsets.MonthBegin(1)
        lo = c["start_date"].where(c["start_date"] > month, month)
        hi = c["end_date"].where(c["end_date"] < after, after)
        days = (hi - lo).dt.days.clip(lower=0)
        total += c["recurring_amount"] * days / (after - month).days
    orders = company.tables["orders"]
    inside = orders[(orders["order_date"] >= first) & (orders["order_date"] <= last)]
    by_account = total.groupby(c["account_id"]).sum()
    return by_account.add(inside.groupby("account_id")["amount"].sum(), fill_value=0.0)


@pytest.mark.parametrize("index", [0, 1])
def test_forecast_accuracy_against_the_generator(demo, index) -> None:  # type: ignore[no-untyped-def]
    company, _url, engine, ids, by_period = demo
    period = parse_period(PERIODS[index])
    review = by_period[PERIODS[index]]
    f = review.forecast
    assert f.snapshot_id == ids[index] and f.as_of == QUARTER_ENDS[index]

    # churn: the accounts compared and their outcome, against the generator's decisions
    with session_scope(engine) as session:
        scores = reviews.snapshot_scores(session, ids[index])
        contracts = reviews.contracts_running(session, f.as_of, period.close)
    _check, rows = retention_check(scores, contracts, f.as_of, period)
    truth = company.truth["renewals"].set_index("contract_id")
    decided = truth.loc[rows["contract_id"]]
    assert (decided["decision_date"] >= pd.Timestamp(period.first)).all()
    assert (decided["decision_date"] <= pd.Timestamp(period.last)).all()
    assert rows["churned"].tolist() == decided["churned"].astype(int).tolist()
    assert f.retention.n == len(rows) > 20
    assert f.retention.actual_events == int(decided["churned"].sum())
    by_account = scores.set_index("account_id")["churn_risk"]
    assert f.retention.predicted_events == pytest.approx(by_account[rows["account_id"]].sum())

    # deal wins: the scored deals closed in the period, against the generator's outcomes
    won = company.truth["opportunities_truth"].set_index("opportunity_id")["won"]
    opps = company.tables["opportunities"].set_index("id")
    with session_scope(engine) as session:
        scored = reviews.scored_deals(session, ids[index])
    close = opps.loc[scored["opportunity_id"], "close_date"]
    inside = (
        (close >= pd.Timestamp(period.first)) & (close <= pd.Timestamp(period.last))
    ).to_numpy()
    assert f.deals.n == int(inside.sum()) > 10
    assert f.deals.actual_events == int(won.loc[scored["opportunity_id"][inside]].sum())

    # revenue: every scored account's recognised revenue, from the generator's frames
    revenue = _recognised(company, period.first.isoformat(), period.last.isoformat())
    expected = revenue.reindex(scores["account_id"]).fillna(0.0).sum()
    assert f.revenue.actual_all == pytest.approx(expected, rel=1e-9)
    assert f.revenue.n_all == len(scores)
    # the snapshot's 12-month forecast (expected_revenue) covers the scored accounts, and its
    # share of the period is in the ballpark of what happened
    assert f.revenue.n > 0.5 * len(scores)
    assert 0.5 < f.revenue.predicted / f.revenue.actual < 2.0


def test_both_reviews_are_complete(demo) -> None:  # type: ignore[no-untyped-def]
    _company, _url, _engine, ids, by_period = demo
    q2, q3 = by_period["2026-Q1"], by_period["2026-Q2"]
    assert (q2.start_snapshot.id, q2.end_snapshot.id) == (ids[0], ids[1])
    assert q2.migration is not None and q2.migration.stayed + q2.migration.moved > 0
    assert q3.start_snapshot.id == q3.end_snapshot.id == ids[1] and q3.migration is None
    assert q2.meetings.with_meetings.n + q2.meetings.without_meetings.n > 0
    assert {k.kpi for k in q3.kpis if k.cut == "all"} >= {"nrr", "grr", "logo_churn_rate"}


def test_print_figures(demo, capsys) -> None:  # type: ignore[no-untyped-def]
    """The forecast-accuracy figures, printed for the record (-s shows them)."""
    for label, review in demo[4].items():
        f = review.forecast
        assert f is not None
        with capsys.disabled():
            print(label, f.model_dump_json())
