"""Every KPI of the hand-made company (``handmade.py``) for 2026-Q3, computed by hand.

Period: first day 2026-07-01, last day 2026-09-30, close 2026-10-01 (MRR at the close = contracts
running on 2026-10-01).

Start cohort (MRR on 2026-07-01): A1 100k, A2 200k, A3 50k, A6 100k → start MRR 450k, 4 accounts.
A4 starts 2026-08-15: acquired mid-period, not in the cohort.
At the close: A1 150k (expansion +50k), A2 120k (contraction −80k), A3 0 (churn −50k), A6 100k.

- GRR = (450 − 80 − 50) / 450 = 320 / 450 = 71.111 %
- NRR = (450 + 50 − 80 − 50) / 450 = 370 / 450 = 82.222 %
- logo churn = 1 / 4 = 25 %; revenue churn = (50 + 80) / 450 = 28.889 %

Active on the last day (2026-09-30): A1 100k (c1 runs to 10-01), A2 120k, A4 80k, A6 100k; A3
ended 09-01. MRR 400k over 4 accounts → ARPU 100k.

Renewals due (end date in (07-01, 10-01]): c1 (renewed by c2), c3 (renewed by c4), c5 (not) →
2 / 3 = 66.667 %.

Deals: won upsell closed in Q3: o1 (o6 closed 06-30) → 1 / 4 active = 25 %; won cross-sell: o2
→ 25 %. Upsell/cross-sell created in Q3: o1, o3, o4 → 3 proposals; closed in Q3: o1 won, o2 won,
o3 lost → win rate 2 / 3 = 66.667 % (o5 is a new-business deal).

LTV/CAC over active accounts with a known cost and an LTV: A1 (1.2M / 300k), A4 (240k / 60k);
A3 is not active, A6 has no cost → 1.44M / 360k = 4.0. CAC payback: (300k + 60k) / (100k + 80k)
MRR on the last day = 2.0 months.

Regular meetings in the 90 days (2026-07-03 … 09-30): A1's meeting on 09-15; A4's QBR on 07-01
is too early, A6's visit on 06-30 too; A3 is not active → 1 / 4 = 25 %.
Contact frequency: activities in Q3 of active accounts: A1 2, A2 1, A4 1, A6 0 (its e-mail is on
10-01) → 4 / (4 accounts × 3 months) = 0.3333.
NPS answers in Q3: 10, 9 (A1), 6 (A2), 9 (A6), 0 (A3) → promoters 3, detractors 2, answers 5 →
(3 − 2) / 5 × 100 = 20. The answer of 06-30 is outside.
Success stories published in Q3: A1's (A6's is on 10-02) → 1.

The company has no orders, so the order KPIs are blank; contact within cadence is blank without
the accounts' cadence (tests/kpi/test_orders.py and test_cadence.py compute both).
"""

from __future__ import annotations

import pandas as pd
import pytest

from tillage.kpi import REGISTRY, compute_kpis, kpi_backend, parse_period
from tillage.store.database import make_engine, migrate
from tillage.store.load import replace_all

from . import handmade
from .handmade import LTV, PERIOD, SEGMENTS

EXPECTED_ALL = {
    "logo_churn_rate": (25.0, 1, 4),
    "revenue_churn_rate": (100 * 130 / 450, 130_000, 450_000),
    "grr": (100 * 320 / 450, 320_000, 450_000),
    "nrr": (100 * 370 / 450, 370_000, 450_000),
    "arpu": (100_000.0, 400_000, 4),
    "renewal_rate": (100 * 2 / 3, 2, 3),
    "upsell_rate": (25.0, 1, 4),
    "cross_sell_rate": (25.0, 1, 4),
    "ltv_to_cac": (4.0, 1_440_000, 360_000),
    "cac_payback_months": (2.0, 360_000, 180_000),
    "regular_meeting_rate": (25.0, 1, 4),
    "expansion_proposals": (3.0, 3, None),
    "proposal_win_rate": (100 * 2 / 3, 2, 3),
    "nps": (20.0, 1, 5),
    "success_stories": (1.0, 1, None),
    "contact_frequency": (4 / 12, 4, 12),
}


@pytest.fixture(scope="module")
def result(handmade_store: tuple[str, str]) -> pd.DataFrame:
    url, engine = handmade_store
    with kpi_backend(url, engine) as con:
        return compute_kpis(
            con,
            parse_period(PERIOD),
            by=("all", "rep", "team", "segment"),
            segments=SEGMENTS,
            ltv=LTV,
        )


