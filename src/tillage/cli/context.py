"""State shared by CLI commands: the language chosen with ``--lang`` and the settings.

Imports the settings and the message catalogs only when a command asks for them, so that
``tillage --help`` starts without them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

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
