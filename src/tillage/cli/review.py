"""``tillage review``: the period review of a month or quarter (``docs/review.md``).

Listed in :data:`tillage.cli.commands.COMMANDS`; the review itself is
:func:`tillage.services.reviews.build_review`, rendered by :mod:`tillage.report.review`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from tillage.cli.context import state
from tillage.cli.localize import N_
from tillage.config import Settings

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from tillage.strategy.config import Strategy

# The review, the KPIs and the store are imported in the bodies: the help and a usage error of
# `tillage review` and `tillage one-on-one` start without them

__all__ = [
    "KpiEngine",
    "OutFile",
    "ReportFormat",
    "operator_session",
    "review_command",
    "write_output",
]


def _report_format(value: str) -> str:
    from tillage.report.review import FORMATS

    if value not in FORMATS:
        raise typer.BadParameter(f"choose one of {', '.join(FORMATS)}", param_hint="--format")
    return value


ReportFormat = Annotated[
    str,
    typer.Option(
        "--format", help=N_("Output: md (Markdown), html or json."), callback=_report_format
    ),
]
OutFile = Annotated[Path | None, typer.Option(help=N_("Write to this file instead of printing."))]
KpiEngine = Annotated[
    str, typer.Option(help=N_("Where to compute the KPIs: duckdb, postgres or spark."))
]


def strategy_in_force(settings: Settings, path: Path | None) -> Strategy:
    """:func:`tillage.services.strategy.strategy_in_force` on the configured store: the file
    ``path`` when given, else the newest saved version, else the defaults."""
    from tillage.services import strategy as strategies
    from tillage.store.database import engine_from_settings

    engine = engine_from_settings(settings)
    try:
        return strategies.strategy_in_force(engine, path, currency=settings.currency)
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
    period: Annotated[
        str, typer.Option(help=N_("Month (2026-09) or quarter (2026-Q3) to review."))
    ],
    fmt: ReportFormat = "md",
    out: OutFile = None,
    by: Annotated[
        list[str] | None, typer.Option(help=N_("KPI cuts besides the company: rep, team, segment."))
    ] = None,
    strategy: Annotated[
        Path | None,
        typer.Option(
            help=N_("Strategy file with the [kpi] targets (default: the saved strategy in force).")
        ),
    ] = None,
    engine: KpiEngine = "duckdb",
) -> None:
    """The period review: KPIs, segment migration, plan execution and forecast accuracy.

    KPIs against the previous period and target, segment migration, plan execution, forecast
    accuracy and meetings against retention."""
    from tillage.report.review import render_review
    from tillage.services.reach import OPERATOR
    from tillage.services.reviews import period_review
    from tillage.store.access import everything

    settings = state.settings()
    with operator_session(settings) as session:
        review = period_review(
            session,
            settings,
            settings.language,
            OPERATOR,
            everything(),
            period,
            by=("all", *(by if by is not None else ["team"])),
            engine=engine,
            strategy=strategy_in_force(settings, strategy) if strategy else None,
        )
    write_output(render_review(review, fmt), out)


@contextmanager
def operator_session(settings: Settings) -> Iterator[Session]:
    """A session on the configured store, for the operator's questions to the services."""
    from sqlalchemy.orm import Session

    from tillage.store.database import engine_from_settings

    engine = engine_from_settings(settings)
    try:
        with Session(engine) as session:
            yield session
    finally:
        engine.dispose()
