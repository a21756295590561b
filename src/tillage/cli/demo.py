"""``tillage demo``: generate the demo company, score it, print a summary, serve the dashboard.

``tillage demo-export``: write the demo company as a Salesforce or HubSpot export folder.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import time
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from tillage.cli.context import state
from tillage.cli.localize import N_
from tillage.config import DEFAULT_STORE_FILE

# The generator, the scoring run and the store are imported in the bodies: the help and a
# usage error of `tillage demo` start without them

#: The demo sales team's KPI targets (the KPIs' units: percent, except as noted).
DEMO_TARGETS: dict[str, float] = {
    "nrr": 105.0,
    "grr": 92.0,
    "logo_churn_rate": 3.5,
    "renewal_rate": 92.0,
    "regular_meeting_rate": 80.0,
    "proposal_win_rate": 80.0,
}


def demo_strategy_text() -> str:
    """The default strategy file with :data:`DEMO_TARGETS` as its company KPI targets."""
    from tillage.strategy.config_text import default_strategy_toml

    lines = "".join(f"{key} = {value:g}\n" for key, value in DEMO_TARGETS.items())
    return default_strategy_toml().replace("[kpi.targets]\n", "[kpi.targets]\n" + lines, 1)


def demo_secret(demo_dir: Path) -> str:
    """The demo store's own secret key: generated once, kept in ``<demo dir>/secret_key``."""
    path = demo_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    demo_dir.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(32)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(secret + "\n")
    return secret


def demo(
    accounts: Annotated[int, typer.Option(help=N_("Number of accounts to generate."))] = 2000,
    seed: Annotated[int, typer.Option(help=N_("Random seed (same seed, same company)."))] = 42,
    locale: Annotated[str, typer.Option(help=N_("Names in 'ja' (Japanese) or 'en'."))] = "ja",
    database_url: Annotated[
        str | None,
        typer.Option(
            help=N_("Store to fill (default: <data_dir>/demo/tillage.db). Its data is replaced.")
        ),
    ] = None,
    serve: Annotated[
        bool, typer.Option("--serve/--no-serve", help=N_("Serve the dashboard after."))
    ] = True,
    host: Annotated[str, typer.Option(help=N_("Address for the dashboard."))] = "127.0.0.1",
    port: Annotated[int, typer.Option(help=N_("Port for the dashboard."))] = 8000,
) -> None:
    """Build a synthetic B2B company, run the whole pipeline on it and open the dashboard."""
    from pydantic import SecretStr

    from tillage.cli.score import scoring_progress
    from tillage.cli.serve import run_server
    from tillage.demo import DemoConfig, generate
    from tillage.demo.users import create_demo_users
    from tillage.kpi import period_containing
    from tillage.labels import role_label
    from tillage.report.summary import top_accounts_table, zone_table
    from tillage.services.accounts import Listing, account_page
    from tillage.services.scoring import run_scoring
    from tillage.services.warm import warm_pages
    from tillage.store.access import everything
    from tillage.store.database import engine_from_settings, migrate, session_factory
    from tillage.store.load import replace_all
    from tillage.store.schema import CANONICAL_TABLES
    from tillage.store.snapshots import latest_snapshot, zone_totals
    from tillage.store.strategies import save_strategy

    settings = state.settings()
    _ = state.gettext()
    demo_dir = settings.data_dir / "demo"
    url = database_url or f"sqlite:///{(demo_dir / 'tillage.db').resolve()}"
    record = database_url is None and settings.records_default_store()
    data_dir = settings.data_dir
    settings = settings.model_copy(
        update={
            "database_url": url,
            "data_dir": demo_dir,
            "secret_key": SecretStr(demo_secret(demo_dir)),
        }
    )
    console = Console()
    config = DemoConfig(n_accounts=accounts, seed=seed, locale=locale)
    started = time.perf_counter()

    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    ) as progress:
        task = progress.add_task(_("Generating the demo company"), total=1)
        company = generate(config)
        company.write_truth(demo_dir / "truth")
        progress.update(task, completed=1)

        engine = engine_from_settings(settings)
        migrate(engine)
        task = progress.add_task(_("Loading the store"), total=len(CANONICAL_TABLES))
        replace_all(engine, company.tables, on_table=lambda _name, _n: progress.advance(task))
        progress.update(task, completed=len(CANONICAL_TABLES))

        with session_factory(engine)() as session:
            save_strategy(
                session, demo_strategy_text(), now=dt.datetime.now(), comment="demo KPI targets"
            )
            session.commit()
        # a snapshot on the eve of the quarter too, so the review of the quarter has its
        # forecasts, plans and migration to check (the last snapshot is the current one)
        eve = period_containing(config.as_of, "quarter").first - dt.timedelta(days=1)
        for day, label in ((eve, "demo quarter start"), (config.as_of, "demo")):
            title = _("Scoring accounts as of {date}").format(date=day.isoformat())
            on_step, done = scoring_progress(progress, title)
            snapshot_id = run_scoring(
                engine, day, created_at=dt.datetime.now(), label=label, progress=on_step
            )
            done()
        users = create_demo_users(
            engine, now=dt.datetime.now(dt.UTC).replace(tzinfo=None), locale=config.locale
        )
        with session_factory(engine)() as session:  # the pages opened first, computed now
            warm_pages(session, settings)

    if record:  # the README's other commands find the demo store without a setting
        (data_dir / DEFAULT_STORE_FILE).write_text(url + "\n", encoding="utf-8")
        console.print(
            _(
                "The demo store is now the default store of {folder} (recorded in {file}; "
                "delete that file, or set TILLAGE_DATABASE_URL, to use another)."
            ).format(folder=data_dir, file=DEFAULT_STORE_FILE),
            highlight=False,
        )
    lang = settings.language
    with session_factory(engine)() as session:
        snapshot = latest_snapshot(session)
        assert snapshot.id == snapshot_id
        console.print(
            zone_table(
                zone_totals(session, snapshot_id, visible=everything()), settings.currency, lang
            )
        )
        top = account_page(session, everything(), Listing(snapshot=snapshot_id), limit=10).items
        console.print(top_accounts_table(top, settings.currency, lang, width=console.width))
    console.print(
        _(
            "Demo company: {n} accounts as of {date}, scored in {seconds:.1f} s. Store: {url}"
        ).format(
            n=accounts,
            date=config.as_of.isoformat(),
            seconds=time.perf_counter() - started,
            url=url,
        )
    )
    console.print(_("Demo logins (public passwords, for this demo store only):"))
    for user in users:
        role = role_label(user.role, lang)
        console.print(f"  {user.login:<10} {user.password:<15} {role}  {user.display_name}")
    if serve:
        console.print(
            _("Dashboard: http://{host}:{port}/  (Ctrl+C to stop)").format(host=host, port=port)
        )
        run_server(settings, host, port)


