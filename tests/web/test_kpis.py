"""The KPI page: trends and the latest period's table from a KPI frame written out by hand, and
in Chromium against the demo company, the Plotly charts and the numbers of /api/v1/kpis."""

from __future__ import annotations

import pandas as pd
import pytest
from playwright.sync_api import expect

from tillage.kpi import parse_period, trailing
from tillage.kpi.targets import KpiTargets
from tillage.report.formatting import format_value
from tillage.web.kpis import cut_label, cut_order, kpi_trends, latest_changes

Q2, Q3 = trailing(parse_period("2026-Q3"), 2)
TARGETS = KpiTargets(targets={"nrr": 100.0}, by_cut={"segment": {"deepen": {"nrr": 110.0}}})


def _frame() -> pd.DataFrame:
    rows = [
        # period, cut, cut value, kpi, value
        ("2026-Q2", "all", "all", "nrr", 98.0),
        ("2026-Q3", "all", "all", "nrr", 103.0),
        ("2026-Q2", "segment", "reduce", "nrr", 80.0),
        ("2026-Q3", "segment", "reduce", "nrr", 85.0),
        ("2026-Q3", "segment", "-", "nrr", 50.0),
        ("2026-Q2", "segment", "deepen", "nrr", 120.0),
        ("2026-Q3", "segment", "deepen", "nrr", float("nan")),
        ("2026-Q3", "all", "all", "logo_churn_rate", 4.0),
    ]
    frame = pd.DataFrame(rows, columns=["period", "cut", "cut_value", "kpi", "value"])
    return frame.assign(numerator=frame["value"], denominator=1.0)


def _label(cut: str, value: str) -> str:
    return cut_label(cut, value, "en")


def test_cut_order_puts_the_company_first_and_segments_in_portfolio_order() -> None:
    assert cut_order(_frame()) == [
        ("all", "all"),
        ("segment", "deepen"),
        ("segment", "reduce"),
        ("segment", "-"),
    ]
    assert [_label(c, v) for c, v in cut_order(_frame())] == [
        "Company",
        "Deepen",
        "Reduce",
        "(none)",
    ]
    assert cut_label("rep", "Ito", "ja") == "Ito" and cut_label("all", "all", "ja") == "全社"


def test_trends_have_a_line_per_cut_value_with_gaps_and_the_company_target() -> None:
    trends = kpi_trends(_frame(), [Q2, Q3], TARGETS, _label, "en")
    assert [t.kpi for t in trends] == ["logo_churn_rate", "nrr"]  # registry order
    nrr = trends[1]
    assert nrr.target == 100.0 and trends[0].target is None
    lines = dict(nrr.lines)
    assert lines["Company"] == [98.0, 103.0]
    assert lines["Reduce"] == [80.0, 85.0]
    assert lines["(none)"] == [None, 50.0]
    assert lines["Deepen"] == [120.0, None]  # NaN is a gap, not a zero
    assert trends[0].lines[0] == ("Company", [None, 4.0])


def test_latest_changes_compare_with_the_period_before_and_the_target() -> None:
    changes = latest_changes(_frame(), [Q2, Q3], TARGETS, "en")
    keys = [(c.kpi, c.cut_value) for c in changes]
    assert keys == [
        ("logo_churn_rate", "all"),
        ("nrr", "all"),
        ("nrr", "deepen"),
        ("nrr", "reduce"),
        ("nrr", "-"),
    ]
    company = changes[1]
    assert (company.value, company.previous, company.change) == (103.0, 98.0, 5.0)
    assert (company.target, company.gap, company.met, company.improved) == (100.0, 3.0, True, True)
    deepen = changes[2]
    assert deepen.value is None and deepen.target == 110.0 and deepen.met is None
    reduce = changes[3]
    assert reduce.target == 100.0 and reduce.gap == -15.0 and reduce.met is False
    only = latest_changes(_frame(), [Q3], TARGETS, "en")
    assert all(c.previous is None for c in only)


@pytest.mark.browser
def test_kpi_page_draws_the_trends_and_shows_the_apis_numbers(page_as) -> None:
    page = page_as("manager")
    page.goto("/kpis?by=team&lang=en")
    api = page.request.get("/api/v1/kpis", params={"by": "team"}).json()
    expect(page.locator("h1")).to_contain_text(api["period"])
    page.wait_for_selector('[data-figure="kpi-nrr"][data-rendered="true"]')
    assert page.locator('[data-figure="kpi-nrr"] svg.main-svg').count() >= 1
    expect(page.locator("#trends section[data-kpi]")).to_have_count(
        len({r["kpi"] for r in api["rows"]})
    )
    table = page.locator("#kpi-table tbody tr")
    expect(table).to_have_count(len(api["rows"]))
    read = "rows => rows.map(r => ({...r.dataset, value: r.querySelector('td.value').innerText}))"
    shown = {(r["kpi"], r["cut"], r["cutValue"]): r["value"] for r in table.evaluate_all(read)}
    assert shown == {
        (r["kpi"], r["cut"], r["cut_value"]): format_value(r["value"], r["unit"], "JPY", "en")
        for r in api["rows"]
    }
    assert {cut for _kpi, cut, _value in shown} == {"all", "team"}
