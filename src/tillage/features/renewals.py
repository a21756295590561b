"""Renewal decisions as of a date, with the churn covariates as observable on each decision date.

A *renewal decision* is a contract term whose ``end_date`` is on or before ``as_of`` and that was
renewable: every term except those with ``status = 'expired'`` (fixed-term project contracts that
simply end). The term was **renewed** when another contract names it in ``renewed_from_id`` (the
successor starts on the end date, at the latest ``as_of``) or its status says ``renewed``;
otherwise the account **churned** at that decision. The decision date ``d`` is the term's last
day, the day before ``end_date`` (the first day it no longer runs). The covariates are computed
as of ``d`` from the rows dated on or before ``d`` only, and match the demo
generator's definitions (``params["contracts"]["covariates"]``):

* ``usage_decline`` — 1 when the mean ``active_users`` measurement over the calendar month of
  ``d`` and the two before is below 0.85 × the mean over the three months before those; 0 when
  either window lacks a measurement in one of its months;
* ``unresolved_tickets`` — tickets opened on or before ``d − 30 days`` and not closed by the end
  of ``d`` (closed on a later date, or not at all), capped at 3;
* ``detractor`` — 1 when the latest NPS answer on or before ``d`` (ties on the date: the highest
  contact id) scored 6 or less;
* ``silence`` — 1 when no meeting, visit or QBR took place in ``[d − 90 days, d]``;
* ``single_threaded`` — 1 when the activities dated from the first day of the 5th month before
  ``d``'s month up to ``d`` (about 180 days) touch at most one distinct contact and at most one
  distinct rep (none at all counts as single-threaded);
* ``monthly_term`` — 1 when the ending term is one month long;
* ``tenure_months`` — months (30.4375 days) from the account's first contract start to ``d``.

:func:`renewal_covariates_expr` computes the same covariates for any (account, date) points, so
:func:`current_renewal_covariates` gives the covariates of the contracts active on ``as_of`` —
what the churn model needs to predict the next renewal.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import ibis
import pandas as pd
from ibis.backends import BaseBackend
from ibis.expr.types import Table

from tillage.features._common import (
    DAYS_PER_MONTH,
    AsOf,
    as_date,
    as_of_date,
    count_if,
    day,
    days_between,
)
from tillage.features.dated import compiled_once
from tillage.features.engine import execute_arrow

__all__ = [
    "COVARIATES",
    "current_renewal_covariates",
    "fixed_term_shares",
    "renewal_covariates_expr",
    "renewal_decisions",
    "renewal_decisions_expr",
]

#: Covariates of :class:`tillage.models.renewal_churn.RenewalChurnModel`, as the generator plants.
COVARIATES: tuple[str, ...] = (
    "usage_decline",
    "unresolved_tickets",
    "detractor",
    "silence",
    "single_threaded",
    "monthly_term",
)
UNRESOLVED_DAYS = 30
UNRESOLVED_CAP = 3
SILENCE_DAYS = 90
THREAD_MONTHS = 6  # the decision month and the 5 before it
USAGE_METRIC = "active_users"
USAGE_DECLINE = -0.15
DETRACTOR_MAX = 6
MEETING_TYPES = ("meeting", "visit", "qbr")


def _months_before(date, months: int):  # type: ignore[no-untyped-def]
    """First day of the calendar month ``months`` before ``date``'s month (a date)."""
    first = date.truncate("M")
    return (first - ibis.interval(months=months)).cast("date") if months else first


