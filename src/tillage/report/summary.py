"""Terminal summaries of a snapshot (rich tables), in the user's language."""

from __future__ import annotations

from collections.abc import Sequence

from rich.table import Table

from tillage.i18n import format_money, format_number, gettext_for
from tillage.report.terminal import Col, fitted_table, money
from tillage.services.listing import ScoreRow


def zone_table(zones: Sequence[tuple[str, int, float]], currency: str, lang: str) -> Table:
    """Accounts and total LTV per portfolio zone."""
    _ = gettext_for(lang)
    table = Table(title=_("Portfolio by zone"))
    table.add_column(_("Zone"))
    table.add_column(_("Number of accounts"), justify="right")
    table.add_column(_("Total LTV"), justify="right")
    total_n = sum(n for _z, n, _v in zones)
    total_v = sum(v for _z, _n, v in zones)
    for zone, n, value in zones:
        table.add_row(zone, format_number(n, lang), format_money(value, currency, lang))
    table.add_section()
    table.add_row(_("Total"), format_number(total_n, lang), format_money(total_v, currency, lang))
    return table


def top_accounts_table(
    rows: Sequence[ScoreRow],
    currency: str,
    lang: str,
    *,
    title: str | None = None,
    width: int | None = None,
) -> Table:
    """Accounts (by default the highest-value ones: ``title``) with owner, zone, LTV and
    last-12-month revenue; fitted to a terminal ``width`` columns wide
    (:func:`~tillage.report.terminal.fitted_table`: compact amounts when narrow, names cut on
    one line)."""
    _ = gettext_for(lang)
    columns = (
        Col(_("Account"), name=True),
        Col(_("Owner"), name=True),
        Col(_("Zone"), "center"),
        Col(_("LTV"), "right"),
        Col(_("Revenue, last 12 months"), "right", short=_("Revenue (12 months)")),
    )
    cells = [
        (
            row.name,
            row.owner or "",
            row.zone or "",
            money(row.ltv, currency, lang, width),
            money(row.revenue_12m, currency, lang, width),
        )
        for row in rows
    ]
    return fitted_table(columns, cells, width, title=title or _("Top accounts by LTV"))
