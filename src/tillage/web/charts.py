"""Plotly.js figures for the dashboard, built as plain dicts on the server.

The browser draws them with the bundled Plotly.js (see :mod:`tillage.web.assets`); no plotting
library is imported here. Every number shown in a cell is formatted on the server in the user's
language and the company currency, so the chart and the tables beside it agree to the yen.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from typing import Any

from babel.numbers import get_currency_name

from tillage.i18n import format_money, format_number, gettext_for
from tillage.services.accounts import CellOut
from tillage.services.snapshot_frames import DealCell
from tillage.store.snapshots import ScorePoint

Figure = dict[str, Any]
GREENS = [[0.0, "#f1f5ec"], [0.5, "#a9c89a"], [1.0, "#3d7a45"]]
FONT = {"family": 'system-ui, "Noto Sans CJK JP", "Hiragino Sans", sans-serif', "size": 13}
DATE_FORMATS = {
    "ja": {"tickformat": "%Y年%-m月", "hoverformat": "%Y年%-m月%-d日"},
    "en": {"tickformat": "%b %Y", "hoverformat": "%b %-d, %Y"},
}
"""Date axes: ticks by month (2026年10月 / Oct 2026), hover by day. Plotly writes the month
names of the page's locale (static/plotly-locale-ja.js registers the Japanese one)."""
_PERIOD = re.compile(r"^(\d{4})-(?:(\d{2})|[Qq]([1-4]))$")


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """About ``count`` round tick values covering ``[min(low, 0), high]``: a step of 1, 2, 2.5
    or 5 × 10^k, so that every tick is a round amount (¥2,500万, ¥5,000万 …)."""
    low, high = min(low, 0.0), max(high, 0.0)
    if not (math.isfinite(low) and math.isfinite(high)) or high <= low:
        return [low] if math.isfinite(low) else []
    raw = (high - low) / max(1, count)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    first, last = math.floor(low / step), math.ceil(high / step)
    return [k * step for k in range(first, last + 1)]


def money_axis(values: Sequence[float | None], currency: str, lang: str) -> dict[str, Any]:
    """A y axis of amounts whose ticks read as the one money format writes them, compact
    (¥2,500万, ¥1.2億 in Japanese; ¥25M in English) instead of Plotly's SI prefixes (25M, 1.2G)."""
    finite = [float(v) for v in values if v is not None and math.isfinite(v)]
    if not finite:
        return {}
    ticks = nice_ticks(min(finite), max(finite))
    return {
        "tickmode": "array",
        "tickvals": ticks,
        "ticktext": [format_money(t, currency, lang, compact=True) for t in ticks],
    }


def _month_step(points: Sequence[ScorePoint]) -> str:
    """Ticks one month apart over a year or less, a quarter apart up to three years, else a
    year (Plotly would otherwise tick twice a month and repeat the month's name)."""
    days = (max(p.as_of for p in points) - min(p.as_of for p in points)).days if points else 0
    return "M1" if days <= 370 else "M3" if days <= 3 * 370 else "M12"


def period_label(label: str, lang: str) -> str:
    """A KPI period's label for a chart: ``2026-10`` → 2026年10月, ``2026-Q3`` → 2026年第3四半期
    in Japanese; unchanged in English."""
    match = _PERIOD.match(label)
    if lang != "ja" or not match:
        return label
    year, month, quarter = match.groups()
    return f"{year}年{int(month)}月" if month else f"{year}年第{quarter}四半期"


def segment_label(segment: str, lang: str) -> str:
    """The value × growth cell's name in ``lang`` (deepen → 深耕 in Japanese)."""
    _ = gettext_for(lang)
    labels = {
        "deepen": _("Deepen"),
        "maintain": _("Maintain"),
        "nurture": _("Nurture"),
        "reduce": _("Reduce"),
    }
    return labels.get(segment, segment)


def _cell_text(title: str, cell: CellOut, lang: str, currency: str) -> str:
    _ = gettext_for(lang)
    lines = [
        f"<b>{title}</b>",
        _("%(count)s accounts") % {"count": format_number(cell.accounts, lang)},
        format_money(cell.total_ltv, currency, lang, compact=True),
    ]
    if cell.borderline:
        lines.append(
            "⚠ " + _("%(count)s borderline") % {"count": format_number(cell.borderline, lang)}
        )
    return "<br>".join(lines)


def _heatmap(
    z: list[list[int]],
    text: list[list[str]],
    links: list[list[str]],
    x: list[str],
    y: list[str],
    height: int,
) -> Figure:
    trace = {
        "type": "heatmap",
        "z": z,
        "x": x,
        "y": y,
        "text": text,
        "customdata": links,
        "texttemplate": "%{text}",
        "hovertemplate": "%{text}<extra></extra>",
        "colorscale": GREENS,
        "showscale": False,
        "xgap": 3,
        "ygap": 3,
        "zmin": 0,
    }
    layout = {
        "height": height,
        "margin": {"l": 10, "r": 10, "t": 10, "b": 50},
        "font": FONT,
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
        "xaxis": {"fixedrange": True, "side": "bottom", "automargin": True},
        "yaxis": {"fixedrange": True, "automargin": True},
    }
    return {"data": [trace], "layout": layout}


