"""Every feature family against values computed by hand on the small company of handmade.py.

Runs the expressions on the embedded engine (DuckDB reading a SQLite store) and inside
PostgreSQL; the Spark run is in test_features_engines.py.
"""

from __future__ import annotations

import math
import statistics

import pandas as pd
import pytest

from tillage.features.build import build_features
from tillage.features.engine import feature_backend

from .handmade import AS_OF, tables

M = 30.4375  # days per month
W = 7.0  # days per week


@pytest.fixture(
    scope="module", params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def features(request: pytest.FixtureRequest, store_factory) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    """The feature table of the handmade company as of 2026-09-30 (labels over 365 days), from
    DuckDB reading a SQLite store and from inside PostgreSQL."""
    store = "postgres" if request.param == "postgres" else "sqlite"
    url = store_factory(store, tables())
    with feature_backend(url, request.param) as con:
        return build_features(con, AS_OF, period="week", horizon_days=365).set_index("account_id")


def check(row: pd.Series, expected: dict[str, float | None]) -> None:
    for column, value in expected.items():
        got = row[column]
        if value is None:
            assert pd.isna(got), f"{column}: expected null, got {got}"
        else:
            assert got == pytest.approx(value, rel=1e-9, abs=1e-9), f"{column}: {got} != {value}"


def test_purchasing(features: pd.DataFrame) -> None:
    # account 1 bought on 2025-09-30, 2026-01-10 (two lines), 2026-07-15, 2026-09-30: gaps of
    # 102, 186 and 77 days; repeat days are worth 1500, 400 and 250.
    check(
        features.loc[1],
        {
            "rfm_frequency": 3,
            "rfm_recency": 365 / W,
            "rfm_t": 365 / W,
            "rfm_monetary_value": (1500 + 400 + 250) / 3,
            "revenue_90d": 650.0,  # (2026-07-02, 2026-09-30]
            "margin_90d": 90.0,
            "orders_90d": 2,
            "revenue_365d": 2150.0,  # 2025-09-30 itself is outside
            "revenue_prev_365d": 9999.0,  # … and the year before's only order
            "margin_365d": 490.0,
            "orders_365d": 3,
            "days_since_last_order": 0,
            "order_gap_mean_days": 365 / 3,
            "order_gap_sd_days": statistics.stdev([102, 186, 77]),
            "order_gap_max_days": 186,
        },
    )
    # account 2's only order is after as_of; account 3 never ordered
    for account in (2, 3):
        check(
            features.loc[account],
            {
                "rfm_frequency": 0,
                "rfm_recency": None,
                "rfm_t": None,
                "revenue_365d": 0,
                "orders_365d": 0,
                "days_since_last_order": None,
                "order_gap_mean_days": None,
            },
        )


def test_tenure(features: pd.DataFrame) -> None:
    assert features.loc[1, "tenure_months"] == pytest.approx(730 / M)
    assert features.loc[2, "tenure_months"] == pytest.approx(457 / M)
    assert features.loc[3, "tenure_months"] == 0.0


def test_contracts(features: pd.DataFrame) -> None:
    # account 1: c4 (50k, ended 2025-10-01) renewed into c5 at 40k, active until 2026-10-01
    check(
        features.loc[1],
        {
            "mrr": 40_000,
            "arr": 480_000,
            "active_contracts": 1,
            "contract_tenure_months": 729 / M,
            "renewals": 1,
            "contract_term_months": 12,
            "days_to_next_renewal": 1,
            "expansions": 0,
            "contractions": 1,
            "expansion_mrr": 0,
            "contraction_mrr": 10_000,
            "contract_revenue_365d": (50_000 * 1 + 40_000 * 364) / M,
        },
    )
    # account 2: c1 100k renewed into c2 at 120k; c3 (3 months, 30k) ends 2026-11-01; c6 starts
    # after as_of and is ignored
    check(
        features.loc[2],
        {
            "mrr": 150_000,
            "arr": 1_800_000,
            "active_contracts": 2,
            "contract_tenure_months": 457 / M,
            "renewals": 1,
            "contract_term_months": 12,
            "days_to_next_renewal": 32,
            "expansions": 1,
            "contractions": 0,
            "expansion_mrr": 20_000,
            "contraction_mrr": 0,
            "contract_revenue_365d": (100_000 * 273 + 120_000 * 92 + 30_000 * 60) / M,
        },
    )
    check(
        features.loc[3],
        {"mrr": 0, "renewals": 0, "contract_tenure_months": None, "days_to_next_renewal": None},
    )


def test_opportunities(features: pd.DataFrame) -> None:
    # p3 closed after as_of, so it was open then; p5 was created after as_of
    check(
        features.loc[1],
        {
            "open_opportunities": 2,
            "open_pipeline": 483_000,
            "open_pipeline_new": 0,
            "open_pipeline_upsell": 0,
            "open_pipeline_cross_sell": 3_000,
            "open_pipeline_renewal": 480_000,
            "won_upsell_count": 1,
            "won_upsell_amount": 1_000,
            "lost_upsell_count": 1,
            "lost_upsell_amount": 2_000,
            "won_cross_sell_count": 1,
            "won_cross_sell_amount": 0,  # no amount recorded
            "lost_cross_sell_count": 0,
            "lost_cross_sell_amount": 0,
            "open_with_competitor": 1,
            "open_pipeline_with_competitor": 3_000,
        },
    )
    check(features.loc[2], {"open_opportunities": 0, "open_pipeline": 0, "won_upsell_count": 0})


def test_engagement(features: pd.DataFrame) -> None:
    # within 30 days: a1 (call) and a2 (meeting); a7 at 23:59 on 2026-08-31 is just outside
    # 30 days but inside 90 with a3; a4 (visit) is inside 180; a5 is older; a6 is after as_of.
    # Reps over 180 days: 10 on a1, a2, a4; 11 on a3 (a7 names none) → shares 3/4 and 1/4.
    check(
        features.loc[1],
        {
            "activities_30d": 2,
            "meetings_30d": 1,
            "calls_30d": 1,
            "emails_30d": 0,
            "activities_90d": 4,
            "emails_90d": 2,
            "activities_180d": 5,
            "visits_180d": 1,
            "qbrs_180d": 0,
            "days_since_last_activity": 0,
            "days_since_last_meeting": 15,
            "distinct_reps_180d": 2,
            "distinct_contacts_180d": 3,
            "distinct_departments_180d": 2,
            "rep_concentration_180d": 0.75**2 + 0.25**2,
            "top_rep_share_180d": 0.75,
        },
    )
    check(
        features.loc[2],
        {
            "activities_180d": 0,
            "days_since_last_activity": 637,
            "days_since_last_meeting": None,
            "distinct_reps_180d": 0,
            "rep_concentration_180d": None,
            "top_rep_share_180d": None,
        },
    )
    check(features.loc[3], {"activities_30d": 0, "days_since_last_activity": None})


def test_support(features: pd.DataFrame) -> None:
    # open on as_of: t1, t2, t4 (closed later), t6; unresolved for 30+ days: t1 and t6 (opened
    # on 2026-08-31); satisfaction only from tickets closed by as_of: t3 (4) and t5 (2).
    # NPS: two answers on 2026-09-10 (9 and 6) are the latest; 2025-03-10 is older than 365
    # days and 2026-10-05 is after as_of.
    check(
        features.loc[1],
        {
            "open_tickets": 4,
            "tickets_unresolved_30d": 2,
            "tickets_opened_90d": 4,
            "satisfaction_avg": 3.0,
            "nps_latest": 7.5,
            "nps_avg_365d": 6.0,
            "nps_responses_365d": 3,
        },
    )
    check(
        features.loc[2],
        {
            "open_tickets": 0,
            "satisfaction_avg": None,
            "nps_latest": 8.0,
            "nps_avg_365d": 8.0,
            "nps_responses_365d": 1,
        },
    )
    check(features.loc[3], {"open_tickets": 0, "nps_latest": None, "nps_responses_365d": 0})


def test_usage(features: pd.DataFrame) -> None:
    check(
        features.loc[2],
        {
            "usage_active_users_90d": 20.0,  # 10, 20, 30
            "usage_active_users_prev_90d": 40.0,
            "usage_active_users_trend": -0.5,
            "usage_logins_90d": 100.0,
            "usage_logins_prev_90d": None,
            "usage_logins_trend": None,
        },
    )
    assert math.isnan(features.loc[1, "usage_active_users_90d"])


def test_labels(features: pd.DataFrame) -> None:
    # (2026-09-30, 2027-09-30]: account 1's contract ends 2026-10-01 without renewal; account 2
    # renews c2 into c6 and orders S4 on 2026-10-01; account 3 held no contract.
    check(
        features.loc[1],
        {"label_churned": 1, "label_revenue": 0, "label_margin": 0, "label_orders": 0},
    )
    check(
        features.loc[2],
        {"label_churned": 0, "label_revenue": 7777, "label_margin": 777, "label_orders": 1},
    )
    check(features.loc[3], {"label_churned": None, "label_revenue": 0})


def test_one_row_per_account_in_order(features: pd.DataFrame) -> None:
    assert list(features.index) == [1, 2, 3]
