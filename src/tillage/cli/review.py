"""``tillage review``: the period review of a month or quarter (``docs/review.md``).

Registered by ``tillage.cli.main`` as ``app.command("review")(review.review_command)``; the
review itself is :func:`tillage.kpi.review.build_review`, rendered by
:mod:`tillage.report.review`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from tillage.cli.context import state
from tillage.config import Settings
from tillage.kpi.review import build_review
from tillage.report.review import FORMATS, render_review
from tillage.store.database import engine_from_settings
from tillage.strategy.config import Strategy
from tillage.strategy.scoring import resolve_strategy

__all__ = ["KpiEngine", "OutFile", "ReportFormat", "review_command", "write_output"]


def _report_format(value: str) -> str:
    if value not in FORMATS:
        raise typer.BadParameter(f"choose one of {', '.join(FORMATS)}", param_hint="--format")
    return value


ReportFormat = Annotated[
    str,
    typer.Option("--format", help="Output: md (Markdown), html or json.", callback=_report_format),
]
OutFile = Annotated[Path | None, typer.Option(help="Write to this file instead of printing.")]
KpiEngine = Annotated[
    str, typer.Option(help="Where to compute the KPIs: duckdb, postgres or spark.")
]


def strategy_in_force(settings: Settings, path: Path | None) -> Strategy:
    """The strategy file ``path`` when given, else the one the scoring uses: the newest saved
    version (``tillage strategy`` or the settings page), else the defaults."""
    engine = engine_from_settings(settings)
    try:
        return resolve_strategy(engine, path)[0]
    finally:
        engine.dispose()


def write_output(text: str, out: Path | None) -> None:
    """Print ``text``, or write it to ``out`` and say so on stderr."""
    if out is None:
        typer.echo(text, nl=False)
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    Console(stderr=True).print(state.gettext()("wrote {name}").format(name=out.name))


def review_command(
    period: Annotated[str, typer.Option(help="Month (2026-09) or quarter (2026-Q3) to review.")],
    fmt: ReportFormat = "md",
    out: OutFile = None,
    by: Annotated[
        list[str] | None, typer.Option(help="KPI cuts besides the company: rep, team, segment.")
    ] = None,
    strategy: Annotated[
        Path | None,
        typer.Option(
            help="Strategy file with the [kpi] targets (default: the saved strategy in force)."
        ),
    ] = None,
    engine: KpiEngine = "duckdb",
) -> None:
    """The period review: KPIs, segment migration, plan execution and forecast accuracy.

    KPIs against the previous period and target, segment migration, plan execution, forecast
    accuracy and meetings against retention."""
    settings = state.settings()
    review = build_review(
        settings.resolved_database_url,
        period,
        strategy=strategy_in_force(settings, strategy),
        by=("all", *(by if by is not None else ["team"])),
        lang=settings.language,
        currency=settings.currency,
        engine=engine,
    )
    write_output(render_review(review, fmt), out)
