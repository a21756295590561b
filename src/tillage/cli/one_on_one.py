"""``tillage one-on-one``: the 1on1 agenda of one rep (``docs/review.md``).

Registered by ``tillage.cli.main`` as ``app.command("one-on-one")(one_on_one.one_on_one)``;
the agenda is :func:`tillage.kpi.agenda.build_agenda`. The command line is the operator, who
sees every rep.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tillage.cli.context import state
from tillage.cli.review import KpiEngine, OutFile, ReportFormat, strategy_in_force, write_output
from tillage.kpi.agenda import build_agenda
from tillage.report.review import render_agenda

__all__ = ["one_on_one"]


def one_on_one(
    rep: Annotated[str, typer.Option(help="The rep: key (as imported) or id.")],
    fmt: ReportFormat = "md",
    out: OutFile = None,
    period: Annotated[
        str | None,
        typer.Option(help="Period of the behaviour KPIs (default: the snapshot's quarter)."),
    ] = None,
    strategy: Annotated[
        Path | None, typer.Option(help="Strategy file (default: the saved strategy in force).")
    ] = None,
    engine: KpiEngine = "duckdb",
) -> None:
    """A rep's 1on1 agenda: top accounts, risks, open deals and coaching questions.

    The rep's top accounts and why, accounts at risk, open deals, behaviour against the team,
    and coaching questions (in the --lang language)."""
    settings = state.settings()
    agenda = build_agenda(
        settings.resolved_database_url,
        rep,
        strategy=strategy_in_force(settings, strategy),
        lang=settings.language,
        period=period,
        engine=engine,
    )
    write_output(render_agenda(agenda, fmt), out)