def _row(result: pd.DataFrame, cut: str, value: str, kpi: str) -> pd.Series:
    found = result[(result.cut == cut) & (result.cut_value == value) & (result.kpi == kpi)]
    assert len(found) == 1, (cut, value, kpi)
    return found.iloc[0]


BLANK_HERE = {
    "active_buyers",
    "repeat_purchase_rate",
    "reactivation_rate",
    "order_frequency",
    "contact_within_cadence",
}


def test_every_kpi_is_expected() -> None:
    assert set(EXPECTED_ALL) | BLANK_HERE == set(REGISTRY)


def test_the_kpis_without_data_are_blank(result: pd.DataFrame) -> None:
    for key in BLANK_HERE:
        assert pd.isna(_row(result, "all", "all", key)["value"]), key


def test_tidy_columns(result: pd.DataFrame) -> None:
    assert list(result.columns) == [
        "period",
        "cut",
        "cut_value",
        "kpi",
        "value",
        "numerator",
        "denominator",
    ]
    assert set(result.period) == {"2026-Q3"}


@pytest.mark.parametrize("kpi", sorted(EXPECTED_ALL))
def test_company_values(result: pd.DataFrame, kpi: str) -> None:
    value, num, den = EXPECTED_ALL[kpi]
    row = _row(result, "all", "all", kpi)
    assert row.value == pytest.approx(value)
    assert row.numerator == pytest.approx(num)
    if den is None:
        assert pd.isna(row.denominator)
    else:
        assert row.denominator == pytest.approx(den)


def test_grr_nrr_by_rep_team_and_segment(result: pd.DataFrame) -> None:
    # Ito (A1, A2): start 300k; min(start, close) = 100k + 120k; close 150k + 120k.
    # Sato (A3, A6; A4 is not in the cohort): start 150k; kept 0 + 100k; close 100k.
    for cut, ito, sato in (
        ("rep", "Ito", "Sato"),
        ("team", "East", "West"),
        ("segment", "deepen", "reduce"),
    ):
        assert _row(result, cut, ito, "grr").value == pytest.approx(100 * 220 / 300)
        assert _row(result, cut, ito, "nrr").value == pytest.approx(90.0)
        assert _row(result, cut, sato, "grr").value == pytest.approx(100 * 100 / 150)
        assert _row(result, cut, sato, "nrr").value == pytest.approx(100 * 100 / 150)
        assert _row(result, cut, sato, "logo_churn_rate").value == pytest.approx(50.0)


def test_cuts_add_up_to_the_company(result: pd.DataFrame) -> None:
    company = result[result.cut == "all"].set_index("kpi")
    for cut in ("rep", "team", "segment"):
        sums = result[result.cut == cut].groupby("kpi")[["numerator", "denominator"]].sum()
        for kpi in sums.index:
            assert sums.loc[kpi, "numerator"] == pytest.approx(company.loc[kpi, "numerator"])


def test_account_without_owner_or_segment_is_dash(result: pd.DataFrame) -> None:
    # A4 (acquired in Q3, no segment) is active: ARPU of segment "-" = 80k / 1.
    assert _row(result, "segment", "-", "arpu").value == pytest.approx(80_000.0)
    assert _row(result, "segment", "-", "arpu").denominator == pytest.approx(1.0)


def test_reps_sharing_a_name_are_two_rows(tmp_path) -> None:  # type: ignore[no-untyped-def]
    # Same company, both reps named "Ito": the cut must not merge them (nor their teams' names).
    tables = handmade.tables()
    tables["reps"] = tables["reps"].assign(name=["Ito", "Ito"])
    tables["teams"] = tables["teams"].assign(name=["Sales", "Sales"])
    url = f"sqlite:///{tmp_path / 'same.db'}"
    engine = make_engine(url)
    migrate(engine)
    replace_all(engine, tables)
    engine.dispose()
    with kpi_backend(url, "duckdb") as con:
        same = compute_kpis(con, parse_period(PERIOD), by=("rep", "team"), keys=["grr"])
    assert sorted(same[same.cut == "rep"].cut_value) == ["Ito (R10)", "Ito (R11)"]
    assert sorted(same[same.cut == "team"].cut_value) == ["Sales (T1)", "Sales (T2)"]
    assert _row(same, "rep", "Ito (R10)", "grr").value == pytest.approx(100 * 220 / 300)
    assert _row(same, "rep", "Ito (R11)", "grr").value == pytest.approx(100 * 100 / 150)