def renewal_covariates_expr(con: BaseBackend, points: Table) -> Table:
    """The covariates at each point of ``points`` (columns ``point_id``, ``account_id``, ``d``,
    a date). Returns ``point_id`` and the covariates except ``monthly_term`` / ``tenure_months``.
    """
    pts = points.select("point_id", p_account="account_id", d="d")

    # usage: monthly means over the decision month and the 2 before, and the 3 before those
    usage = con.table("usage")
    usage = usage.filter(usage.metric == USAGE_METRIC)
    u = pts.inner_join(usage, pts.p_account == usage.account_id)
    u = u.filter((u.date <= u.d) & (u.date >= _months_before(u.d, 5)))
    recent = u.date >= _months_before(u.d, 2)
    month = u.date.truncate("M")
    value = u.value.cast("float64")
    usage_agg = u.group_by("point_id").aggregate(
        last_mean=value.mean(where=recent),
        prev_mean=value.mean(where=~recent),
        last_months=month.nunique(where=recent),
        prev_months=month.nunique(where=~recent),
    )
    full = (usage_agg.last_months == 3) & (usage_agg.prev_months == 3)
    usage_agg = usage_agg.select(
        "point_id",
        usage_trend=ibis.ifelse(
            full & (usage_agg.prev_mean != 0), usage_agg.last_mean / usage_agg.prev_mean - 1.0, None
        ),
    )

    # tickets open for 30 days or more on d
    tickets = con.table("tickets")
    t = pts.inner_join(tickets, pts.p_account == tickets.account_id)
    old = t.opened_at.date() <= (t.d - ibis.interval(days=UNRESOLVED_DAYS)).cast("date")
    still_open = t.closed_at.isnull() | (t.closed_at.date() > t.d)
    ticket_agg = (
        t.filter(old & still_open)
        .group_by("point_id")
        .aggregate(unresolved_raw=lambda s: s.count())
    )

    # latest NPS answer on or before d
    nps = con.table("nps_responses")
    n = pts.inner_join(nps, pts.p_account == nps.account_id)
    n = n.filter(n.responded_on <= n.d)
    order = [ibis.desc(n.responded_on)]
    if "contact_id" in nps.columns:  # ties on the date: the highest contact id
        order.append(ibis.desc(n.contact_id))
    order.append(ibis.desc(n.score))
    n = n.mutate(rank=ibis.row_number().over(group_by="point_id", order_by=order))
    nps_agg = n.filter(n["rank"] == 0).select("point_id", latest_nps=n.score.cast("float64"))

    # activities: the last meeting, and the breadth of the relationship in ~180 days
    acts = con.table("activities")
    a = pts.inner_join(acts, pts.p_account == acts.account_id)
    a = a.mutate(when=a.occurred_at.date())
    a = a.filter(a.when <= a.d)
    window = a.when >= _months_before(a.d, THREAD_MONTHS - 1)
    act_agg = a.group_by("point_id").aggregate(
        last_meeting=a.when.max(where=a.type.isin(MEETING_TYPES)),
        contacts=a.contact_id.nunique(where=window),
        reps=a.rep_id.nunique(where=window),
    )

    out = pts
    for part in (usage_agg, ticket_agg, nps_agg, act_agg):
        out = out.left_join(part, "point_id").drop("point_id_right")
    days_since = days_between(out.d, out.last_meeting)
    return out.select(
        "point_id",
        usage_trend=out.usage_trend,
        unresolved_tickets_raw=out.unresolved_raw.fill_null(0),
        latest_nps=out.latest_nps,
        days_since_meeting=days_since,
        usage_decline=ibis.ifelse(out.usage_trend.fill_null(0.0) < USAGE_DECLINE, 1.0, 0.0),
        unresolved_tickets=ibis.least(out.unresolved_raw.fill_null(0), UNRESOLVED_CAP).cast(
            "float64"
        ),
        detractor=ibis.ifelse(out.latest_nps.fill_null(99.0) <= DETRACTOR_MAX, 1.0, 0.0),
        silence=ibis.ifelse(days_since.fill_null(1e9) > SILENCE_DAYS, 1.0, 0.0),
        single_threaded=ibis.ifelse(
            (out.contacts.fill_null(0) <= 1) & (out.reps.fill_null(0) <= 1), 1.0, 0.0
        ),
    )


def _with_tenure(con: BaseBackend, frame: Table) -> Table:
    contracts = con.table("contracts")
    first = contracts.group_by("account_id").aggregate(first_start=contracts.start_date.min())
    first = first.rename(first_account="account_id")
    out = frame.left_join(first, frame.account_id == first.first_account)
    return out.mutate(
        tenure_months=(days_between(out.d, out.first_start) / DAYS_PER_MONTH).clip(lower=0.0)
    ).drop("first_account", "first_start")


def renewal_decisions_expr(con: BaseBackend, as_of: AsOf | str) -> Table:
    """One row per renewal decision dated on or before ``as_of`` (see the module docstring):
    ``account_id``, ``contract_id``, ``decision_date``, ``term_months``, ``recurring_amount``,
    ``renewed_amount`` (the successor terms' recurring amount when they started by ``as_of``,
    else null), ``churned`` (0/1), the raw signals and the covariates."""
    as_of = as_of_date(as_of)
    contracts = con.table("contracts")
    ended = contracts.filter((contracts.end_date <= day(as_of)) & (contracts.status != "expired"))
    later = contracts.filter(contracts.renewed_from_id.notnull())
    seen = later.start_date <= day(as_of)  # the successor's amount is known once it started
    successors = later.group_by("renewed_from_id").aggregate(
        successors=later.count(),
        renewed_amount=later.recurring_amount.cast("float64").sum(where=seen),
        seen=count_if(seen),  # not bool → bigint: PostgreSQL has no such cast
    )
    rows = ended.left_join(successors, ended.id == successors.renewed_from_id)
    renewed = (rows.successors.fill_null(0) > 0) | (rows.status == "renewed")
    points = rows.select(
        point_id=rows.id,
        account_id=rows.account_id,
        # the decision is taken on the term's last day, the day before its end date (the first
        # day it no longer runs, when the successor starts)
        d=(rows.end_date - ibis.interval(days=1)).cast("date"),
        term_months=rows.term_months,
        recurring_amount=rows.recurring_amount.cast("float64"),
        renewed_amount=ibis.ifelse(rows.seen.fill_null(0) > 0, rows.renewed_amount, None),
        churned=ibis.ifelse(renewed, 0, 1),
    )
    covariates = renewal_covariates_expr(con, points)
    out = points.left_join(covariates, "point_id").drop("point_id_right")
    out = _with_tenure(con, out)
    return out.select(
        "account_id",
        contract_id=out.point_id,
        decision_date=out.d,
        term_months=out.term_months,
        recurring_amount=out.recurring_amount,
        renewed_amount=out.renewed_amount,
        churned=out.churned,
        usage_trend=out.usage_trend,
        unresolved_tickets_raw=out.unresolved_tickets_raw,
        latest_nps=out.latest_nps,
        days_since_meeting=out.days_since_meeting,
        usage_decline=out.usage_decline,
        unresolved_tickets=out.unresolved_tickets,
        detractor=out.detractor,
        silence=out.silence,
        single_threaded=out.single_threaded,
        monthly_term=ibis.ifelse(out.term_months == 1, 1.0, 0.0),
        tenure_months=out.tenure_months,
    ).order_by(["decision_date", "account_id", "contract_id"])


