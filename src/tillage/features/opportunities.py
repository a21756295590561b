"""Opportunity features: open pipeline by type, won and lost expansion deals, competition.

An opportunity is known on ``as_of`` when it was created on or before it. It is *open* on
``as_of`` unless it was closed on or before ``as_of`` (``is_closed`` and ``close_date <= as_of``);
a deal closed later was still open then, so the export's ``is_closed`` does not leak. Amounts in
the company currency (a missing amount counts 0).

Columns: ``open_opportunities``, ``open_pipeline`` and ``open_pipeline_<type>`` for the types new,
upsell, cross_sell, renewal; ``won_<type>_count`` / ``won_<type>_amount`` and ``lost_<type>_count``
/ ``lost_<type>_amount`` for upsell and cross_sell (closed on or before ``as_of``, whole history);
``open_with_competitor`` (open deals naming a competitor) and ``open_pipeline_with_competitor``.
"""

from __future__ import annotations

from ibis.backends import BaseBackend
from ibis.expr.types import Table

from tillage.features._common import AsOf, count_if, day, money, sum_if

OPEN_TYPES = ("new", "upsell", "cross_sell", "renewal")
EXPANSION_TYPES = ("upsell", "cross_sell")


def opportunity_features(con: BaseBackend, as_of: AsOf) -> Table:
    """One row per account with an opportunity created on or before ``as_of``."""
    opps = con.table("opportunities")
    known = opps.filter(opps.created_date <= day(as_of))
    closed = known.is_closed & known.close_date.notnull() & (known.close_date <= day(as_of))
    is_open = ~closed
    won = closed & known.is_won
    lost = closed & ~known.is_won
    amount = money(known.amount).fill_null(0.0)
    competitor = known.competitor.notnull() & (known.competitor != "")

    metrics = {
        "open_opportunities": count_if(is_open),
        "open_pipeline": sum_if(is_open, amount),
    }
    for kind in OPEN_TYPES:
        metrics[f"open_pipeline_{kind}"] = sum_if(is_open & (known.type == kind), amount)
    for kind in EXPANSION_TYPES:
        of_kind = known.type == kind
        metrics[f"won_{kind}_count"] = count_if(won & of_kind)
        metrics[f"won_{kind}_amount"] = sum_if(won & of_kind, amount)
        metrics[f"lost_{kind}_count"] = count_if(lost & of_kind)
        metrics[f"lost_{kind}_amount"] = sum_if(lost & of_kind, amount)
    metrics["open_with_competitor"] = count_if(is_open & competitor)
    metrics["open_pipeline_with_competitor"] = sum_if(is_open & competitor, amount)
    return known.group_by("account_id").aggregate(**metrics)
