"""Terminal summaries of a snapshot (rich tables), in the user's language."""

from __future__ import annotations

from collections.abc import Sequence

from rich.table import Table

from tillage.i18n import format_money, format_number, gettext_for
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
    rows: Sequence[ScoreRow], currency: str, lang: str, *, title: str | None = None
) -> Table:
    """Accounts (by default the highest-value ones: ``title``) with owner, zone, LTV and
    last-12-month revenue."""
    _ = gettext_for(lang)
    table = Table(title=title or _("Top accounts by LTV"))
    for header, justify in (
        (_("Account"), "left"),
        (_("Owner"), "left"),
        (_("Zone"), "center"),
        (_("LTV"), "right"),
        (_("Revenue, last 12 months"), "right"),
    ):
        table.add_column(header, justify=justify)  # type: ignore[arg-type]
    for row in rows:
        table.add_row(
            row.name,
            row.owner or "",
            row.zone or "",
            format_money(row.ltv, currency, lang),
            format_money(row.revenue_12m, currency, lang),
        )
    return table