def segment_heatmap(
    cells: Sequence[CellOut], lang: str, currency: str, link: Callable[[str], str]
) -> Figure:
    """The value × growth matrix: value (LTV) high on top, growth high on the right; each cell
    shows its accounts, their total LTV and how many are borderline; ``link(segment)`` is where a
    click goes."""
    _ = gettext_for(lang)
    by_key = {c.key: c for c in cells}
    grid = [["reduce", "nurture"], ["maintain", "deepen"]]  # rows: value low, high
    return _heatmap(
        z=[[by_key[s].accounts for s in row] for row in grid],
        text=[
            [_cell_text(segment_label(s, lang), by_key[s], lang, currency) for s in row]
            for row in grid
        ],
        links=[[link(s) for s in row] for row in grid],
        x=[_("Growth potential: low"), _("Growth potential: high")],
        y=[_("Value (LTV): low"), _("Value (LTV): high")],
        height=360,
    )


def deal_heatmap(
    cells: Sequence[DealCell], lang: str, currency: str, link: Callable[[str], str]
) -> Figure:
    """The deal size × win probability matrix: large deals on top, likely ones on the right;
    each cell names its zone and shows its open deals, their total amount and how many are
    borderline; ``link(zone)`` is where a click goes (the accounts with a deal in the zone)."""
    _ = gettext_for(lang)
    by_place = {(c.large, c.likely): c for c in cells}
    grid = [[(False, False), (False, True)], [(True, False), (True, True)]]  # rows: small, large

    def text(cell: DealCell) -> str:
        lines = [
            "<b>" + _("Zone %(zone)s") % {"zone": cell.zone} + "</b>",
            _("%(count)s deals") % {"count": format_number(cell.deals, lang)},
            format_money(cell.amount, currency, lang, compact=True),
        ]
        if cell.borderline:
            lines.append(
                "⚠ " + _("%(count)s borderline") % {"count": format_number(cell.borderline, lang)}
            )
        return "<br>".join(lines)

    return _heatmap(
        z=[[by_place[p].deals for p in row] for row in grid],
        text=[[text(by_place[p]) for p in row] for row in grid],
        links=[[link(by_place[p].zone) for p in row] for row in grid],
        x=[_("Win probability: low"), _("Win probability: high")],
        y=[_("Deal size: small"), _("Deal size: large")],
        height=360,
    )


def _currency_name(currency: str, lang: str) -> str:
    """The currency as a Japanese axis names it (日本円); its code in English (JPY)."""
    return get_currency_name(currency, locale="ja_JP") if lang == "ja" else currency


def history_chart(points: Sequence[ScorePoint], lang: str, currency: str) -> Figure:
    """LTV across snapshots with its interval as a band, and P(alive) on a second axis when the
    snapshots carry it."""
    _ = gettext_for(lang)
    dates = [p.as_of.isoformat() for p in points]
    data: list[dict[str, Any]] = []
    if any(p.ltv_low is not None and p.ltv_high is not None for p in points):
        data.append(
            {
                "type": "scatter",
                "x": dates + dates[::-1],
                "y": [p.ltv_high for p in points] + [p.ltv_low for p in points][::-1],
                "fill": "toself",
                "fillcolor": "rgba(61,122,69,0.15)",
                "line": {"width": 0},
                "hoverinfo": "skip",
                "name": _("LTV interval"),
            }
        )
    data.append(
        {
            "type": "scatter",
            "mode": "lines+markers",
            "x": dates,
            "y": [p.ltv for p in points],
            "text": ["" if p.ltv is None else format_money(p.ltv, currency, lang) for p in points],
            "hovertemplate": "%{x}: %{text}<extra></extra>",
            "line": {"color": "#3d7a45"},
            "name": _("LTV"),
        }
    )
    layout: dict[str, Any] = {
        "height": 300,
        "margin": {"l": 80, "r": 60, "t": 10, "b": 40},
        "font": FONT,
        "paper_bgcolor": "rgba(0,0,0,0)",
        "legend": {"orientation": "h", "y": -0.2},
        "yaxis": {
            "title": {
                "text": _("LTV (%(currency)s)") % {"currency": _currency_name(currency, lang)},
                "standoff": 8,
            },
            "automargin": True,
            **money_axis(
                [v for p in points for v in (p.ltv, p.ltv_low, p.ltv_high)], currency, lang
            ),
        },
        "xaxis": {"type": "date", "dtick": _month_step(points), **DATE_FORMATS[lang]},
    }
    alive = [p.p_alive for p in points]
    if any(a is not None for a in alive):
        data.append(
            {
                "type": "scatter",
                "mode": "lines+markers",
                "x": dates,
                "y": alive,
                "yaxis": "y2",
                "text": ["" if a is None else format_number(100 * a, lang) + "%" for a in alive],
                "hovertemplate": "%{x}: %{text}<extra></extra>",
                "line": {"color": "#c49a1a", "dash": "dot"},
                "name": _("Probability still a customer"),
            }
        )
        layout["yaxis2"] = {
            "overlaying": "y",
            "side": "right",
            "range": [0, 1],
            "tickvals": [0, 0.25, 0.5, 0.75, 1],
            "ticktext": [format_number(100 * t, lang) + "%" for t in (0, 0.25, 0.5, 0.75, 1)],
            "showgrid": False,
        }
    return {"data": data, "layout": layout}