def current_renewal_covariates_expr(con: BaseBackend, as_of: AsOf | str) -> Table:
    """The covariates on ``as_of`` of every account with a contract active then
    (``start_date <= as_of < end_date``; with several, the one ending first): ``account_id``,
    ``contract_id``, ``next_renewal`` (its end date), ``term_months``, ``first_term`` (1 when it
    renews no earlier contract), the covariates."""
    as_of = as_of_date(as_of)
    contracts = con.table("contracts")
    active = contracts.filter(
        (contracts.start_date <= day(as_of)) & (contracts.end_date > day(as_of))
    )
    active = active.mutate(
        rank=ibis.row_number().over(
            group_by="account_id", order_by=[active.end_date, ibis.desc(active.term_months)]
        )
    )
    active = active.filter(active["rank"] == 0)
    points = active.select(
        point_id=active.id,
        account_id=active.account_id,
        d=day(as_of),
        next_renewal=active.end_date,
        term_months=active.term_months,
        first_term=ibis.ifelse(active.renewed_from_id.isnull(), 1.0, 0.0),
    )
    covariates = renewal_covariates_expr(con, points)
    out = points.left_join(covariates, "point_id").drop("point_id_right")
    out = _with_tenure(con, out)
    return out.select(
        "account_id",
        contract_id=out.point_id,
        next_renewal=out.next_renewal,
        term_months=out.term_months,
        first_term=out.first_term,
        usage_decline=out.usage_decline,
        unresolved_tickets=out.unresolved_tickets,
        detractor=out.detractor,
        silence=out.silence,
        single_threaded=out.single_threaded,
        monthly_term=ibis.ifelse(out.term_months == 1, 1.0, 0.0),
        tenure_months=out.tenure_months,
    ).order_by("account_id")


def fixed_term_shares(con: BaseBackend, as_of: dt.date | str) -> dict[str, float]:
    """The share of contract terms ended by ``as_of`` that were fixed-term (``status =
    'expired'``), separately for first terms (``"first"``: renewing no earlier contract) and
    renewal terms (``"renewal"``); 0 where no term of the kind has ended. A running contract's
    kind is unknown until it ends, so this share is the probability that it simply expires.
    """
    as_of = as_date(as_of)
    contracts = con.table("contracts")
    ended = contracts.filter(contracts.end_date <= day(as_of))
    expr = ended.group_by(first=ended.renewed_from_id.isnull()).aggregate(
        terms=ended.count(), expired=count_if(ended.status == "expired")
    )
    table = execute_arrow(con, expr).to_pandas()
    out = {"first": 0.0, "renewal": 0.0}
    for row in table.itertuples(index=False):
        if row.terms:
            out["first" if row.first else "renewal"] = float(row.expired) / float(row.terms)
    return out


def _frame(
    con: BaseBackend, build: Callable[[BaseBackend, AsOf], Table], as_of: dt.date | str
) -> pd.DataFrame:
    """``build``'s query as of ``as_of`` in pandas, compiled once per backend."""
    frame = compiled_once(con, build).to_arrow(as_of).to_pandas()
    for name in frame.columns:
        if name in ("account_id", "contract_id", "term_months", "churned"):
            frame[name] = frame[name].astype("int64")
        elif name in ("decision_date", "next_renewal"):
            frame[name] = pd.to_datetime(frame[name])
        else:
            frame[name] = pd.to_numeric(frame[name]).astype("float64")
    return frame.reset_index(drop=True)


def renewal_decisions(con: BaseBackend, as_of: dt.date | str) -> pd.DataFrame:
    """:func:`renewal_decisions_expr` executed into pandas (ids int64, dates datetime64)."""
    return _frame(con, renewal_decisions_expr, as_of)


def current_renewal_covariates(con: BaseBackend, as_of: dt.date | str) -> pd.DataFrame:
    """:func:`current_renewal_covariates_expr` executed into pandas."""
    return _frame(con, current_renewal_covariates_expr, as_of)
