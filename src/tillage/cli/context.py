"""State shared by CLI commands: the language chosen with ``--lang`` and the settings."""

from __future__ import annotations

from dataclasses import dataclass

from tillage.config import Settings, get_settings
from tillage.i18n import gettext_for


@dataclass
class CliState:
    """Options given before the command name."""

    lang: str | None = None

    def settings(self) -> Settings:
        """The settings, with ``--lang`` applied."""
        settings = get_settings()
        if self.lang is not None:
            settings = settings.model_copy(update={"language": self.lang})
        return settings

    def gettext(self):  # type: ignore[no-untyped-def]
        """The ``_`` function for the effective language."""
        return gettext_for(self.settings().language)


state = CliState()
