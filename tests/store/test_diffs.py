"""Segment migration has one marker for "not in this snapshot" on every surface (issue 18)."""

from __future__ import annotations

from tillage.kpi.migration import NONE as KPI_NONE
from tillage.report.portfolio import segment_label
from tillage.store.diffs import NONE


def test_the_diff_and_the_review_mark_a_missing_segment_alike() -> None:
    assert NONE == KPI_NONE == "-"
    # the CLI's diff table and the review name it, never show the marker itself
    assert segment_label(NONE, "ja") not in ("-", "(none)")
    assert segment_label(NONE, "en") == "(not scored)"
