"""``tillage override``: pin an account's portfolio cell or priority with a reason and an expiry,
list the overrides, clear one (:mod:`tillage.services.overrides`).

The command line acts as the operator (an admin, who holds the store's files); every change is
written to the audit log with actor ``cli``. The next scoring run keeps an override in force and
stores the computed value beside it.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from tillage.cli.context import state
from tillage.cli.localize import N_
from tillage.errors import ParameterError
from tillage.services.overrides import clear_override, override_list, set_override
from tillage.store.access import OPERATOR, everything
from tillage.store.database import engine_from_settings, ensure_current, session_factory
from tillage.store.users import utcnow

app = typer.Typer(
    help=N_("Manual overrides: pin an account's cell or priority with a reason and an expiry."),
    no_args_is_help=True,
)


def _engine():  # type: ignore[no-untyped-def]
    engine = engine_from_settings(state.settings())
    ensure_current(engine)
    return engine


def _show(rows: list, title: str) -> None:  # type: ignore[type-arg]
    _ = state.gettext()
    table = Table(title=title)
    for column in (
        _("Id"),
        _("Account"),
        _("Field"),
        _("Value"),
        _("Until"),
        _("Reason"),
        _("By"),
        _("In force"),
    ):
        table.add_column(column)
    from tillage.report.portfolio import segment_label  # the cell's name in the language

    lang = state.settings().language
    for o in rows:
        if o.field == "cell":
            value = segment_label(str(o.value), lang)
        else:
            value = f"{o.value:g}" if isinstance(o.value, float) else str(o.value)
        table.add_row(
            str(o.id),
            f"{o.account} ({o.account_key})",
            _("cell") if o.field == "cell" else _("priority"),
            value,
            o.expires_on.isoformat(),
            o.reason,
            o.created_by,
            _("yes") if o.in_force else (_("cleared") if o.cleared_at else _("expired")),
        )
    Console().print(table)


@app.command(
    "set",
    help=N_(
        "Pin an account's cell or priority until a date, for a reason (replaces the one in force)."
    ),
)
def set_command(
    account: Annotated[str, typer.Argument(help=N_("The account's key (or id)."))],
    reason: Annotated[str, typer.Option(help=N_("Why the value is pinned (required)."))],
    until: Annotated[
        str,
        typer.Option(help=N_("Last day the override holds, YYYY-MM-DD (at most a year ahead).")),
    ],
    cell: Annotated[
        str | None, typer.Option(help=N_("Pin the cell: deepen, maintain, nurture or reduce."))
    ] = None,
    priority: Annotated[float | None, typer.Option(help=N_("Pin the priority (0–100)."))] = None,
) -> None:
    _ = state.gettext()
    if (cell is None) == (priority is None):
        raise ParameterError("give exactly one of --cell or --priority")
    try:
        expires = dt.date.fromisoformat(until)
    except ValueError:
        raise ParameterError(f"--until {until!r} is not a date like 2027-03-31") from None
    field, value = ("cell", cell) if cell is not None else ("priority", str(priority))
    with session_factory(_engine())() as session:
        made = set_override(
            session,
            OPERATOR,
            account,
            field,
            str(value),
            reason=reason,
            expires_on=expires,
            now=utcnow(),
        )
        _show([made], _("Override set"))


@app.command(
    "list", help=N_("List the overrides in force (or every one ever set, with --history).")
)
def list_command(
    history: Annotated[
        bool, typer.Option("--history", help=N_("Also cleared and expired overrides."))
    ] = False,
    account: Annotated[int | None, typer.Option(help=N_("Only this account (id)."))] = None,
) -> None:
    _ = state.gettext()
    with session_factory(_engine())() as session:
        rows = override_list(
            session, everything(), today=utcnow().date(), history=history, account_id=account
        )
        _show(rows, _("Overrides"))


@app.command(
    "clear", help=N_("Clear an override: the next scoring run uses the computed value again.")
)
def clear_command(
    override_id: Annotated[int, typer.Argument(help=N_("The override's id (see `list`)."))],
) -> None:
    _ = state.gettext()
    with session_factory(_engine())() as session:
        cleared = clear_override(session, OPERATOR, override_id, now=utcnow())
        _show([cleared], _("Override cleared"))
