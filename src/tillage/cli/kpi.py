"""``tillage kpi``: the KPIs of a month or quarter, for the company or by rep, team or segment.

The figures are :func:`tillage.services.kpis.kpi_rows`' (the ``/api/v1/kpis`` service, as an
admin sees them); the formulas are in ``docs/kpi.md``; this command only formats them.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from tillage.cli.context import state
from tillage.cli.localize import N_
from tillage.errors import ConfigurationError

if TYPE_CHECKING:
    import pandas as pd
    from rich.table import Table

# The KPIs, features and store are imported in the bodies: the help and a usage error of
# `tillage kpi` start without them

__all__ = ["kpi_command"]

_HEADERS = {
    "en": {"kpi": "KPI", "all": "Company", "note": "Period {periods}; formulas in docs/kpi.md."},
    "ja": {"kpi": "KPI", "all": "全社", "note": "期間 {periods}。定義は docs/kpi.md を参照。"},
}


def kpi_command(
    period: Annotated[
        str | None,
        typer.Option(
            help=N_(
                "Month (2026-09), quarter (2026-Q3), year (2026), fiscal quarter (FY2026-Q1) "
                "or fiscal year (FY2026) in the strategy's fiscal calendar; default: the fiscal "
                "quarter of the newest snapshot's date."
            )
        ),
    ] = None,
    by: Annotated[
        str | None, typer.Option(help=N_("Cut: rep, team or segment (the newest snapshot's)."))
    ] = None,
    trend: Annotated[
        int,
        typer.Option(min=1, help=N_("Show this many consecutive periods ending with --period.")),
    ] = 1,
    out: Annotated[
        Path | None, typer.Option(help=N_("Also write the tidy table to a .csv or .xlsx file."))
    ] = None,
    engine: Annotated[
        str, typer.Option(help=N_("Where to compute: duckdb (embedded), postgres or spark."))
    ] = "duckdb",
    database_url: Annotated[
        str | None, typer.Option(help=N_("Store to read (default: the configured store)."))
    ] = None,
    format: Annotated[
        str,
        typer.Option(
            "--format", help=N_("table, or json (one period: the answer of /api/v1/kpis).")
        ),
    ] = "table",
) -> None:
    """Print the KPIs of a period (names in the user's language), optionally by rep or team."""
    from sqlalchemy.orm import Session

    from tillage.features import ENGINES
    from tillage.inert import csv_frame
    from tillage.kpi import REGISTRY
    from tillage.services.kpis import kpi_rows, kpi_table
    from tillage.services.reach import OPERATOR
    from tillage.store.access import everything
    from tillage.store.database import make_engine

    settings = state.settings()
    lang = settings.language
    if by is not None and by not in {"rep", "team", "segment"}:
        raise typer.BadParameter("choose rep, team or segment", param_hint="--by")
    if format not in {"table", "json"}:
        raise typer.BadParameter("choose table or json", param_hint="--format")
    if engine not in ENGINES:
        raise typer.BadParameter(f"choose one of {', '.join(ENGINES)}", param_hint="--engine")
    if out is not None and out.suffix.lower() not in {".csv", ".xlsx"}:
        raise ConfigurationError(f"--out {out} must be a .csv or .xlsx file")
    url = database_url or settings.resolved_database_url
    settings = settings.model_copy(update={"database_url": url})
    store = make_engine(url)
    try:
        with Session(store) as session:
            if format == "json":
                answer = kpi_table(
                    session, settings, lang, OPERATOR, everything(), period=period, by=by
                )
                typer.echo(answer.model_dump_json(indent=2))
                return
            _periods, frame = kpi_rows(
                session,
                settings,
                OPERATOR,
                everything(),
                period=period,
                by=by,  # type: ignore[arg-type]
                periods=trend,
                backend=engine,
                lang=lang,
            )
    finally:
        store.dispose()
    frame = frame.assign(
        name=frame.kpi.map(lambda k: REGISTRY[k].name(lang)),
        unit=frame.kpi.map(lambda k: REGISTRY[k].unit),
    )
    console = Console()
    for table in _tables(frame, settings.currency, lang, console.width):
        console.print(table)
    blank = frame[frame.cut == "all"].drop_duplicates("kpi").dropna(subset=["blank_reason"])
    for reason, names in blank.groupby("blank_reason", sort=False)["name"]:
        Console().print(f"– {', '.join(names)}: {reason}", highlight=False)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        if out.suffix.lower() == ".csv":
            csv_frame(frame).to_csv(out, index=False)
        else:
            frame.to_excel(out, index=False, sheet_name="kpi")
        Console(stderr=True).print(f"wrote {out.name} ({len(frame)} rows)")


def _tables(frame: pd.DataFrame, currency: str, lang: str, width: int | None) -> list[Table]:
    """The KPIs (rows) by cut and period (columns); cut into several tables of the KPI names
    and as many cuts as a terminal ``width`` columns wide holds
    (:func:`~tillage.report.terminal.column_pages`)."""
    from tillage.kpi import REGISTRY
    from tillage.report.formatting import format_value
    from tillage.report.terminal import Col, column_pages

    text = _HEADERS.get(lang, _HEADERS["en"])
    labels = list(dict.fromkeys(frame.period))
    columns = list(dict.fromkeys(zip(frame.cut, frame.cut_value, frame.period, strict=True)))
    columns.sort(key=lambda c: (c[0] != "all", c[1], labels.index(c[2])))
    single = len(labels) == 1
    heads = [Col(text["kpi"], name=True)]
    for _cut, value, label in columns:
        head = text["all"] if value == "all" else value
        heads.append(Col(head if single else f"{head}\n{label}", "right"))
    index = {
        (row.kpi, row.cut, row.cut_value, row.period): row.value
        for row in frame.itertuples(index=False)
    }
    rows = [
        (
            kpi.name(lang),
            *(
                format_value(index.get((key, c, v, p), math.nan), kpi.unit, currency, lang)
                for c, v, p in columns
            ),
        )
        for key, kpi in REGISTRY.items()
    ]
    caption = text["note"].format(periods=", ".join(labels))
    return column_pages(heads, rows, width, caption=caption)
