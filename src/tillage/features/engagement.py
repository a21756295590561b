"""Engagement features from activities (meetings, calls, emails, visits, QBRs).

An activity counts on the day it occurred (business-local time); windows are the days
``(as_of − N, as_of]``.

Columns: ``activities_<N>d`` and ``<type>s_<N>d`` for N in 30, 90, 180 and the types meeting,
call, email, visit, qbr; ``days_since_last_activity`` and ``days_since_last_meeting`` (a meeting,
visit or QBR; null when there was none); over the last 180 days: ``distinct_reps_180d``,
``distinct_contacts_180d``, ``distinct_departments_180d`` (departments of the contacts touched)
and ``rep_concentration_180d`` — the Herfindahl index Σ sᵣ² of the reps' shares sᵣ of the
activities that name a rep (1 = one rep does everything, 1/n = n reps share evenly; null without
such activities) and ``top_rep_share_180d``, the largest of those shares. The same measures over
any window, with the top rep's id, come from :func:`touch_breadth` (the key-person risk of
:mod:`tillage.strategy.risk` reads them over the strategy file's window).
"""

from __future__ import annotations

import ibis
from ibis.backends import BaseBackend
from ibis.expr.types import Table

from tillage.features._common import AsOf, count_if, day, days_between, end_of, stamp_in_window

WINDOWS = (30, 90, 180)
TYPES = ("meeting", "call", "email", "visit", "qbr")
MEETING_TYPES = ("meeting", "visit", "qbr")
CONCENTRATION_DAYS = 180


def engagement_features(con: BaseBackend, as_of: AsOf) -> Table:
    """One row per account with an activity on or before ``as_of``."""
    acts = con.table("activities")
    known = acts.filter(acts.occurred_at < end_of(as_of))
    metrics = {}
    for days in WINDOWS:
        inside = stamp_in_window(known.occurred_at, as_of, days)
        metrics[f"activities_{days}d"] = count_if(inside)
        for kind in TYPES:
            metrics[f"{kind}s_{days}d"] = count_if(inside & (known.type == kind))
    metrics["last_activity"] = known.occurred_at.max()
    metrics["last_meeting"] = known.occurred_at.max(where=known.type.isin(MEETING_TYPES))
    counts = known.group_by("account_id").aggregate(**metrics)
    counts = counts.mutate(
        days_since_last_activity=days_between(day(as_of), counts.last_activity.date()),
        days_since_last_meeting=days_between(day(as_of), counts.last_meeting.date()),
    ).drop("last_activity", "last_meeting")

    wide = touch_breadth(con, as_of, CONCENTRATION_DAYS)
    breadth = wide.select(
        "account_id",
        distinct_reps_180d=wide.reps_touching,
        distinct_contacts_180d=wide.contacts_touched,
        distinct_departments_180d=wide.departments_touched,
        rep_concentration_180d=wide.rep_concentration,
        top_rep_share_180d=wide.top_rep_share,
    )
    out = counts.left_join(breadth, "account_id").drop("account_id_right")
    for column in ("distinct_reps_180d", "distinct_contacts_180d", "distinct_departments_180d"):
        out = out.mutate(**{column: out[column].fill_null(0)})
    return out


def touch_breadth(con: BaseBackend, as_of: AsOf, days: int) -> Table:
    """Who touches each account, over the activities on the days ``(as_of − days, as_of]``.

    One row per account with such an activity: ``touches`` (activities), ``reps_touching``
    (distinct reps), ``contacts_touched`` (distinct customer contacts), ``departments_touched``
    (distinct departments of those contacts); over the ``rep_touches`` activities that name a
    rep, ``rep_concentration`` = Σ sᵣ² (Herfindahl index of the reps' shares sᵣ),
    ``top_rep_share`` = maxᵣ sᵣ and ``top_rep_id`` (the rep with the most of them; ties go to the
    smallest id). The three are null without an activity naming a rep.
    """
    acts = con.table("activities")
    recent = acts.filter(stamp_in_window(acts.occurred_at, as_of, days))
    contacts = con.table("contacts").select(contact_key="id", department="department")
    recent = recent.left_join(contacts, recent.contact_id == contacts.contact_key)
    breadth = recent.group_by("account_id").aggregate(
        touches=recent.count(),
        reps_touching=recent.rep_id.nunique(),
        contacts_touched=recent.contact_id.nunique(),
        departments_touched=recent.department.nunique(),
    )
    by_rep = (
        recent.filter(recent.rep_id.notnull())
        .group_by(["account_id", "rep_id"])
        .aggregate(n=lambda t: t.count().cast("float64"))
    )
    by_rep = by_rep.mutate(
        total=by_rep.n.sum().over(group_by="account_id"),
        place=ibis.row_number().over(
            group_by="account_id", order_by=[ibis.desc(by_rep.n), by_rep.rep_id]
        ),
    )
    shares = by_rep.group_by("account_id").aggregate(
        rep_touches=by_rep.total.max(),
        rep_concentration=((by_rep.n / by_rep.total) ** 2).sum(),
        top_rep_share=(by_rep.n / by_rep.total).max(),
        top_rep_id=by_rep.rep_id.min(where=by_rep.place == 0),
    )
    out = breadth.left_join(shares, "account_id").drop("account_id_right")
    return out.mutate(rep_touches=out.rep_touches.fill_null(0).cast("int64"))
