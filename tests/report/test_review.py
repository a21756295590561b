"""The shared HTML sections of the period review and the 1on1 agenda, the migration matrix and
signed KPI changes, on reviews written out by hand (the figures are the review's own; the
computation is tested in ``tests/kpi/test_review.py``)."""

from __future__ import annotations

import datetime as dt

import pytest

from tillage.kpi.accuracy import Proportion
from tillage.kpi.agenda import AgendaAccount, BehaviourComparison, OneOnOneAgenda
from tillage.kpi.association import MeetingRetention
from tillage.kpi.migration import MigrationCell, SegmentMigration
from tillage.kpi.review import KpiChange, PeriodReview, SnapshotRef
from tillage.report.formatting import format_change, format_value
from tillage.report.review import (
    agenda_sections,
    migration_matrix,
    render_agenda,
    render_review,
    review_sections,
)

WARNING = "This is an association, not proof <b>really</b>."


def _migration() -> SegmentMigration:
    cells = [
        MigrationCell(from_segment="-", to_segment="nurture", accounts=2, ltv_from=0, ltv_to=50),
        MigrationCell(
            from_segment="deepen", to_segment="deepen", accounts=5, ltv_from=500, ltv_to=520
        ),
        MigrationCell(
            from_segment="deepen", to_segment="reduce", accounts=1, ltv_from=80, ltv_to=20
        ),
        MigrationCell(from_segment="reduce", to_segment="-", accounts=3, ltv_from=30, ltv_to=0),
    ]
    return SegmentMigration(field="segment", cells=cells, stayed=5, moved=1, entered=2, left=3)


def _review(lang: str) -> PeriodReview:
    share = Proportion(n=10, successes=9, rate=0.9, low=0.6, high=0.98)
    return PeriodReview(
        period="2026-Q3",
        first=dt.date(2026, 7, 1),
        last=dt.date(2026, 9, 30),
        previous_period="2026-Q2",
        lang=lang,
        currency="JPY",
        start_snapshot=SnapshotRef(id=1, as_of=dt.date(2026, 6, 30)),
        end_snapshot=SnapshotRef(id=2, as_of=dt.date(2026, 9, 30)),
        kpis=[
            KpiChange(
                kpi="nrr",
                name="NRR",
                family="outcome",
                unit="percent",
                direction="higher",
                cut="all",
                cut_value="all",
                value=95.0,
                previous=97.5,
                change=-2.5,
                target=100.0,
                gap=-5.0,
                met=False,
                improved=False,
            )
        ],
        migration=_migration(),
        execution=[],
        forecast=None,
        meetings=MeetingRetention(
            ranked_by="priority",
            priority_accounts=14,
            meeting_days=90,
            level=0.9,
            with_meetings=share,
            without_meetings=Proportion(n=4, successes=2, rate=0.5, low=0.2, high=0.8),
            difference=0.4,
            difference_low=0.05,
            difference_high=0.7,
            warning=WARNING,
        ),
        notes=[],
    )


def test_migration_matrix_is_square_in_portfolio_order() -> None:
    matrix = migration_matrix(_migration(), "en")
    assert matrix.codes == ["deepen", "nurture", "reduce", "-"]
    assert matrix.labels == ["Deepen", "Nurture", "Reduce", "(not scored)"]
    assert matrix.accounts == [[5, 0, 1, 0], [0, 0, 0, 0], [0, 0, 0, 3], [0, 2, 0, 0]]
    assert matrix.ltv_from == [580, 0, 30, 0]
    assert matrix.ltv_to == [540, 0, 0, 50]
    assert migration_matrix(_migration(), "ja").labels[:3] == ["深耕", "育成", "縮小"]


def test_migration_matrix_of_zones_keeps_zone_order() -> None:
    cells = [
        MigrationCell(from_segment=z1, to_segment=z2, accounts=1, ltv_from=1, ltv_to=1)
        for z1, z2 in [("C", "A"), ("B", "B"), ("A", "C")]
    ]
    zones = SegmentMigration(field="zone", cells=cells, stayed=1, moved=2, entered=0, left=0)
    assert migration_matrix(zones, "en").codes == ["A", "B", "C"]


