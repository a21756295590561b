"""The ``tillage`` command line. Every command is a thin surface over the stages' functions."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.console import Console
from sqlalchemy.exc import SQLAlchemyError

from tillage.cli import (
    db,
    deals,
    demo,
    features,
    imports,
    kpi,
    one_on_one,
    portfolio,
    review,
    score,
    serve,
    simulate,
    strategy,
    users,
)
from tillage.cli.clv import clv
from tillage.cli.context import EXIT_USAGE, exit_status, state
from tillage.cli.ltv import backtest_command, ltv_command
from tillage.errors import TillageError
from tillage.i18n import LANGUAGES

app = typer.Typer(
    name="tillage",
    help="LTV-based account strategy for B2B sales.",
    no_args_is_help=True,
    add_completion=False,
)
app.command("demo")(demo.demo)
app.command("demo-export")(demo.demo_export)
app.command("serve")(serve.serve)
app.command("import")(imports.import_command)
app.command("score")(score.score)
app.command("clv")(clv)
app.command("features")(features.features_command)
app.command("ltv")(ltv_command)
app.command("backtest")(backtest_command)
app.command("kpi")(kpi.kpi_command)
app.command("review")(review.review_command)
app.command("one-on-one")(one_on_one.one_on_one)
app.command("portfolio")(portfolio.portfolio)
app.command("plan")(portfolio.plan)
app.command("diff")(portfolio.diff)
app.add_typer(portfolio.export_app, name="export")
app.add_typer(db.app, name="db")
app.add_typer(users.app, name="users")
app.add_typer(deals.app, name="deals")
app.add_typer(strategy.app, name="strategy")
app.add_typer(simulate.app, name="simulate")


@app.callback()
def _global(
    lang: Annotated[
        str | None, typer.Option("--lang", help="Language of the output: ja or en.")
    ] = None,
) -> None:
    """tillage: LTV-based account strategy for B2B sales."""
    if lang is not None and lang not in LANGUAGES:
        raise typer.BadParameter(f"choose one of {', '.join(LANGUAGES)}", param_hint="--lang")
    state.lang = lang


def main() -> None:
    """Entry point: run the app and exit with its status.

    0 when the command did its work; 1 when input data was refused (the message names file, row
    and column) or an object asked for does not exist; 2 for a usage error (an unknown option, a
    bad value, an unusable setting, a store that cannot be read); 130 when interrupted.
    ``typer.Exit(n)`` raised by a command exits with ``n``: without ``standalone_mode`` click
    *returns* that code instead of exiting.
    """
    try:
        status = app(standalone_mode=False)
    except TillageError as exc:
        Console(stderr=True).print(f"[bold red]error:[/] {exc}", highlight=False)
        sys.exit(exit_status(exc))
    except (typer.Abort, KeyboardInterrupt):
        Console(stderr=True).print("aborted")
        sys.exit(130)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except SQLAlchemyError as exc:  # a store a command reads without checking it first
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        Console(stderr=True).print(
            f"[bold red]error:[/] the store cannot be read ({reason}); "
            "run `tillage db upgrade` or check --database-url / TILLAGE_DATABASE_URL",
            highlight=False,
        )
        sys.exit(EXIT_USAGE)
    except typer.TyperException as exc:  # usage errors: a wrong option, a bad value
        # (typer vendors click: its ClickException derives from TyperException, not click's)
        show = getattr(exc, "show", None)
        if show is None:
            raise
        show()
        sys.exit(getattr(exc, "exit_code", EXIT_USAGE))
    sys.exit(status if isinstance(status, int) else 0)
