"""``tillage ltv`` and ``tillage backtest``: account values as of a date, and their backtest.

Listed in :data:`tillage.cli.commands.COMMANDS`. Both read the configured store (or
``--database-url``) on the embedded engine (inside the database for PostgreSQL) and write files;
``docs/ltv.md`` explains the columns and the metrics.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from tillage.cli.context import print_written, state
from tillage.cli.localize import N_
from tillage.errors import ConfigurationError

if TYPE_CHECKING:
    import pandas as pd

# The models, features and store are imported in the commands' bodies: the help and a usage
# error of `tillage ltv` then start without them (3 s on a slow machine, 0.3 s with them not)

__all__ = ["backtest_command", "ltv_command"]

SHOWN = ("ltv", "ltv_low", "ltv_high", "churn_risk", "p_alive", "expected_lifetime_months")


def _headers() -> dict[str, str]:
    """The printed table's column names in the user's language."""
    _ = state.gettext()
    return {
        "account_id": _("Account"),
        "ltv": _("LTV"),
        "ltv_low": _("LTV, low"),
        "ltv_high": _("LTV, high"),
        "churn_risk": _("Churn risk"),
        "p_alive": _("P(alive)"),
        "expected_lifetime_months": _("Expected lifetime (months)"),
    }


def _cell(column: str, value: object, currency: str, lang: str, width: int | None) -> str:
    """One printed cell: money as the other tables print it (in full, compact when narrow),
    probabilities as percentages, months with one decimal; a missing value a dash (the legend
    under the table says why)."""
    import pandas as pd

    from tillage.i18n import format_number
    from tillage.report.formatting import format_fraction
    from tillage.report.terminal import money

    if value is None or pd.isna(value):  # type: ignore[arg-type]
        return "—"
    number = float(value)  # type: ignore[arg-type]
    if column.startswith("ltv"):
        return money(number, currency, lang, width)
    if column == "expected_lifetime_months":
        return format_number(number, lang, digits=1)
    return format_fraction(number, lang)


def _names(url: str) -> pd.DataFrame:
    """Each account's key and name by account id: the table shows the name, as the other
    tables do; a written file keeps the id and adds both."""
    import pandas as pd
    from sqlalchemy import select

    from tillage.store.database import make_engine
    from tillage.store.schema import Account

    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(select(Account.id, Account.key, Account.name)).all()
    finally:
        engine.dispose()
    return pd.DataFrame(rows, columns=["account_id", "key", "name"]).set_index("account_id")


def _date(value: str, option: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise typer.BadParameter(
            f"{value!r} is not a date like 2026-09-30", param_hint=option
        ) from exc


def _write(frame: pd.DataFrame, out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix.lower() in {".parquet", ".pq"}:
        frame.to_parquet(out)
    elif out.suffix.lower() == ".csv":
        frame.to_csv(out)
    else:
        raise ConfigurationError(f"--out {out} must end in .csv or .parquet")


def _print_choice(chosen: dict[str, object]) -> None:
    """Which forecast each stream used, and why (the backtests inside the history), in the
    configured language."""
    from tillage.models.forecast_text import choice_lines

    for label, why in choice_lines(chosen, state.settings().language):
        Console().print(f"{label}: {why}", highlight=False, soft_wrap=True)


def _won_deals_line(source: dict[str, object]) -> str:
    """The line saying that the won deals are the revenue (the record of
    :func:`~tillage.features.won_deals.won_deals_as_orders`), in the user's language."""
    _ = state.gettext()
    why = (
        _("no orders and no contracts")
        if source.get("mode") == "auto"
        else _("revenue_from_won_deals = always")
    )
    line = _("revenue: won deals are the revenue ({why}): {n} deals on their close dates").format(
        why=why, n=f"{int(source.get('deals') or 0):,}"
    )
    left_out = int(source.get("left_out") or 0)  # type: ignore[call-overload]
    if left_out:
        line += _("; {n} won deals without close date or amount left out").format(n=f"{left_out:,}")
    return line