class ExportFormat(StrEnum):
    salesforce = "salesforce"
    hubspot = "hubspot"


def demo_export(
    format: Annotated[
        ExportFormat, typer.Argument(help=N_("Export shape: salesforce or hubspot."))
    ],
    directory: Annotated[Path, typer.Argument(help=N_("Folder to write the export files into."))],
    accounts: Annotated[int, typer.Option(help=N_("Number of accounts to generate."))] = 2000,
    seed: Annotated[int, typer.Option(help=N_("Random seed (same seed, same company)."))] = 42,
    locale: Annotated[str, typer.Option(help=N_("Names in 'ja' (Japanese) or 'en'."))] = "ja",
    encoding: Annotated[
        str, typer.Option(help=N_("File encoding: utf-8, or cp932 as Excel in Japan saves it."))
    ] = "utf-8",
) -> None:
    """Write the demo company as a Salesforce or HubSpot export folder; the store is untouched.

    Import it with `tillage import DIR` to try the importers on a whole company.
    """
    from tillage.demo import DemoConfig, generate
    from tillage.demo.exports import write_hubspot, write_salesforce

    settings = state.settings()
    _ = state.gettext()
    company = generate(DemoConfig(n_accounts=accounts, seed=seed, locale=locale))
    if format is ExportFormat.salesforce:
        written = write_salesforce(
            company.tables, directory, timezone=settings.timezone, encoding=encoding
        )
    else:
        written = write_hubspot(company.tables, directory, encoding=encoding)
    Console().print(
        _("Wrote {files} files of a {format} export ({n} accounts) to {directory}").format(
            files=len(written.files), format=format.value, n=accounts, directory=directory
        )
    )
