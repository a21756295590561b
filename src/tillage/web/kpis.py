"""The KPI page: each KPI's trend against its target, by period, with cuts by rep, team or
segment, and the latest period's values with their gap to target.

The values come from :func:`tillage.services.kpis.kpi_rows`, the function behind ``/api/v1/kpis``
(asked for several periods at once), so the page shows a caller exactly the rows the API gives
them: the company, and the reps, teams or segments of their reach. Targets are the strategy
file's ``[kpi]`` section (:mod:`tillage.kpi.targets`), as in the period review.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import urlencode

import pandas as pd
from fastapi import Query, Request
from fastapi.responses import Response

from tillage.i18n import gettext_for
from tillage.kpi import REGISTRY, Period
from tillage.kpi.review import KpiChange, changes_between, optional_float
from tillage.kpi.targets import KpiTargets, targets_from_settings
from tillage.report.formatting import format_change, format_value
from tillage.report.portfolio import SEGMENTS
from tillage.services.kpis import KpiRow, allowed_cuts, kpi_rows, kpi_table
from tillage.services.strategy import strategy_in_force
from tillage.serving.auth import CurrentUser, VisibleAccounts, protected_router
from tillage.serving.deps import LanguageDep, SessionDep, SettingsDep
from tillage.serving.etag import SnapshotETag
from tillage.serving.params import PERIOD_PATTERN
from tillage.web.charts import kpi_trend_chart, segment_label
from tillage.web.render import PageTable, data_links, data_response, page, table_response

router = protected_router(include_in_schema=False)
TREND_PERIODS = {"quarter": 5, "month": 6, "year": 3}
"""How many periods the trend shows, ending with the chosen one: five quarters compare a quarter
with the same quarter a year before; six months are half a year (each period costs time)."""
CUTS = ("rep", "team", "segment")
EMPTY_OR_PERIOD = "^$|" + PERIOD_PATTERN


def _unit(period: str | None) -> str:
    """``quarter``, ``month`` or ``year``: the kind of ``period`` (default: a quarter)."""
    if not period or "Q" in period.upper():
        return "quarter"
    return "month" if period[-3] == "-" else "year"


@dataclass(frozen=True)
class KpiTrend:
    """One KPI over the periods: ``lines`` are (label, values per period), the company first;
    ``target`` the company's target in the KPI's unit (``None`` without one)."""

    kpi: str
    name: str
    unit: str
    direction: str
    lines: list[tuple[str, list[float | None]]]
    target: float | None


def cut_order(frame: pd.DataFrame) -> list[tuple[str, str]]:
    """The (cut, cut value) pairs of ``frame``: the company first, segments in portfolio order,
    other values by name, ``-`` (none) last."""

    def key(pair: tuple[str, str]) -> tuple[int, int, str]:
        cut, value = pair
        rank = SEGMENTS.index(value) if cut == "segment" and value in SEGMENTS else len(SEGMENTS)
        return (cut != "all", value == "-", f"{rank:02d}{value}")

    pairs = {(str(c), str(v)) for c, v in zip(frame["cut"], frame["cut_value"], strict=True)}
    return sorted(pairs, key=key)


def kpi_trends(
    frame: pd.DataFrame,
    periods: Sequence[Period],
    targets: KpiTargets,
    label: Callable[[str, str], str],
    lang: str,
) -> list[KpiTrend]:
    """Each registered KPI in ``frame`` (from :func:`~tillage.kpi.compute_kpis`) across
    ``periods``, one line per cut value named by ``label(cut, cut_value)`` (a period without a
    value is a gap in its line), with the company's target."""
    values = {
        (r.kpi, r.cut, r.cut_value, r.period): optional_float(r.value)
        for r in frame.itertuples(index=False)
    }
    pairs = cut_order(frame)
    present = set(frame["kpi"])
    out = []
    for kpi in REGISTRY.values():
        if kpi.key not in present:
            continue
        lines = [
            (label(cut, value), [values.get((kpi.key, cut, value, p.label)) for p in periods])
            for cut, value in pairs
        ]
        out.append(
            KpiTrend(
                kpi=kpi.key,
                name=kpi.name(lang),
                unit=kpi.unit,
                direction=kpi.direction,
                lines=lines,
                target=targets.target(kpi.key),
            )
        )
    return out


