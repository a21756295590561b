"""The ``tillage`` command line. Every command is a thin surface over the services.

The commands are listed in :data:`tillage.cli.commands.COMMANDS` and loaded lazily
(:class:`~tillage.cli.commands.LazyGroup`): ``tillage --help`` imports none of them.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.console import Console

from tillage.cli.commands import LazyGroup
from tillage.cli.context import state
from tillage.errors import TillageError

app = typer.Typer(
    name="tillage",
    help="LTV-based account strategy for B2B sales.",
    no_args_is_help=True,
    add_completion=False,
    cls=LazyGroup,
)


@app.callback()
def _global(
    lang: Annotated[
        str | None, typer.Option("--lang", help="Language of the output: ja or en.")
    ] = None,
) -> None:
    """tillage: LTV-based account strategy for B2B sales."""
    from tillage.i18n import LANGUAGES

    if lang is not None and lang not in LANGUAGES:
        raise typer.BadParameter(f"choose one of {', '.join(LANGUAGES)}", param_hint="--lang")
    state.lang = lang


def main() -> None:
    """Entry point: run the app, turning tillage errors into a message and exit code 2."""
    try:
        app(standalone_mode=False)
    except TillageError as exc:
        Console(stderr=True).print(f"[bold red]error:[/] {exc}", highlight=False)
        sys.exit(2)
    except (typer.Abort, KeyboardInterrupt):
        Console(stderr=True).print("aborted")
        sys.exit(130)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.TyperException as exc:  # usage errors: a wrong option, a bad value
        # (typer vendors click: its ClickException derives from TyperException, not click's)
        show = getattr(exc, "show", None)
        if show is None:
            raise
        show()
        sys.exit(getattr(exc, "exit_code", 2))