def _layout(height: int, **extra: Any) -> dict[str, Any]:
    return {
        "height": height,
        "font": FONT,
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
        **extra,
    }


def capacity_chart(
    names: Sequence[str],
    planned: Sequence[float | None],
    capacity: Sequence[float | None],
    lang: str,
) -> Figure:
    """Hours planned against hours available, one horizontal bar pair per rep (first rep on
    top); the planned bar is labelled with its share of the capacity."""
    _ = gettext_for(lang)
    used = [
        format_number(100 * p / c, lang) + "%" if p is not None and c else ""
        for p, c in zip(planned, capacity, strict=True)
    ]
    hours = _("Hours")
    bars = [
        {
            "type": "bar",
            "orientation": "h",
            "y": list(names),
            "x": list(capacity),
            "name": _("Capacity (hours)"),
            "marker": {"color": "#d9e2d3"},
            "hovertemplate": f"%{{y}}: %{{x:.1f}} {hours}<extra></extra>",
        },
        {
            "type": "bar",
            "orientation": "h",
            "y": list(names),
            "x": list(planned),
            "name": _("Planned (hours)"),
            "marker": {"color": "#3d7a45"},
            "width": 0.5,
            "text": used,
            "textposition": "outside",
            "cliponaxis": False,
            "hovertemplate": f"%{{y}}: %{{x:.1f}} {hours} (%{{text}})<extra></extra>",
        },
    ]
    return {
        "data": bars,
        "layout": _layout(
            80 + 30 * max(1, len(names)),
            barmode="overlay",
            margin={"l": 120, "r": 50, "t": 30, "b": 40},
            legend={"orientation": "h", "x": 0, "y": 1.0, "yanchor": "bottom"},
            xaxis={"title": {"text": hours}, "rangemode": "tozero", "fixedrange": True},
            yaxis={"autorange": "reversed", "fixedrange": True, "automargin": True},
        ),
    }


LINE_COLOURS = ["#2b5d8a", "#c49a1a", "#8a4f7d", "#4f8a8b", "#b54708", "#52606d", "#6a994e"]


def kpi_trend_chart(
    periods: Sequence[str],
    lines: Sequence[tuple[str, Sequence[float | None]]],
    target: float | None,
    *,
    percent: bool,
    lang: str,
    unit: str | None = None,
    currency: str = "JPY",
) -> Figure:
    """One KPI across ``periods``: a line per ``(label, values)`` (the first, the company,
    drawn bold) and the company's target as a dashed horizontal line when there is one.
    Periods read as 2026年10月 in Japanese; an amount (``unit="currency"``) has money ticks
    (¥2,500万) and every point's hover label is the value as the tables write it."""
    _ = gettext_for(lang)
    unit = unit or ("percent" if percent else "number")
    periods = [period_label(p, lang) for p in periods]

    def shown(value: float | None) -> str:
        if value is None or not math.isfinite(value):
            return "—"
        if unit == "currency":
            return format_money(value, currency, lang)
        if unit == "percent":
            return format_number(value, lang, digits=1) + "%"
        return format_number(value, lang, digits=0 if unit == "count" else 1)

    data: list[dict[str, Any]] = []
    for i, (label, values) in enumerate(lines):
        data.append(
            {
                "type": "scatter",
                "mode": "lines+markers",
                "x": list(periods),
                "y": list(values),
                "name": label,
                "text": [shown(v) for v in values],
                "hovertemplate": "%{x}<br>%{fullData.name}: %{text}<extra></extra>",
                "line": {
                    "color": "#3d7a45" if i == 0 else LINE_COLOURS[(i - 1) % len(LINE_COLOURS)],
                    "width": 3 if i == 0 else 1.5,
                },
                "connectgaps": False,
            }
        )
    if target is not None:
        data.append(
            {
                "type": "scatter",
                "mode": "lines",
                "x": list(periods),
                "y": [target] * len(periods),
                "name": _("Target"),
                "line": {"color": "#b42318", "dash": "dash", "width": 2},
                "text": [shown(target)] * len(periods),
                "hovertemplate": _("Target") + ": %{text}<extra></extra>",
            }
        )
    return {
        "data": data,
        "layout": _layout(
            260,
            margin={"l": 60, "r": 10, "t": 10, "b": 30},
            showlegend=len(data) > 1,
            legend={"orientation": "h", "y": -0.2},
            xaxis={"type": "category", "fixedrange": True},
            yaxis={
                "fixedrange": True,
                "ticksuffix": "%" if unit == "percent" else "",
                **(
                    money_axis([v for _label, vs in lines for v in vs] + [target], currency, lang)
                    if unit == "currency"
                    else {}
                ),
            },
        ),
    }