def latest_changes(
    frame: pd.DataFrame, periods: Sequence[Period], targets: KpiTargets, lang: str
) -> list[KpiChange]:
    """Every KPI and cut value of the last of ``periods`` against the one before it (when
    shown) and its target (:func:`tillage.kpi.review.changes_between`, as in the period
    review), by KPI in registry order, then cut value as :func:`cut_order` has them."""
    before = periods[-2].label if len(periods) > 1 else None
    changes = changes_between(frame, periods[-1].label, before, targets, lang=lang)
    kpis = {key: i for i, key in enumerate(REGISTRY)}
    pairs = {pair: i for i, pair in enumerate(cut_order(frame))}
    return sorted(changes, key=lambda c: (kpis[c.kpi], pairs[(c.cut, c.cut_value)]))


def _blank(frame: pd.DataFrame, lang: str) -> list[tuple[str, str]]:
    """The KPIs the store cannot give, named in ``lang``, with the reason."""
    rows = frame[frame.cut == "all"].drop_duplicates("kpi").dropna(subset=["blank_reason"])
    return [(REGISTRY[r.kpi].name(lang), str(r.blank_reason)) for r in rows.itertuples()]


def cut_label(cut: str, value: str, lang: str) -> str:
    """The name of a cut value in ``lang``: the company, a segment's name, or the rep's or
    team's own name (``-``: none)."""
    _ = gettext_for(lang)
    if cut == "all":
        return _("Company")
    if value == "-":
        return _("(none)")
    return segment_label(value, lang) if cut == "segment" else value


def drill_link(kpi: str, period: str, cut: str, value: str) -> str:
    """The drill-down of ``kpi`` in ``period`` for the cut value (``all``: the company): the
    accounts behind the figure (:mod:`tillage.web.kpi_accounts`)."""
    query = {"period": period} | ({} if cut == "all" else {"by": cut, "value": value})
    return f"/kpis/{kpi}/accounts?{urlencode(query)}"


@router.get("/kpis", response_class=Response, dependencies=[SnapshotETag])
def kpis_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    lang: LanguageDep,
    principal: CurrentUser,
    visible: VisibleAccounts,
    period: Annotated[str | None, Query(pattern=EMPTY_OR_PERIOD)] = None,
    by: Annotated[str | None, Query(pattern="^(" + "|".join(CUTS) + ")?$")] = None,
    format: PageTable = "html",
) -> Response:
    """The KPI trends against targets (twin of /api/v1/kpis, over several periods).

    ``?format=json`` is /api/v1/kpis' answer for the chosen period (the page's last one),
    ``?format=csv`` its rows."""
    if format != "html":
        table = kpi_table(
            session,
            settings,
            lang,
            principal,
            visible,
            period=period or None,
            by=by or None,  # type: ignore[arg-type]
        )
        if format == "json":
            return data_response(table)
        return table_response(table.rows, KpiRow, f"kpis-{table.period}.csv")
    unit = _unit(period)
    periods, frame = kpi_rows(
        session,
        settings,
        principal,
        visible,
        period=period or None,
        by=by or None,  # type: ignore[arg-type]
        periods=TREND_PERIODS[unit],
        lang=lang,
    )
    targets = targets_from_settings(strategy_in_force(session).kpi)

    def label(cut: str, value: str) -> str:
        return cut_label(cut, value, lang)

    blank = set(frame.loc[frame.blank_reason.notna(), "kpi"])
    trends = [t for t in kpi_trends(frame, periods, targets, label, lang) if t.kpi not in blank]
    labels = [p.label for p in periods]
    figures = {
        t.kpi: kpi_trend_chart(
            labels,
            t.lines,
            t.target,
            percent=t.unit == "percent",
            lang=lang,
            unit=t.unit,
            currency=settings.currency,
        )
        for t in trends
    }
    currency = settings.currency
    return page(
        request,
        lang,
        "kpis.html",
        principal,
        period=periods[-1].label,
        periods=labels,
        by=by or "",
        cuts=[c for c in CUTS if c in allowed_cuts(principal.role)],
        trends=trends,
        figures=figures,
        cells=latest_changes(frame, periods, targets, lang),
        blank=_blank(frame, lang),
        label=label,
        drill=lambda c: drill_link(c.kpi, periods[-1].label, c.cut, c.cut_value),
        has_targets=bool(targets.targets or targets.by_cut),
        value=lambda v, unit: format_value(v, unit, currency, lang),
        change=lambda v, unit, apart=False: format_change(v, unit, currency, lang, apart=apart),
        currency=currency,
        data=data_links(request, table=True),
    )
