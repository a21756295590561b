"""The contact cadence due in a month's plan as a terminal table (``tillage plan``)."""

from __future__ import annotations

from collections.abc import Sequence

from rich.table import Table

from tillage.i18n import gettext_for
from tillage.report.portfolio import segment_label
from tillage.report.terminal import Col, fitted_table
from tillage.services.cadence import CadenceDue


def cadence_table(due: Sequence[CadenceDue], lang: str, width: int | None = None) -> Table:
    """One row per account due for its cell's contact: account, rep, cell, the plan's line,
    overdue flag; a single row saying so when none is due. Fitted to a terminal ``width``
    columns wide (:func:`~tillage.report.terminal.fitted_table`: the cell left out when narrow,
    names and the plan's line cut on one line)."""
    _ = gettext_for(lang)
    rows = [
        (
            item.account,
            item.rep or "",
            segment_label(item.cell, lang),
            item.text,
            _("yes") if item.overdue else "",
        )
        for item in due
    ]
    columns = (
        Col(_("Account"), name=True),
        Col(_("Rep"), name=True),
        Col(_("Cell"), drop=True),
        Col(_("Cadence"), name=True),
        Col(_("Overdue")),
    )
    if not due:
        rows = [(_("No account is due for a contact this month."), "", "", "", "")]
    return fitted_table(columns, rows, width, title=_("Contact cadence due this month"))
