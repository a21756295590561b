"""Segment migration has one marker for "not in this snapshot" on every surface (issue 18)."""

from __future__ import annotations

import json

import pandas as pd

from tillage.kpi.migration import NONE as KPI_NONE
from tillage.report.portfolio import segment_label
from tillage.store.diffs import NONE, move_drivers


def test_the_diff_and_the_review_mark_a_missing_segment_alike() -> None:
    assert NONE == KPI_NONE == "-"
    # the CLI's diff table and the review name it, never show the marker itself
    assert segment_label(NONE, "ja") not in ("-", "(none)")
    assert segment_label(NONE, "en") == "(not scored)"


def test_the_reasons_of_a_move_from_the_stored_json_text() -> None:
    """The pair keeps each score's reasons as stored (JSON text, decoded for the accounts that
    moved only): the codes added and dropped are those of the decoded lists."""
    a = [{"code": "renewal_due", "value": 30}, {"code": "high_ltv"}]
    b = [{"code": "high_ltv"}, {"code": "churn_risk", "value": 0.4}]
    pair = pd.DataFrame(
        {
            "segment_a": ["deepen", "deepen", "nurture", "maintain"],
            "segment_b": ["nurture", "deepen", NONE, "reduce"],
            "reasons_a": [json.dumps(a), json.dumps(a), a, None],
            "reasons_b": [json.dumps(b), "not json: never read", "null", json.dumps(b)],
            "ltv_a": [10.0, 5.0, 4.0, 1.0],
            "ltv_b": [20.0, 5.0, None, 2.0],
            "growth_a": [1.0, 1.0, 1.0, 1.0],
            "growth_b": [1.0, 1.0, None, 1.0],
        },
        index=[1, 2, 3, 4],
    )
    thresholds = {"a": {"value_threshold": 15.0}, "b": {"value_threshold": 15.0}}
    moved = move_drivers(pair, thresholds)
    assert list(moved.index) == [1, 3, 4]  # account 2 did not move: its reasons stay unread
    assert moved["reasons_added"].tolist() == [["churn_risk"], [], ["churn_risk", "high_ltv"]]
    assert moved["reasons_dropped"].tolist() == [["renewal_due"], ["high_ltv", "renewal_due"], []]
    assert [[d["code"] for d in found] for found in moved["drivers"]] == [["value"], [], []]
