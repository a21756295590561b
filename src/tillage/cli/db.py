"""``tillage db``: create or upgrade the store's schema."""

from __future__ import annotations

import typer
from rich.console import Console

from tillage.cli.context import state
from tillage.cli.localize import N_
from tillage.store.database import current_revision, engine_from_settings, migrate

app = typer.Typer(help=N_("Manage the store's schema."), no_args_is_help=True)


@app.command("upgrade", help=N_("Create the store or upgrade it to the newest schema."))
def upgrade() -> None:
    settings = state.settings()
    _ = state.gettext()
    engine = engine_from_settings(settings)
    migrate(engine)
    Console().print(
        _("Store at {url} is at schema revision {revision}.").format(
            url=engine.url.render_as_string(hide_password=True),
            revision=current_revision(engine),
        )
    )
