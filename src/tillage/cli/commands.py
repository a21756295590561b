"""The commands of ``tillage``, loaded lazily.

``tillage --help`` lists the commands from :data:`COMMANDS` without importing any of them (so it
starts without pandas, NumPy, SQLAlchemy or FastAPI), and running a command imports only its own
module. ``tests/cli/test_main.py`` checks that each listed help line is the first line of the
command's own help, and that ``--help`` imports none of the heavy libraries.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

import click
import typer
from typer.core import TyperGroup

from tillage.cli.localize import N_, language_gettext, localize, no_such_command

COMMANDS: dict[str, tuple[str, str, str]] = {
    "demo": (
        "demo:demo",
        "command",
        N_("Build a synthetic B2B company, run the whole pipeline on it and open the dashboard."),
    ),
    "demo-export": (
        "demo:demo_export",
        "command",
        N_(
            "Write the demo company as a Salesforce or HubSpot export folder; "
            "the store is untouched."
        ),
    ),
    "serve": (
        "serve:serve",
        "command",
        N_("Serve the REST API (/api/v1, docs at /api/docs) and the dashboard."),
    ),
    "worker": (
        "worker:worker",
        "command",
        N_("Import and re-score on the strategy file's schedule until stopped (Ctrl+C)."),
    ),
    "import": (
        "imports:import_command",
        "command",
        N_("Import an export into the store: all rows or none, re-imports update in place."),
    ),
    "score": (
        "score:score",
        "command",
        N_("Score every account in the store and write an immutable snapshot."),
    ),
    "clv": (
        "clv:clv",
        "command",
        N_(
            "Fit BG/NBD or Pareto/NBD and Gamma-Gamma to a transaction log; write per-customer CLV."
        ),
    ),
    "features": (
        "features:features_command",
        "command",
        N_("Compute every account's features as of a date and write them to a Parquet file."),
    ),
    "ltv": (
        "ltv:ltv_command",
        "command",
        N_("Per-account LTV with its interval, churn risk and lifetime; print the top accounts."),
    ),
    "backtest": (
        "ltv:backtest_command",
        "command",
        N_("Fit as of the calibration end, predict the holdout, compare with naive baselines."),
    ),
    "kpi": (
        "kpi:kpi_command",
        "command",
        N_("Print the KPIs of a period (names in the user's language), optionally by rep or team."),
    ),
    "review": (
        "review:review_command",
        "command",
        N_("The period review: KPIs, segment migration, plan execution and forecast accuracy."),
    ),
    "one-on-one": (
        "one_on_one:one_on_one",
        "command",
        N_("A rep's 1on1 agenda: top accounts, risks, open deals and coaching questions."),
    ),
    "accounts": (
        "accounts:accounts",
        "command",
        N_("The accounts of a snapshot, filtered, sorted and paged as on the dashboard."),
    ),
    "portfolio": (
        "portfolio:portfolio",
        "command",
        N_("The portfolio of a snapshot: value × growth cells and the open deals' zones."),
    ),
    "plan": (
        "portfolio:plan",
        "command",
        N_("The account plans of a month: actions, hours and uplift against the naive allocation."),
    ),
    "renewals": (
        "renewals:renewals",
        "command",
        N_("The renewals calendar: undecided renewals of the next days, by rep or team."),
    ),
    "diff": (
        "portfolio:diff",
        "command",
        N_("How accounts moved between two snapshots (cells and zones), and why."),
    ),
    "export": (
        "portfolio:export_app",
        "group",
        N_("Export a snapshot: an Excel workbook or CSV files."),
    ),
    "db": ("db:app", "group", N_("Manage the store's schema.")),
    "users": ("users:app", "group", N_("Manage dashboard and API users.")),
    "deals": ("deals:app", "group", N_("Deals: win probability, expansion, product suggestions.")),
    "strategy": (
        "strategy:app",
        "group",
        N_("The strategy file: thresholds, weights, playbooks, capacity rules."),
    ),
    "simulate": ("simulate:app", "group", N_("What-if simulations: a rep's departure.")),
    "override": (
        "override:app",
        "group",
        N_("Manual overrides: pin an account's cell or priority with a reason and an expiry."),
    ),
}
"""Each command: ``module:attribute`` under :mod:`tillage.cli`, whether it is one command or a
group of them, and the help line ``tillage --help`` shows for it."""


def load_command(name: str) -> click.Command:
    """The click command ``name`` of :data:`COMMANDS`, importing its module now."""
    target, kind, _help = COMMANDS[name]
    module, attribute = target.split(":")
    obj = getattr(import_module(f"tillage.cli.{module}"), attribute)
    if kind == "group":
        command: click.Command = typer.main.get_group(obj)
    else:
        single = typer.Typer(add_completion=False)
        single.command(name)(obj)
        command = typer.main.get_command(single)
    command.name = name
    localize(command, language_gettext(), summary=_help)
    return command


class LazyGroup(TyperGroup):
    """A command group that imports a command's module only when that command runs (or shows
    its own help); the group's help lists the commands from :data:`COMMANDS` alone."""

    _listing = False

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return super().get_command(ctx, cmd_name)
        if self._listing:  # the group's help: a stand-in with the help line, nothing imported
            return click.Command(cmd_name, help=language_gettext()(COMMANDS[cmd_name][2]))
        return load_command(cmd_name)

    def resolve_command(self, ctx: click.Context, args: list[str]) -> Any:
        """The command ``args`` names; a name that is no command is a usage error in the
        user's language that suggests the close names."""
        name = args[0] if args else "-"
        unknown = name not in COMMANDS and super().get_command(ctx, name) is None
        if unknown and not name.startswith("-"):
            raise no_such_command(ctx, name, COMMANDS, language_gettext())
        return super().resolve_command(ctx, args)

    def format_help(self, ctx: click.Context, formatter: Any) -> None:
        localize(self, language_gettext())
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False
