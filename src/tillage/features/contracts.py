"""Contract features: recurring revenue, tenure, renewals, terms, expansions and contractions.

A contract is *active* on ``as_of`` when ``start_date <= as_of < end_date``; the ``status``
column is not read (it describes the export date, not ``as_of``). Renewals, expansions and
contractions count contract rows that started on or before ``as_of``. ``recurring_amount`` is
monthly (MRR), in the company currency.

Columns: ``mrr``, ``arr`` (12 × mrr), ``active_contracts``, ``contract_tenure_months`` (from the
first contract start, months of 30.4375 days), ``renewals`` (terms renewed from an earlier one),
``contract_term_months`` (longest term among active contracts), ``days_to_next_renewal`` (from
``as_of`` to the earliest end of an active contract), ``expansions`` / ``contractions`` (renewals
whose MRR is above / below the term they renewed from), ``expansion_mrr`` / ``contraction_mrr``
(the summed MRR increase / decrease of those renewals, both ≥ 0) and ``contract_revenue_365d``
(MRR × months of each term inside ``(as_of − 365 days, as_of]``).
"""

from __future__ import annotations

import datetime as dt

import ibis
from ibis.backends import BaseBackend
from ibis.expr.types import Table

from tillage.features._common import (
    DAYS_PER_MONTH,
    AsOf,
    count_if,
    day,
    days_between,
    money,
    sum_if,
)


def contract_features(con: BaseBackend, as_of: AsOf) -> Table:
    """One row per account with a contract started on or before ``as_of``."""
    contracts = con.table("contracts")
    started = contracts.filter(contracts.start_date <= day(as_of))
    previous = started.select(prev_id=started.id, prev_amount=money(started.recurring_amount))
    rows = started.left_join(previous, started.renewed_from_id == previous.prev_id)
    amount = money(rows.recurring_amount)
    active = rows.end_date > day(as_of)
    renewed = rows.prev_id.notnull()
    change = amount - rows.prev_amount
    window_start = day(as_of - dt.timedelta(days=365))
    overlap = days_between(
        ibis.least(rows.end_date, day(as_of)), ibis.greatest(rows.start_date, window_start)
    ).clip(lower=0)

    agg = rows.group_by("account_id").aggregate(
        mrr=sum_if(active, amount),
        active_contracts=count_if(active),
        first_start=rows.start_date.min(),
        renewals=count_if(renewed),
        contract_term_months=rows.term_months.cast("float64").max(where=active),
        next_end=rows.end_date.min(where=active),
        expansions=count_if(renewed & (change > 0)),
        contractions=count_if(renewed & (change < 0)),
        expansion_mrr=sum_if(renewed & (change > 0), change),
        contraction_mrr=sum_if(renewed & (change < 0), -change),
        contract_revenue_365d=(amount * overlap / DAYS_PER_MONTH).sum(),
    )
    return agg.select(
        "account_id",
        "mrr",
        arr=agg.mrr * 12.0,
        active_contracts=agg.active_contracts,
        contract_tenure_months=days_between(day(as_of), agg.first_start) / DAYS_PER_MONTH,
        renewals=agg.renewals,
        contract_term_months=agg.contract_term_months,
        days_to_next_renewal=days_between(agg.next_end, day(as_of)),
        expansions=agg.expansions,
        contractions=agg.contractions,
        expansion_mrr=agg.expansion_mrr,
        contraction_mrr=agg.contraction_mrr,
        contract_revenue_365d=agg.contract_revenue_365d,
    )
