"""``tillage one-on-one``: the 1on1 agenda of one rep (``docs/review.md``).

Listed in :data:`tillage.cli.commands.COMMANDS`; the agenda is
:func:`tillage.services.reviews.build_agenda`. The command line is the operator, who sees every rep.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tillage.cli.context import state
from tillage.cli.localize import N_
from tillage.cli.review import (
    KpiEngine,
    OutFile,
    ReportFormat,
    operator_session,
    strategy_in_force,
    write_output,
)

__all__ = ["one_on_one"]


def one_on_one(
    rep: Annotated[str, typer.Option(help=N_("The rep: key (as imported) or id."))],
    fmt: ReportFormat = "md",
    out: OutFile = None,
    period: Annotated[
        str | None,
        typer.Option(help=N_("Period of the behaviour KPIs (default: the snapshot's quarter).")),
    ] = None,
    strategy: Annotated[
        Path | None, typer.Option(help=N_("Strategy file (default: the saved strategy in force)."))
    ] = None,
    engine: KpiEngine = "duckdb",
) -> None:
    """A rep's 1on1 agenda: top accounts, risks, open deals and coaching questions.

    The rep's top accounts and why, accounts at risk, open deals, behaviour against the team,
    and coaching questions (in the --lang language)."""
    from tillage.report.review import render_agenda
    from tillage.services.reach import OPERATOR
    from tillage.services.reviews import rep_agenda
    from tillage.store.access import everything

    settings = state.settings()
    with operator_session(settings) as session:
        agenda = rep_agenda(
            session,
            settings,
            settings.language,
            OPERATOR,
            everything(),
            rep,
            period=period,
            engine=engine,
            strategy=strategy_in_force(settings, strategy) if strategy else None,
        )
    write_output(render_agenda(agenda, fmt), out)