def _warn_net_negative(accounts: pd.DataFrame) -> None:
    """A warning on stderr naming the accounts whose repeat orders are net negative (returns
    exceeding them): their future orders are valued at 0, not below."""
    net = accounts[(accounts["frequency"].fillna(0) > 0) & (accounts["monetary_value"] < 0)]
    if not len(net):
        return
    _ = state.gettext()
    first = ", ".join(str(a) for a in net["account_id"].head(5))
    line = _(
        "{n} account(s) whose repeat orders are net negative (returns exceeding them): their "
        "future orders are valued at 0 (first: {first})"
    ).format(n=f"{len(net):,}", first=first + (" …" if len(net) > 5 else ""))
    Console(stderr=True).print(
        f"[yellow]{_('warning')}:[/] {line}", highlight=False, soft_wrap=True
    )


def _warn_not_fitted(params: dict[str, object]) -> None:
    """One warning line on stderr per piece of the account value that could not be fitted
    (``not_fitted`` of :meth:`AccountLTV.params`, e.g. too few repeat buyers: no future orders
    are forecast), in the user's language; the exit code stays 0."""
    from tillage.models.ltv.pieces import not_fitted_line

    not_fitted = params.get("not_fitted") or {}
    if not isinstance(not_fitted, dict) or not not_fitted:
        return
    _ = state.gettext()
    err = Console(stderr=True)
    lang = state.settings().language
    for piece, why in not_fitted.items():
        line = not_fitted_line(str(piece), str(why), lang)
        err.print(f"[yellow]{_('warning')}:[/] {line}", highlight=False, soft_wrap=True)


def ltv_command(
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            help=N_(
                "Business date (YYYY-MM-DD); default: the store's last day of data, or today "
                "if that is later."
            ),
        ),
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help=N_("Write every account to this .csv or .parquet."))
    ] = None,
    top: Annotated[int, typer.Option(help=N_("Accounts to print."))] = 20,
    strategy: Annotated[
        Path | None,
        typer.Option(
            help=N_(
                "Strategy file (horizon, discount rate, margins by product family; default: "
                "the strategy in force in the store)."
            )
        ),
    ] = None,
    horizon: Annotated[
        int | None, typer.Option(help=N_("Horizon of the LTV in months (default: the strategy's)."))
    ] = None,
    discount_rate: Annotated[
        float | None, typer.Option(help=N_("Annual discount rate (default: the strategy's)."))
    ] = None,
    database_url: Annotated[
        str | None, typer.Option(help=N_("Store to read (default: the configured store)."))
    ] = None,
) -> None:
    """Per-account LTV with its interval, churn risk and lifetime; print the top accounts."""
    from tillage.cli.score import announced_as_of
    from tillage.features.engine import VALUE_COLUMNS, default_engine, feature_backend
    from tillage.features.won_deals import won_deals_as_orders
    from tillage.report.terminal import Col, fitted_table
    from tillage.services.strategy import strategy_in_force
    from tillage.store.database import make_engine
    from tillage.strategy.revenue_forecast import RUN_RATE_MONTHS, forecast_revenue
    from tillage.strategy.value import account_values, ltv_model, value_prospects

    settings = state.settings()
    lang = settings.language
    _ = state.gettext()
    date = _date(as_of, "--as-of") if as_of else None
    url = database_url or settings.resolved_database_url
    engine = make_engine(url)
    try:
        if date is None:  # as `tillage score`: the store's last day of data
            date = announced_as_of(
                engine, dt.datetime.now(settings.zone).date(), Console(), valuing=True
            )
        in_force = strategy_in_force(engine, strategy, currency=settings.currency)
    finally:
        engine.dispose()
    model = ltv_model(in_force)
    if horizon is not None:
        model.horizon_months = horizon
    if discount_rate is not None:
        model.discount_rate = discount_rate
    with feature_backend(url, default_engine(url), tables=VALUE_COLUMNS) as con:  # type: ignore[arg-type]
        source = won_deals_as_orders(con, in_force.revenue_from_won_deals)
        values, fitted, inputs = account_values(con, date, model=model)
        values, chosen = forecast_revenue(con, date, fitted, values, inputs)
        values = value_prospects(values, source)
    values = values.sort_values("ltv", ascending=False)
    title = _("LTV as of {date} ({months} months, {rate:.0%} a year)").format(
        date=date, months=model.horizon_months, rate=model.discount_rate
    )
    headers = _headers()
    shown = values.head(top)
    names = _names(url)
    console = Console()
    columns = [Col(headers["account_id"], name=True)]
    columns += [Col(headers[column], "right") for column in SHOWN]
    cells = [
        (
            str(names["name"].get(account_id, account_id)),
            *(_cell(c, row[c], settings.currency, lang, console.width) for c in SHOWN),
        )
        for account_id, row in shown.iterrows()
    ]
    console.print(fitted_table(columns, cells, console.width, title=title))
    if shown["churn_risk"].isna().any():
        Console().print(
            _("—: {column} is blank for an account without a running contract").format(
                column=headers["churn_risk"]
            ),
            highlight=False,
        )
    if source["source"] == "won_deals":
        Console().print(_won_deals_line(source), highlight=False, soft_wrap=True)
    _print_choice(chosen)
    if chosen.get("ltv_basis"):
        Console().print(
            _(
                "LTV: the purchase model is not fitted; the orders' part of the LTV is the "
                "chosen forecast of the next {months} months × margin, discounted, and nothing "
                "beyond them"
            ).format(months=RUN_RATE_MONTHS),
            highlight=False,
            soft_wrap=True,
        )
    _warn_not_fitted(fitted.params())
    _warn_net_negative(inputs.accounts)
    if out is not None:
        _write(names.join(values, how="right"), out)
        print_written(_("{n} accounts → {path}").format(n=f"{len(values):,}", path=out))


