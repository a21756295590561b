"""``tillage users``: add, list, disable users, set passwords, and make or revoke API tokens.

The command line acts as the operator (who holds the store's files); every change is written to
the audit log with actor ``cli``.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from tillage.cli.context import state
from tillage.cli.localize import N_
from tillage.errors import DataValidationError
from tillage.labels import role_label
from tillage.store.access import OPERATOR
from tillage.store.database import engine_from_settings, ensure_current, session_scope
from tillage.store.users import (
    create_token,
    create_user,
    find_user,
    list_tokens,
    list_users,
    rep_exists,
    revoke_token,
    update_user,
    utcnow,
)

app = typer.Typer(help=N_("Manage dashboard and API users."), no_args_is_help=True)


def _engine():  # type: ignore[no-untyped-def]
    engine = engine_from_settings(state.settings())
    ensure_current(engine)
    return engine


def _password(given: str | None) -> str:
    """``given``, else a password typed twice at the prompt (in the language; hidden)."""
    if given is not None:
        return given
    _ = state.gettext()
    while True:
        first = typer.prompt(_("Password"), hide_input=True)
        if typer.prompt(_("The password again"), hide_input=True) == first:
            return first
        Console(stderr=True).print(_("The two passwords differ: type them again."))


@app.command(
    "add",
    help=N_("Add a user. The first admin: ``tillage users add admin@example.com --role admin``."),
)
def add(
    login: Annotated[str, typer.Argument(help=N_("Login name, usually the e-mail address."))],
    role: Annotated[
        str,
        typer.Option(
            help=N_(
                "admin, manager, rep, success (customer success: the accounts on whose account "
                "team they sit), marketing, or finance (finance / executive, read-only)."
            )
        ),
    ] = "rep",
    rep: Annotated[
        str | None,
        typer.Option(
            help=N_("Key of the user's row in reps (managers, reps and customer success).")
        ),
    ] = None,
    name: Annotated[str, typer.Option(help=N_("Display name (default: the login)."))] = "",
    password: Annotated[
        str | None, typer.Option(help=N_("Password (prompted when absent; prefer the prompt)."))
    ] = None,
) -> None:
    _ = state.gettext()
    engine = _engine()
    with session_scope(engine) as session:
        if rep is not None and not rep_exists(session, rep):
            raise DataValidationError(f"no rep with key {rep!r} in the store")
        user = create_user(
            session,
            login=login,
            display_name=name,
            role=role,
            rep_key=rep,
            password=_password(password),
            now=utcnow(),
            by=OPERATOR,
        )
        Console().print(_("Added user {login} ({role}).").format(login=user.login, role=role))


@app.command("list", help=N_("List the users."))
def list_() -> None:
    _ = state.gettext()
    with session_scope(_engine()) as session:
        table = Table(title=_("Users"))
        for column in (_("Login"), _("Name"), _("Role"), _("Rep"), _("Disabled"), _("Last login")):
            table.add_column(column)
        for user in list_users(session):
            last = user.last_login_at.isoformat(timespec="minutes") if user.last_login_at else ""
            table.add_row(
                user.login,
                user.display_name,
                role_label(user.role, state.settings().language),
                user.rep_key or "",
                _("yes") if user.disabled else "",
                last,
            )
        Console().print(table)


@app.command(
    "disable",
    help=N_("Disable a user (ends their sessions, refuses their tokens), or enable them again."),
)
def disable(
    login: Annotated[str, typer.Argument(help=N_("The user's login."))],
    enable: Annotated[bool, typer.Option("--enable", help=N_("Enable the user again."))] = False,
) -> None:
    _ = state.gettext()
    with session_scope(_engine()) as session:
        user = find_user(session, login)
        update_user(session, user, disabled=not enable, now=utcnow(), by=OPERATOR)
        message = _("Enabled user {login}.") if enable else _("Disabled user {login}.")
        Console().print(message.format(login=user.login))


@app.command("set-password", help=N_("Set a user's password (ends their sessions)."))
def set_password(
    login: Annotated[str, typer.Argument(help=N_("The user's login."))],
    password: Annotated[
        str | None, typer.Option(help=N_("New password (prompted when absent; prefer the prompt)."))
    ] = None,
) -> None:
    _ = state.gettext()
    with session_scope(_engine()) as session:
        user = find_user(session, login)
        update_user(session, user, password=_password(password), now=utcnow(), by=OPERATOR)
        Console().print(_("Password of {login} changed.").format(login=user.login))


@app.command(
    "token", help=N_("Create an API token for a user and print it (it is shown this once).")
)
def token(
    login: Annotated[str, typer.Argument(help=N_("The user the token acts as."))],
    scopes: Annotated[str, typer.Option(help=N_("Comma-separated: read, write, admin."))] = "read",
    name: Annotated[str, typer.Option(help=N_("A name to recognise the token by."))] = "cli",
    days: Annotated[int, typer.Option(help=N_("Days until it expires (0: never)."))] = 90,
) -> None:
    _ = state.gettext()
    now = utcnow()
    with session_scope(_engine()) as session:
        user = find_user(session, login)
        row, secret = create_token(
            session,
            user,
            name=name,
            scopes=[s.strip() for s in scopes.split(",") if s.strip()],
            now=now,
            expires_at=now + dt.timedelta(days=days) if days > 0 else None,
            by=OPERATOR,
        )
        Console(stderr=True).print(
            _("Token {id} for {login} ({scopes}); store it now, it is not shown again:").format(
                id=row.id, login=user.login, scopes=row.scopes
            )
        )
    typer.echo(secret)


@app.command("tokens", help=N_("List a user's API tokens (never the tokens themselves)."))
def tokens(login: Annotated[str, typer.Argument(help=N_("The user's login."))]) -> None:
    _ = state.gettext()
    with session_scope(_engine()) as session:
        table = Table(title=_("API tokens"))
        for column in ("id", _("Name"), _("Prefix"), _("Scopes"), _("Expires"), _("Revoked")):
            table.add_column(column)
        for row in list_tokens(session, find_user(session, login).id):
            table.add_row(
                str(row.id),
                row.name,
                row.prefix + "…",
                row.scopes,
                row.expires_at.date().isoformat() if row.expires_at else "",
                row.revoked_at.date().isoformat() if row.revoked_at else "",
            )
        Console().print(table)


@app.command("revoke-token", help=N_("Revoke an API token."))
def revoke(token_id: Annotated[int, typer.Argument(help=N_("The token's id."))]) -> None:
    _ = state.gettext()
    with session_scope(_engine()) as session:
        revoke_token(session, token_id, by=OPERATOR, now=utcnow())
        Console().print(_("Token {id} revoked.").format(id=token_id))
