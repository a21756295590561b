"""State shared by CLI commands: the language chosen with ``--lang``, the settings, and the
exit statuses every command uses (0 done, 1 refused data, 2 usage, 130 interrupted).

Imports the settings and the message catalogs only when a command asks for them, so that
``tillage --help`` starts without them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from tillage.errors import DataValidationError, NotFoundError, ParameterError, TillageError

if TYPE_CHECKING:
    from tillage.config import Settings


@dataclass
class CliState:
    """Options given before the command name."""

    lang: str | None = None

    def settings(self) -> Settings:
        """The settings, with ``--lang`` applied."""
        from tillage.config import get_settings

        settings = get_settings()
        if self.lang is not None:
            settings = settings.model_copy(update={"language": self.lang})
        return settings

    def gettext(self):  # type: ignore[no-untyped-def]
        """The ``_`` function for the effective language."""
        from tillage.i18n import gettext_for

        return gettext_for(self.settings().language)


state = CliState()


EXIT_REFUSED = 1
"""Exit status when input data or an object asked for was refused (the message names it)."""
EXIT_USAGE = 2
"""Exit status for a usage error: a wrong option, a setting or file the command cannot use."""


def exit_status(exc: TillageError) -> int:
    """The exit status for a tillage error: 2 for a parameter out of range or malformed (a
    usage error), 1 for refused data or a missing object, else 2."""
    if isinstance(exc, ParameterError):
        return EXIT_USAGE
    return EXIT_REFUSED if isinstance(exc, DataValidationError | NotFoundError) else EXIT_USAGE


def print_written(text: str) -> None:
    """Print a line that names a file written, unwrapped and unhighlighted, so that a path longer
    than the terminal stays one piece a user can copy (a wrapped path is a wrong path)."""
    from rich.console import Console

    Console(soft_wrap=True, highlight=False).print(text)