@pytest.mark.parametrize(
    ("value", "unit", "expected"),
    [
        (-2.5, "percent", "-2.5"),
        (18.44, "percent", "+18.4"),
        (-0.04, "months", "±0.0"),
        (-8480.23, "currency", "-¥8,480"),
        (3.0, "count", "+3"),
        (1.856, "ratio", "+1.86"),
        (None, "percent", "—"),
        (float("nan"), "ratio", "—"),
    ],
)
def test_format_change_is_signed_in_the_kpis_unit(value, unit, expected) -> None:  # type: ignore[no-untyped-def]
    assert format_change(value, unit, "JPY", "en") == expected


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_review_sections_are_the_html_reports_body(lang: str) -> None:
    review = _review(lang)
    sections = review_sections(review)
    assert sections in render_review(review, "html")
    assert "<html" not in sections and "<h1" not in sections
    heading = "セグメント移動" if lang == "ja" else "Segment migration"
    assert f"<h2>{heading}</h2>" in sections
    # the matrix: deepen → deepen on the diagonal, the warning escaped, the interval shown
    assert '<td class="num stayed">5</td>' in sections
    assert "&lt;b&gt;really&lt;/b&gt;" in sections and "<b>really" not in sections
    # change and gap to target in points, the difference with its interval
    assert '<td class="num">-2.5</td>' in sections and '<td class="num">-5.0</td>' in sections
    assert "40.0%" in sections and "5.0%" in sections and "70.0%" in sections


def test_a_value_read_against_its_target_never_prints_alike_when_they_differ() -> None:
    # churn 3.54% against a 3.5% target is off target: it must not read "3.5% … 3.5%"
    assert format_value(3.54, "percent", "JPY", "en", against=3.5) == "3.54%"
    assert format_value(3.5, "percent", "JPY", "en", against=3.54) == "3.50%"
    assert format_value(3.5, "percent", "JPY", "en", against=3.5) == "3.5%"
    assert format_value(3.5, "percent", "JPY", "en") == "3.5%"
    assert format_value(1.6, "months", "JPY", "en", against=2.0) == "1.6"
    assert format_value(1200.4, "currency", "JPY", "en", against=1200.0) == "¥1,200"


def test_the_markdown_review_names_cells_and_signs_changes_in_words() -> None:
    text = render_review(_review("ja"), "md")
    assert "| 深耕 | 深耕 | 5 |" in text and "| 深耕 | 縮小 | 1 |" in text
    assert "deepen" not in text and "reduce" not in text
    assert "| -2.5 |" in text  # the change in points, signed as the HTML shows it


def test_agenda_sections_link_accounts_only_when_asked() -> None:
    agenda = OneOnOneAgenda(
        rep_id=3,
        rep_key="REP-3",
        rep="Ito",
        team="East",
        lang="en",
        currency="JPY",
        period="2026-Q3",
        snapshot=SnapshotRef(id=2, as_of=dt.date(2026, 9, 30)),
        top_accounts=[
            AgendaAccount(
                account_id=7,
                key="A-7",
                name="Acme & Co",
                priority=80.0,
                ltv=1_500_000.0,
                churn_risk=0.1,
                value_at_risk=150_000.0,
                segment="deepen",
                days_to_renewal=None,
                reasons=["LTV ¥1.5M"],
            )
        ],
        at_risk=[],
        deals=[],
        behaviour=[
            BehaviourComparison(
                kpi="nps",
                name="NPS",
                unit="score",
                direction="higher",
                rep=12.0,
                team=None,
                company=8.5,
            )
        ],
        questions=[],
    )
    linked = agenda_sections(agenda, account_link=lambda i: f"/accounts/{i}")
    assert '<a href="/accounts/7">Acme &amp; Co</a>' in linked
    assert "¥1,500,000" in linked and "No account at risk." in linked
    plain = agenda_sections(agenda)
    assert "<a href" not in plain and plain in render_agenda(agenda, "html")


def test_a_gap_called_off_target_never_prints_as_none() -> None:
    """3.54% against a target of 3.5%: off target, so its gap shows (+0.04), not ±0.0; a mere
    change keeps the digits of its unit."""
    assert format_change(0.04, "percent", "JPY", "ja") == "±0.0"
    assert format_change(0.04, "percent", "JPY", "ja", apart=True) == "+0.04"
    assert format_change(-0.004, "percent", "JPY", "en", apart=True) == "-0.004"
    assert format_change(0.0, "percent", "JPY", "en", apart=True) == "±0.0"
    assert format_change(-0.4, "currency", "JPY", "en", apart=True) == "±¥0"
