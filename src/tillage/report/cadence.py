"""The contact cadence due in a month's plan as a terminal table (``tillage plan``)."""

from __future__ import annotations

from collections.abc import Sequence

from rich.table import Table

from tillage.i18n import gettext_for
from tillage.report.portfolio import segment_label
from tillage.services.cadence import CadenceDue


def cadence_table(due: Sequence[CadenceDue], lang: str) -> Table:
    """One row per account due for its cell's contact: account, rep, cell, the plan's line,
    overdue flag; a single row saying so when none is due."""
    _ = gettext_for(lang)
    table = Table(title=_("Contact cadence due this month"))
    for column in (_("Account"), _("Rep"), _("Cell"), _("Cadence"), _("Overdue")):
        table.add_column(column)
    for item in due:
        table.add_row(
            item.account,
            item.rep or "",
            segment_label(item.cell, lang),
            item.text,
            _("yes") if item.overdue else "",
        )
    if not due:
        table.add_row(_("No account is due for a contact this month."), "", "", "", "")
    return table
