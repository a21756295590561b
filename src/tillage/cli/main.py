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
from tillage.cli.context import EXIT_USAGE, exit_status, state
from tillage.cli.localize import N_, language_gettext, show_usage_error
from tillage.errors import SchemaOutOfDate, TillageError

app = typer.Typer(
    name="tillage",
    help=N_("LTV-based account strategy for B2B sales."),
    no_args_is_help=True,
    add_completion=False,
    cls=LazyGroup,
)


def _choose_language(lang: str | None) -> str | None:
    """``--lang``, taken before the other options (eager) so that the help and the usage errors
    of the command are already in that language."""
    from tillage.i18n import LANGUAGES

    if lang is not None and lang not in LANGUAGES:
        raise typer.BadParameter(f"choose one of {', '.join(LANGUAGES)}", param_hint="--lang")
    state.lang = lang
    return lang


@app.callback()
def _global(
    lang: Annotated[
        str | None,
        typer.Option(
            "--lang",
            help=N_("Language of the output: ja or en."),
            is_eager=True,
            callback=_choose_language,
        ),
    ] = None,
) -> None:
    """LTV-based account strategy for B2B sales."""


def _store_error() -> type[Exception]:
    """SQLAlchemy's base error, imported only when an exception is on its way out (so that
    ``tillage --help`` never imports SQLAlchemy)."""
    from sqlalchemy.exc import SQLAlchemyError

    return SQLAlchemyError


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
        _ = language_gettext()
        line = str(exc)
        if isinstance(exc, SchemaOutOfDate):  # after an upgrade of tillage: the common one
            line = _(
                "the store is at schema revision {revision}, this tillage needs {head}: "
                "run `tillage db upgrade` first."
            ).format(revision=exc.revision or _("none"), head=exc.head)
        Console(stderr=True).print(f"[bold red]{_('error')}:[/] {line}", highlight=False)
        sys.exit(exit_status(exc))
    except (typer.Abort, KeyboardInterrupt):
        _ = language_gettext()
        Console(stderr=True).print(_("aborted"))
        sys.exit(130)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.TyperException as exc:  # usage errors: a wrong option, a bad value
        # (typer vendors click: its ClickException derives from TyperException, not click's)
        if getattr(exc, "show", None) is None:
            raise
        if hasattr(exc, "ctx"):  # a usage error: written in the user's language
            show_usage_error(exc, language_gettext())
        else:
            exc.show()
        sys.exit(getattr(exc, "exit_code", EXIT_USAGE))
    except _store_error() as exc:  # a store a command reads without checking it first
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        _ = language_gettext()
        line = _(
            "the store cannot be read ({reason}); run `tillage db upgrade` or check "
            "--database-url / TILLAGE_DATABASE_URL"
        ).format(reason=reason)
        Console(stderr=True).print(f"[bold red]{_('error')}:[/] {line}", highlight=False)
        sys.exit(EXIT_USAGE)
    sys.exit(status if isinstance(status, int) else 0)