def backtest_command(
    calibration_end: Annotated[
        str, typer.Option("--calibration-end", help=N_("Last day of the calibration period."))
    ],
    horizon: Annotated[int, typer.Option("--horizon", help=N_("Holdout length in months."))] = 12,
    out: Annotated[
        Path | None,
        typer.Option("--out", help=N_("Per-account predictions and outcomes (.csv or .parquet).")),
    ] = None,
    plot: Annotated[
        Path | None, typer.Option("--plot", help=N_("Reliability diagram as PNG."))
    ] = None,
    database_url: Annotated[
        str | None, typer.Option(help=N_("Store to read (default: the configured store)."))
    ] = None,
) -> None:
    """Fit as of the calibration end, predict the holdout, compare with naive baselines."""
    from tillage.cli.backtest_table import backtest_table
    from tillage.features.engine import VALUE_COLUMNS, default_engine, feature_backend
    from tillage.strategy.backtest import backtest

    date = _date(calibration_end, "--calibration-end")
    if horizon < 1:
        raise typer.BadParameter(N_("must be at least 1 month"), param_hint="--horizon")
    url = database_url or state.settings().resolved_database_url
    with feature_backend(url, default_engine(url), tables=VALUE_COLUMNS) as con:  # type: ignore[arg-type]
        result = backtest(con, date, horizon)
    Console().print(backtest_table(result.metrics, result.settings, state.gettext()))
    _print_choice(result.settings["forecast"])  # type: ignore[arg-type]
    _warn_not_fitted(result.settings["model"])  # type: ignore[arg-type]
    if out is not None:
        _write(result.accounts, out)
        sidecar = out.with_suffix(".metrics.json")
        sidecar.write_text(
            json.dumps(
                {
                    "settings": result.settings,
                    "metrics": json.loads(result.metrics.to_json()),
                    "reliability": {
                        k: json.loads(v.to_json()) for k, v in result.reliability.items()
                    },
                },
                indent=2,
            ),
            encoding="utf-8",
        )
        print_written(f"→ {out}, {sidecar}")
    if plot is not None:
        from tillage.report.plots import reliability_plot

        reliability_plot(result.reliability, plot, title="Reliability by decile")
        print_written(f"→ {plot}")
