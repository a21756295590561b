"""The contact cadence in the account plans: which accounts are due (or overdue) for the
contact their portfolio cell asks for (the strategy file's ``[cadence.<cell>]``) in a planned
month, and the line the plan shows for each.

An account of a cell with a cadence (``activity``, ``every_days``) last contacted that way on
day *d* (on or before the snapshot's as-of date) is **due by** *d* + ``every_days``; never
contacted that way, it is due at once (``due_by`` = the as-of date). It is listed for the month
when ``due_by`` falls on or before the month's last day, **overdue** when ``due_by`` is before
the month's first day. The KPI "contact within cadence" (:mod:`tillage.kpi.cadence`) measures
the same rule on a period's last day.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from tillage.i18n import gettext_for
from tillage.strategy.config import Strategy

MEETINGS = frozenset({"meeting", "visit", "qbr"})
"""Activity types that satisfy a ``meeting`` cadence."""

DUE_COLUMNS = (
    "account_id",
    "cell",
    "activity",
    "every_days",
    "last_contact",
    "due_by",
    "overdue",
)


def _fits(activity: str, kind: str) -> bool:
    """Whether an activity of type ``kind`` keeps a cadence of ``activity``."""
    return activity == "any" or kind == activity or (activity == "meeting" and kind in MEETINGS)


SCHEDULE_COLUMNS = (
    "account_id",
    "cell",
    "activity",
    "every_days",
    "last_contact",
    "due_by",
    "due_day",
)
"""``due_day``: ``due_by`` as its proleptic ordinal (an integer, compared without a loop)."""


def cadence_schedule(
    cells: pd.DataFrame, contacts: pd.DataFrame, strategy: Strategy, *, as_of: dt.date
) -> pd.DataFrame:
    """Every account of a cell with a cadence and the day its next contact is due by
    (:data:`SCHEDULE_COLUMNS`, in the order of ``cells``): what :func:`cadence_due` picks a
    month's accounts from, the same for every month (computed once per snapshot).

    ``cells``: ``account_id``, ``segment`` (the cell); ``contacts``: each account's last
    activity of each type on or before ``as_of`` — ``account_id``, ``type``, ``last`` (a date).
    """
    by_account: dict[int, list[tuple[str, dt.date]]] = {}
    for account, kind, day in contacts[["account_id", "type", "last"]].itertuples(index=False):
        by_account.setdefault(int(account), []).append((str(kind), pd.Timestamp(day).date()))
    rows = []
    for account, cell in cells[["account_id", "segment"]].itertuples(index=False):
        cadence = strategy.cadence.get(cell)
        if cadence is None:
            continue
        days = [d for kind, d in by_account.get(int(account), []) if _fits(cadence.activity, kind)]
        last = max(days) if days else None
        due = last + dt.timedelta(days=cadence.every_days) if last is not None else as_of
        row = (int(account), cell, cadence.activity, cadence.every_days, last, due, due.toordinal())
        rows.append(row)
    frame = pd.DataFrame(rows, columns=list(SCHEDULE_COLUMNS))
    frame["due_day"] = frame["due_day"].astype("int64")
    return frame


def due_in_month(schedule: pd.DataFrame, month: dt.date) -> pd.DataFrame:
    """The rows of ``schedule`` (:func:`cadence_schedule`, other columns kept) due by the last
    day of the month starting ``month``, with ``overdue`` (due before its first day); soonest
    due first."""
    last_day = (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
    frame = schedule.loc[schedule["due_day"] <= last_day.toordinal()].copy()
    frame["overdue"] = frame["due_day"] < month.toordinal()
    return frame.sort_values(["due_day", "account_id"], kind="stable").reset_index(drop=True)


def cadence_due(
    cells: pd.DataFrame,
    contacts: pd.DataFrame,
    strategy: Strategy,
    *,
    as_of: dt.date,
    month: dt.date,
) -> pd.DataFrame:
    """The accounts due for their cell's contact in the month starting ``month``
    (:data:`DUE_COLUMNS`, soonest due first); ``cells`` and ``contacts`` as for
    :func:`cadence_schedule`."""
    schedule = cadence_schedule(cells, contacts, strategy, as_of=as_of)
    return due_in_month(schedule, month)[list(DUE_COLUMNS)]


def cadence_line(
    activity: str, every_days: int, last: dt.date | None, due_by: dt.date, lang: str
) -> str:
    """The plan's line for one account due: the cadence, the last such contact and the day
    it is due by, in ``lang``."""
    _ = gettext_for(lang)
    kind = {
        "any": _("any contact"),
        "meeting": _("a meeting"),
        "visit": _("a visit"),
        "qbr": _("a QBR"),
        "call": _("a call"),
        "email": _("an e-mail"),
    }.get(activity, activity)
    rule = _("{kind} every {days} days").format(kind=kind, days=every_days)
    if last is None:
        return _("{rule}: none on record, due now").format(rule=rule)
    return _("{rule}: last on {last}, due by {due}").format(
        rule=rule, last=last.isoformat(), due=due_by.isoformat()
    )
