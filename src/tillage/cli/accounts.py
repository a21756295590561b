"""``tillage accounts``: the account listing of the dashboard and ``/api/v1/accounts``.

The same listing (:func:`tillage.services.accounts.account_page`): the same filters (``--risk``
a churn band or a risk flag, ``--search`` part of the name or key), sort, tie order and paging.
The command line is the operator and sees every account. Listed in
:data:`tillage.cli.commands.COMMANDS`.
"""

from __future__ import annotations

from typing import Annotated

import typer

from tillage.cli.context import state
from tillage.cli.localize import N_

FORMATS = ("table", "json", "csv")
SORTS = ("ltv", "revenue_12m", "tenure_months", "churn_risk", "priority", "name", "key")


def accounts(
    risk: Annotated[
        str | None,
        typer.Option(
            help=N_(
                "Churn band (low, medium, high) or risk flag (churn, silent_churn, key_person, "
                "single_threaded, borderline)."
            )
        ),
    ] = None,
    search: Annotated[
        str | None, typer.Option(help=N_("Part of the name or key, any case."))
    ] = None,
    zone: Annotated[str | None, typer.Option(help=N_("Value zone: A, B or C."))] = None,
    segment: Annotated[str | None, typer.Option(help=N_("Portfolio cell, e.g. deepen."))] = None,
    deal_zone: Annotated[
        str | None, typer.Option(help=N_("Only accounts with an open deal in this zone."))
    ] = None,
    rep: Annotated[str | None, typer.Option(help=N_("Owner's rep key."))] = None,
    team: Annotated[str | None, typer.Option(help=N_("Owner's team key."))] = None,
    sort: Annotated[
        str,
        typer.Option(
            help=N_(
                "Sort column: ltv, revenue_12m, tenure_months, churn_risk, priority, name, key."
            )
        ),
    ] = "ltv",  # the columns of SORTS
    order: Annotated[
        str | None,
        typer.Option(help=N_("asc or desc (default: numbers highest first, names A-Z).")),
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000, help=N_("Rows to show."))] = 50,
    offset: Annotated[int, typer.Option(min=0, help=N_("Rows to skip."))] = 0,
    snapshot: Annotated[
        int | None, typer.Option(help=N_("Snapshot id (default: the newest)."))
    ] = None,
    format: Annotated[
        str, typer.Option("--format", help=N_("table, json (the API's answer) or csv (every row)."))
    ] = "table",
) -> None:
    """The accounts of a snapshot, filtered, sorted and paged as on the dashboard."""
    from rich.console import Console

    from tillage.report.summary import top_accounts_table
    from tillage.services.accounts import Listing, account_page, export_csv, search_text
    from tillage.services.listing import RISK_BANDS, RISK_FLAGS, ScoreFilter
    from tillage.store.access import everything
    from tillage.store.database import engine_from_settings, ensure_current, session_factory

    if format not in FORMATS:
        raise typer.BadParameter(f"choose one of {', '.join(FORMATS)}", param_hint="--format")
    if sort not in SORTS:
        raise typer.BadParameter(f"choose one of {', '.join(SORTS)}", param_hint="--sort")
    if order not in (None, "asc", "desc"):
        raise typer.BadParameter("choose asc or desc", param_hint="--order")
    if risk is not None and risk not in (*RISK_BANDS, *RISK_FLAGS):
        choices = ", ".join((*RISK_BANDS, *RISK_FLAGS))
        raise typer.BadParameter(f"choose one of {choices}", param_hint="--risk")
    settings = state.settings()
    where = ScoreFilter(
        zone=zone,
        segment=segment,
        rep=rep,
        team=team,
        risk=risk,  # type: ignore[arg-type]
        search=search_text(search),
        deal_zone=deal_zone,
    )
    listing = Listing(snapshot, where, sort, None if order is None else order == "desc")  # type: ignore[arg-type]
    engine = engine_from_settings(settings)
    try:
        ensure_current(engine)
        with session_factory(engine)() as session:
            if format == "csv":
                for chunk in export_csv(session, everything(), listing):
                    typer.echo(chunk, nl=False)
                return
            page = account_page(session, everything(), listing, limit=limit, offset=offset)
    finally:
        engine.dispose()
    if format == "json":
        typer.echo(page.model_dump_json(indent=2))
        return
    _ = state.gettext()
    console = Console()
    console.print(
        top_accounts_table(
            page.items,
            settings.currency,
            settings.language,
            title=_("Accounts"),
            width=console.width,
        )
    )
    console.print(f"{page.offset + len(page.items):,} / {page.total:,}", highlight=False)
