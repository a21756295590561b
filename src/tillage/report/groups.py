"""Corporate groups (企業グループ) with their rolled-up LTV, as a rich table and as a flat frame.

The frame is :func:`tillage.strategy.groups.group_rollup`'s; amounts are in company currency.
"""

from __future__ import annotations

import pandas as pd
from rich.table import Table

from tillage.i18n import format_money, format_number, gettext_for


def group_rows(groups: pd.DataFrame) -> pd.DataFrame:
    """The groups for CSV: ``group_id``, ``group`` (the top company), ``accounts``, ``ltv``
    (company currency, Σ members) and ``unscored`` (members without an LTV)."""
    return groups.rename(columns={"group_name": "group"})[
        ["group_id", "group", "accounts", "ltv", "unscored"]
    ]


def groups_table(groups: pd.DataFrame, currency: str, lang: str) -> Table:
    """The groups, highest LTV first: top company, members, group LTV, members unscored."""
    _ = gettext_for(lang)
    table = Table(title=_("Corporate groups: LTV rolled up to the top company"))
    for header in (_("Group"), _("Accounts"), _("Group LTV"), _("Unscored")):
        table.add_column(header, justify="left" if header == _("Group") else "right")
    for row in groups.itertuples(index=False):
        table.add_row(
            str(row.group_name),
            format_number(row.accounts, lang),
            format_money(row.ltv, currency, lang),
            format_number(row.unscored, lang),
        )
    if groups.empty:
        table.add_row(_("No account has a parent account."), "", "", "")
    return table
