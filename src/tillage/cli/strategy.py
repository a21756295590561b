"""``tillage strategy``: write, check and show the strategy file (see ``docs/strategy.md``).

Listed in :data:`tillage.cli.commands.COMMANDS`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from tillage.cli.localize import N_
from tillage.errors import ConfigurationError
from tillage.strategy.config import load_strategy
from tillage.strategy.config_text import default_strategy_toml

app = typer.Typer(help=N_("The strategy file: thresholds, weights, playbooks, capacity rules."))


@app.command("init", help=N_("Write the default strategy file, every field commented."))
def init(
    path: Annotated[Path, typer.Argument(help=N_("File to write."))] = Path("strategy.toml"),
    force: Annotated[bool, typer.Option(help=N_("Overwrite an existing file."))] = False,
) -> None:
    if path.exists() and not force:
        raise ConfigurationError(f"{path.name} exists; pass --force to overwrite it")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(default_strategy_toml(), encoding="utf-8")
    Console().print(f"wrote {path}")


@app.command("validate", help=N_("Check a strategy file; name every field at fault."))
def validate(path: Annotated[Path, typer.Argument(help=N_("Strategy file to check."))]) -> None:
    strategy = load_strategy(path)
    Console().print(
        f"{path.name}: valid ({len(strategy.playbooks)} playbooks, currency {strategy.currency})"
    )
