"""The renewals calendar for the terminal and for CSV (``tillage renewals``): the undecided
renewals of the next days (:func:`tillage.services.renewals.renewal_calendar`), soonest first,
in the user's language, amounts in the one money format (:func:`tillage.i18n.format_money`: full
with separators in the table, compact — ￥1.2億 — in the summary line)."""

from __future__ import annotations

import pandas as pd
from rich.table import Table

from tillage.i18n import format_money, format_number, gettext_for
from tillage.report.formatting import format_fraction
from tillage.report.terminal import Col, fitted_table, money
from tillage.services.renewals import RenewalCalendar


def _days(days: int, lang: str) -> str:
    _ = gettext_for(lang)
    if days == 1:
        return _("in 1 day")
    return _("in %(days)s days") % {"days": format_number(days, lang)}


def renewals_table(
    calendar: RenewalCalendar, currency: str, lang: str, width: int | None = None
) -> Table:
    """The calendar as a table: date, days to go, account, product, ARR, owner, team, LTV and
    churn risk; a dash where the snapshot has no score. In a narrow terminal (``width``,
    :func:`~tillage.report.terminal.fitted_table`) days to go, product and team are left out
    and amounts are compact."""
    _ = gettext_for(lang)
    columns = (
        Col(_("Renewal date")),
        Col(_("Days to go"), "right", drop=True),
        Col(_("Account"), name=True),
        Col(_("Product"), drop=True),
        Col(_("ARR"), "right", short="ARR"),
        Col(_("Owner"), name=True),
        Col(_("Team"), drop=True),
        Col(_("LTV"), "right"),
        Col(_("Churn risk"), "right"),
    )
    rows = [
        (
            item.renewal_date.isoformat(),
            _days(item.days_to_renewal, lang),
            item.account,
            item.product or "—",
            money(item.arr, currency, lang, width),
            item.rep or "—",
            item.team or "—",
            money(item.ltv, currency, lang, width),
            "—" if item.churn_risk is None else format_fraction(item.churn_risk, lang),
        )
        for item in calendar.items
    ]
    title = _("Undecided renewals {start} – {end}").format(
        start=calendar.start.isoformat(), end=calendar.end.isoformat()
    )
    return fitted_table(columns, rows, width, title=title)


def renewals_summary(calendar: RenewalCalendar, currency: str, lang: str) -> str:
    """One line: how many undecided renewals, their ARR (compact), and the snapshot's date."""
    _ = gettext_for(lang)
    if calendar.total == 1:
        line = _("1 undecided renewal, ARR {arr} (snapshot of {date}).")
    else:
        line = _("{n} undecided renewals, ARR {arr} in all (snapshot of {date}).")
    return line.format(
        n=format_number(calendar.total, lang),
        arr=format_money(calendar.total_arr, currency, lang, compact=True),
        date=calendar.snapshot.as_of.isoformat(),
    )


def renewals_rows(calendar: RenewalCalendar, lang: str) -> pd.DataFrame:
    """The calendar for CSV: one row per renewal, headers in ``lang``, amounts as numbers."""
    _ = gettext_for(lang)
    return pd.DataFrame(
        {
            _("Renewal date"): [i.renewal_date.isoformat() for i in calendar.items],
            _("Days to go"): [i.days_to_renewal for i in calendar.items],
            _("Account"): [i.account for i in calendar.items],
            _("Product"): [i.product or "" for i in calendar.items],
            _("ARR"): [round(i.arr) for i in calendar.items],
            _("Owner"): [i.rep or "" for i in calendar.items],
            _("Team"): [i.team or "" for i in calendar.items],
            _("LTV"): [None if i.ltv is None else round(i.ltv) for i in calendar.items],
            _("Churn risk"): [i.churn_risk for i in calendar.items],
        }
    )
