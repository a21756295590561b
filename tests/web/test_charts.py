"""The dashboard's charts speak the reader's language: money ticks as the one money format
writes them (¥2,500万), dates and periods as 2026年10月, hover labels in Japanese; English
unchanged apart from money ticks."""

from __future__ import annotations

import datetime as dt
import itertools
import re

import pytest

from tillage.i18n import format_money
from tillage.services.accounts import CellOut
from tillage.services.snapshot_frames import DealCell
from tillage.store.snapshots import ScorePoint
from tillage.web.assets import PLOTLY_JS, PLOTLY_TRACES, STATIC_DIR
from tillage.web.charts import (
    capacity_chart,
    deal_heatmap,
    history_chart,
    kpi_trend_chart,
    money_axis,
    nice_ticks,
    period_label,
    segment_heatmap,
)

TEMPLATES = STATIC_DIR.with_name("templates")


def test_nice_ticks_are_round_steps_covering_the_values() -> None:
    ticks = nice_ticks(12_345_678.0, 98_765_432.0)
    assert ticks[0] == 0 and ticks[-1] >= 98_765_432.0
    steps = {round(b - a) for a, b in itertools.pairwise(ticks)}
    assert steps == {20_000_000}
    assert 4 <= len(ticks) <= 7


@pytest.mark.parametrize(
    ("lang", "pattern"),
    [("ja", r"^￥[\d,.]+(万|億)$|^￥0$"), ("en", r"^¥[\d,.]+[KMB]$|^¥0$")],
)
def test_money_ticks_read_as_compact_amounts(lang: str, pattern: str) -> None:
    axis = money_axis([3.2e7, 1.9e8, None], "JPY", lang)
    assert axis["ticktext"] == [
        format_money(v, "JPY", lang, compact=True) for v in axis["tickvals"]
    ]
    assert all(re.match(pattern, t) for t in axis["ticktext"]), axis["ticktext"]
    assert money_axis([None], "JPY", lang) == {}


def test_periods_read_in_japanese() -> None:
    assert period_label("2026-10", "ja") == "2026年10月"
    assert period_label("2026-Q3", "ja") == "2026年第3四半期"
    assert period_label("2026-10", "en") == "2026-10"


def _points() -> list[ScorePoint]:
    days = [dt.date(2026, 7, 31), dt.date(2026, 8, 31), dt.date(2026, 9, 30)]
    return [
        ScorePoint(i, day, 4.0e7 + 1e6 * i, 3.0e7, 5.5e7, 0.2, "A", "deepen", 0.9 - 0.1 * i)
        for i, day in enumerate(days)
    ]


def test_the_value_chart_has_japanese_dates_and_money_ticks() -> None:
    figure = history_chart(_points(), "ja", "JPY")
    layout = figure["layout"]
    assert layout["xaxis"]["tickformat"] == "%Y年%-m月"
    assert all(t.endswith(("万", "億")) or t == "￥0" for t in layout["yaxis"]["ticktext"])
    assert layout["yaxis2"]["ticktext"][-1] == "100%"
    alive = next(t for t in figure["data"] if t.get("yaxis") == "y2")
    assert alive["name"] == "顧客であり続ける確率"
    assert alive["text"][0] == "90%"
    english = history_chart(_points(), "en", "JPY")["layout"]["xaxis"]["tickformat"]
    assert english == "%b %Y"


def test_kpi_trend_hover_labels_are_the_tables_values() -> None:
    figure = kpi_trend_chart(
        ["2026-08", "2026-09"],
        [("全社", [1.5e6, None])],
        2.0e6,
        percent=False,
        lang="ja",
        unit="currency",
        currency="JPY",
    )
    company, target = figure["data"]
    assert company["x"] == ["2026年8月", "2026年9月"]
    assert company["text"] == [format_money(1.5e6, "JPY", "ja"), "—"]
    assert target["hovertemplate"].startswith("目標")
    assert target["text"][0] == format_money(2.0e6, "JPY", "ja")
    assert "万" in "".join(figure["layout"]["yaxis"]["ticktext"])


def test_every_chart_draws_with_the_bundled_plotly() -> None:
    """The pages load the cartesian bundle of Plotly.js; it registers exactly
    :data:`PLOTLY_TRACES`, and every chart the dashboard builds uses only those trace types (a
    type outside the bundle would leave an empty frame)."""
    bundle = (STATIC_DIR / PLOTLY_JS).read_text(encoding="utf-8")
    registered = set(re.findall(r'moduleType:"trace",name:"(\w+)"', bundle))
    assert registered == PLOTLY_TRACES
    assert f"/static/{PLOTLY_JS}?" in (TEMPLATES / "_plot.html").read_text(encoding="utf-8")
    cells = [CellOut(key=k, accounts=3, total_ltv=1e6, borderline=1) for k in
             ("deepen", "maintain", "nurture", "reduce")]  # fmt: skip
    deals = [
        DealCell(large, likely, "A", 2, 2, 1e6, 5e5, 0)
        for large, likely in itertools.product((False, True), repeat=2)
    ]
    figures = [
        segment_heatmap(cells, "ja", "JPY", lambda s: f"/accounts?segment={s}"),
        deal_heatmap(deals, "ja", "JPY", lambda z: f"/deals?zone={z}"),
        history_chart(_points(), "ja", "JPY"),
        capacity_chart(["営業 一郎"], [12.0], [40.0], "ja"),
        kpi_trend_chart(["2026-08"], [("全社", [1.0])], None, percent=True, lang="ja"),
    ]
    used = {trace["type"] for figure in figures for trace in figure["data"]}
    assert used == {"heatmap", "scatter", "bar"}
    assert used <= registered
