"""Support and voice-of-customer features: tickets and NPS.

A ticket is open on ``as_of`` when it was opened before the end of that day and not closed
before it. A satisfaction rating is known once its ticket is closed, so only tickets closed on or
before ``as_of`` contribute to the average.

Columns: ``open_tickets``; ``tickets_unresolved_30d`` (open tickets opened on or before
``as_of − 30 days``); ``tickets_opened_90d``; ``satisfaction_avg`` (1–5, whole history; null when
none rated); ``nps_latest`` (0–10, the mean of the answers on the latest answer day, so several
contacts answering the same day give one deterministic value); ``nps_avg_365d`` (mean answer in
the last 365 days) and ``nps_responses_365d``.
"""

from __future__ import annotations

import datetime as dt

import ibis
from ibis.backends import BaseBackend
from ibis.expr.types import Table

from tillage.features._common import AsOf, count_if, day, end_of, in_window, stamp_in_window

UNRESOLVED_DAYS = 30


def support_features(con: BaseBackend, as_of: AsOf) -> Table:
    """One row per account with a ticket or an NPS answer on or before ``as_of``."""
    tickets = con.table("tickets")
    known = tickets.filter(tickets.opened_at < end_of(as_of))
    closed = known.closed_at.notnull() & (known.closed_at < end_of(as_of))
    is_open = ~closed
    old = known.opened_at < end_of(as_of - dt.timedelta(days=UNRESOLVED_DAYS))
    ticket_agg = known.group_by("account_id").aggregate(
        open_tickets=count_if(is_open),
        tickets_unresolved_30d=count_if(is_open & old),
        tickets_opened_90d=count_if(stamp_in_window(known.opened_at, as_of, 90)),
        satisfaction_avg=known.satisfaction.cast("float64").mean(where=closed),
    )

    nps = con.table("nps_responses")
    answers = nps.filter(nps.responded_on <= day(as_of))
    answers = answers.mutate(
        score=answers.score.cast("float64"),
        latest_day=answers.responded_on.max().over(group_by="account_id"),
    )
    nps_agg = answers.group_by("account_id").aggregate(
        nps_latest=answers.score.mean(where=answers.responded_on == answers.latest_day),
        nps_avg_365d=answers.score.mean(where=in_window(answers.responded_on, as_of, 365)),
        nps_responses_365d=count_if(in_window(answers.responded_on, as_of, 365)),
    )
    out = ticket_agg.outer_join(nps_agg, ticket_agg.account_id == nps_agg.account_id)
    out = out.select(
        account_id=ibis.coalesce(out.account_id, out.account_id_right),
        open_tickets=out.open_tickets.fill_null(0),
        tickets_unresolved_30d=out.tickets_unresolved_30d.fill_null(0),
        tickets_opened_90d=out.tickets_opened_90d.fill_null(0),
        satisfaction_avg=out.satisfaction_avg,
        nps_latest=out.nps_latest,
        nps_avg_365d=out.nps_avg_365d,
        nps_responses_365d=out.nps_responses_365d.fill_null(0),
    )
    return out
