"""The evidence behind an account's urgency, as of a date: its next undecided renewal, its latest
NPS answer and its open severe tickets.

These are not columns of the feature table (a model never reads them): the strategy stage turns
them into urgency and names them in the priority's reasons.

**Renewals on file** (:func:`renewal_status`). A contract active on ``as_of`` (``start_date <=
as_of < end_date``) is *decided* when another contract names it in ``renewed_from_id`` and that
successor's decision day — the day before it starts, the predecessor's last day — is on or
before ``as_of`` (``start_date <= as_of + 1 day``); the store does not record when a contract was
signed, so a successor starting later is not counted (a historical as-of date would otherwise see
renewals signed after it). Per account: ``days_to_undecided_renewal`` — days from ``as_of`` to the
earliest end of an active, undecided contract (null when every active contract is decided or
none is active) — and ``renewals_on_file``, the active contracts already renewed.

**Latest NPS** (:func:`latest_nps`): the lowest answer given on the latest answer day within
``(as_of − lookback_days, as_of]`` (``nps_score``, 0..10) and that day (``nps_date``).

**Open severe tickets** (:func:`open_severe_tickets`): tickets opened before the end of ``as_of``,
not closed by then, with ``severity`` 1 (critical) … ``max_severity``; each with its number
(``ticket``, the source key), ``severity`` and ``age_days`` (whole days since it was opened),
oldest first.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
from ibis.backends import BaseBackend

from tillage.features._common import count_if, day, days_between, end_of, in_window
from tillage.features.engine import execute_arrow

__all__ = ["latest_nps", "open_severe_tickets", "renewal_status"]


def renewal_status(con: BaseBackend, as_of: dt.date) -> pd.DataFrame:
    """One row per account with an active contract: ``account_id``,
    ``days_to_undecided_renewal`` (days; NaN when all are decided) and ``renewals_on_file``."""
    contracts = con.table("contracts")
    active = contracts.filter(
        (contracts.start_date <= day(as_of)) & (contracts.end_date > day(as_of))
    )
    successors = contracts.filter(
        contracts.renewed_from_id.notnull()
        & (contracts.start_date <= day(as_of + dt.timedelta(days=1)))
    )
    renewed = successors.select(renewed_id=successors.renewed_from_id).distinct()
    rows = active.left_join(renewed, active.id == renewed.renewed_id)
    decided = rows.renewed_id.notnull()
    agg = rows.group_by("account_id").aggregate(
        next_end=rows.end_date.min(where=~decided),
        renewals_on_file=count_if(decided),
    )
    expr = agg.select(
        "account_id",
        days_to_undecided_renewal=days_between(agg.next_end, day(as_of)),
        renewals_on_file=agg.renewals_on_file,
    ).order_by("account_id")
    frame = execute_arrow(con, expr).to_pandas()
    frame["account_id"] = frame["account_id"].astype("int64")
    frame["days_to_undecided_renewal"] = pd.to_numeric(frame["days_to_undecided_renewal"]).astype(
        float
    )
    frame["renewals_on_file"] = frame["renewals_on_file"].fillna(0).astype("int64")
    return frame


def latest_nps(con: BaseBackend, as_of: dt.date, lookback_days: int) -> pd.DataFrame:
    """One row per account answering within the look-back: ``account_id``, ``nps_score``
    (the lowest answer of the latest answer day) and ``nps_date``."""
    nps = con.table("nps_responses")
    answers = nps.filter(in_window(nps.responded_on, as_of, lookback_days))
    answers = answers.mutate(latest=answers.responded_on.max().over(group_by="account_id"))
    last = answers.filter(answers.responded_on == answers.latest)
    expr = (
        last.group_by("account_id")
        .aggregate(nps_score=last.score.cast("float64").min(), nps_date=last.responded_on.max())
        .order_by("account_id")
    )
    frame = execute_arrow(con, expr).to_pandas()
    frame["account_id"] = frame["account_id"].astype("int64")
    frame["nps_date"] = pd.to_datetime(frame["nps_date"]).dt.date
    return frame


def open_severe_tickets(con: BaseBackend, as_of: dt.date, max_severity: int) -> pd.DataFrame:
    """The tickets open at the end of ``as_of`` with severity 1..``max_severity``:
    ``account_id``, ``ticket`` (its number), ``severity``, ``age_days``; oldest first."""
    tickets = con.table("tickets")
    known = tickets.filter(
        (tickets.opened_at < end_of(as_of))
        & (tickets.closed_at.isnull() | (tickets.closed_at >= end_of(as_of)))
        & tickets.severity.notnull()
        & (tickets.severity <= max_severity)
    )
    expr = known.select(
        "account_id",
        ticket=known.key,
        severity=known.severity.cast("int64"),
        age_days=days_between(day(as_of), known.opened_at.date()),
    ).order_by(["account_id", "age_days", "ticket"])
    frame = execute_arrow(con, expr).to_pandas()
    frame["account_id"] = frame["account_id"].astype("int64")
    frame["severity"] = frame["severity"].astype("int64")
    frame["age_days"] = frame["age_days"].astype(float)
    return frame.sort_values(
        ["account_id", "age_days", "ticket"], ascending=[True, False, True], kind="stable"
    ).reset_index(drop=True)
