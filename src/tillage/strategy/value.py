"""Account value as of a date: the store's features turned into :class:`AccountLTV` inputs.

:func:`value_inputs` reads, on a feature backend opened with
``feature_backend(url, engine, tables=VALUE_COLUMNS)``, everything the LTV needs as of
``as_of`` (nothing dated later): the RFM summary in weeks, the MRR and the next renewal of the
active contract with its churn covariates, the past renewal decisions (with the renewed amount,
for the uplift at renewal), the revenue mix by product family, the rep hours spent per month and
their cost, and the acquisition cost. :func:`account_values` fits
:class:`~tillage.models.account_ltv.AccountLTV` on them and predicts every account;
:func:`ltv_model` builds the model from the strategy file's settings.

Fixed-term contracts: ``p_fixed_term`` of the active contract is the share of ended terms of the
same kind (first term, or a renewal) that expired without a renewal decision
(:func:`~tillage.features.renewals.fixed_term_shares`).
Margins: the revenue mix is the recurring amount of the active contracts and the order revenue of
the last 365 days, by product family; ``AccountLTV(margin_by_family=…)`` weights the family
margins by it. ``order_margin_rate`` is the account's own ``margin_365d / revenue_365d`` when
its order lines carry margins (it wins over the family margins); otherwise NaN.
Accounts first seen after ``as_of`` (:func:`existing_accounts`) are left out. Lost customers
(a contract that ended without renewal, no orders) are valued by the chance of a return
(:func:`return_counts`).
Cost to serve: ``service_hours_per_month`` is the activity minutes of the last 180 days / 60
per month of 30.4375 days; ``hourly_cost`` is the owner rep's.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import ibis
import numpy as np
import pandas as pd
from ibis.backends import BaseBackend

from tillage.features._common import DAYS_PER_MONTH, as_date, day, end_of, money
from tillage.features.build import FeatureTables, features_expr
from tillage.features.engine import execute_arrow
from tillage.features.renewals import (
    COVARIATES,
    current_renewal_covariates,
    fixed_term_shares,
    renewal_decisions,
)
from tillage.models.account_ltv import AccountLTV
from tillage.strategy.config import Strategy

__all__ = [
    "ValueInputs",
    "account_values",
    "existing_accounts",
    "ltv_model",
    "return_counts",
    "value_inputs",
    "value_prospects",
]

SERVICE_DAYS = 180
MIX_DAYS = 365


@dataclass
class ValueInputs:
    """What :class:`AccountLTV` is fitted on: one row per account, the past decisions and the
    revenue mix by product family (``account_id``, ``stream``, ``family``, ``amount``);
    ``returns`` = (lost customers who came back within a year, lost customers) of
    :func:`return_counts`."""

    accounts: pd.DataFrame
    decisions: pd.DataFrame
    mix: pd.DataFrame
    returns: tuple[int, int] = (0, 0)


def value_inputs(
    con: BaseBackend, as_of: dt.date | str, *, features: FeatureTables | None = None
) -> ValueInputs:
    """The LTV inputs as of ``as_of`` (see the module docstring); ``features``: the feature
    tables already computed, by date."""
    as_of = as_date(as_of)
    features = features_expr(con, as_of, period="week", tables=features)
    expr = features.select(
        "account_id",
        "tenure_months",
        "mrr",
        "days_to_next_renewal",
        "contract_term_months",
        "revenue_365d",
        "margin_365d",
        "orders_365d",
        "contract_revenue_365d",
        "contract_tenure_months",
        frequency=features.rfm_frequency,
        recency=features.rfm_recency,
        T=features.rfm_t,
        monetary_value=features.rfm_monetary_value,
    )
    frame = execute_arrow(con, expr).to_pandas()
    frame["account_id"] = frame["account_id"].astype("int64")
    frame = frame[frame["account_id"].isin(existing_accounts(con, as_of))]

    current = current_renewal_covariates(con, as_of)
    frame = frame.merge(
        current[["account_id", "first_term", *COVARIATES]],
        on="account_id",
        how="left",
        validate="1:1",
    )
    frame["months_to_renewal"] = frame["days_to_next_renewal"] / DAYS_PER_MONTH
    frame["term_months"] = frame["contract_term_months"]
    decisions = renewal_decisions(con, as_of)
    frame = _renewed_today(frame, decisions, as_of)
    shares = fixed_term_shares(con, as_of)
    frame["p_fixed_term"] = np.where(
        frame["first_term"].fillna(1.0) > 0, shares["first"], shares["renewal"]
    )

    # observed order margins (NaN where the lines carry none: the family margins apply)
    revenue = frame["revenue_365d"].to_numpy(dtype=float)
    margin = frame["margin_365d"].to_numpy(dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        own = np.where((revenue > 0) & (margin != 0), margin / revenue, np.nan)
    frame["order_margin_rate"] = own

    # cost to serve and acquisition cost
    acts = con.table("activities")
    start = as_of - dt.timedelta(days=SERVICE_DAYS)
    recent = acts.filter((acts.occurred_at >= end_of(start)) & (acts.occurred_at < end_of(as_of)))
    hours = recent.group_by("account_id").aggregate(
        minutes=recent.duration_minutes.cast("float64").fill_null(0.0).sum()
    )
    accounts = con.table("accounts")
    reps = con.table("reps").select(rep_id="id", hourly_cost="hourly_cost")
    owners = accounts.left_join(reps, accounts.owner_id == reps.rep_id).select(
        account_id="id",
        hourly_cost=money(ibis._.hourly_cost),
        acquisition_cost=money(ibis._.acquisition_cost),
    )
    cost = owners.left_join(hours, "account_id").drop("account_id_right")
    cost = execute_arrow(con, cost).to_pandas()
    cost["account_id"] = cost["account_id"].astype("int64")
    cost["service_hours_per_month"] = (
        cost["minutes"].fillna(0.0).astype(float) / 60.0 / (SERVICE_DAYS / DAYS_PER_MONTH)
    )
    frame = frame.merge(
        cost[["account_id", "hourly_cost", "acquisition_cost", "service_hours_per_month"]],
        on="account_id",
        how="left",
    )
    for name in ("hourly_cost", "acquisition_cost"):
        frame[name] = pd.to_numeric(frame[name], errors="coerce").astype(float)
    return ValueInputs(
        frame.sort_values("account_id").reset_index(drop=True),
        decisions,
        revenue_mix(con, as_of),
        return_counts(con, as_of),
    )


def existing_accounts(con: BaseBackend, as_of: dt.date) -> pd.Index:
    """The accounts that existed on ``as_of``: a ``customer_since``, order, contract start,
    opportunity or activity dated on or before it, or no date at all (a bare account record).
    An account first seen after ``as_of`` is not valued as of then."""
    accounts = con.table("accounts")
    firsts = [
        accounts.select(account_id=accounts.id, d=accounts.customer_since.cast("date")),
    ]
    for name, column in (
        ("orders", "order_date"),
        ("contracts", "start_date"),
        ("opportunities", "created_date"),
        ("activities", "occurred_at"),
    ):
        table = con.table(name)
        firsts.append(table.group_by("account_id").aggregate(d=table[column].cast("date").min()))
    union = firsts[0].union(*firsts[1:])
    first = union.group_by("account_id").aggregate(d=union.d.min())
    frame = execute_arrow(con, first).to_pandas()
    seen = pd.to_datetime(frame["d"])
    keep = seen.isna() | (seen <= pd.Timestamp(as_of))
    return pd.Index(frame.loc[keep, "account_id"].astype("int64"))


#: Days after a lost customer's last contract ends in which a new contract or order counts as
#: a return (:func:`return_counts`).
RETURN_DAYS = 365


def return_counts(con: BaseBackend, as_of: dt.date) -> tuple[int, int]:
    """``(returned, lost)``: of the accounts whose contracts had all ended by
    :data:`RETURN_DAYS` before ``as_of`` without a successor and who had never ordered by then
    (lost customers, whether they churned at a renewal or a fixed term ran out), how many
    started a contract or placed an order within :data:`RETURN_DAYS` days after their last
    end — the empirical chance that a lost customer comes back within a year."""
    cutoff = pd.Timestamp(as_of) - pd.Timedelta(days=RETURN_DAYS)
    contracts = con.table("contracts")
    started = contracts.filter(contracts.start_date <= day(as_of)).select(
        "account_id", "start_date", "end_date"
    )
    terms = execute_arrow(con, started).to_pandas()
    if not len(terms):
        return (0, 0)
    for name in ("start_date", "end_date"):
        terms[name] = pd.to_datetime(terms[name])
    terms["account_id"] = terms["account_id"].astype("int64")
    # per account, the end of its last term that had ended by the cutoff, and whether any term
    # ran on through it (a renewal or an overlapping contract)
    ended = terms[terms["end_date"] <= cutoff].groupby("account_id")["end_date"].max()
    pairs = terms.merge(ended.rename("lost_on"), left_on="account_id", right_index=True)
    running = (pairs["start_date"] <= pairs["lost_on"]) & (pairs["end_date"] > pairs["lost_on"])
    lost = ended.drop(pairs.loc[running, "account_id"].unique())
    if not len(lost):
        return (0, 0)
    later = (pairs["start_date"] > pairs["lost_on"]) & (
        pairs["start_date"] <= pairs["lost_on"] + pd.Timedelta(days=RETURN_DAYS)
    )
    back = set(pairs.loc[later & pairs["account_id"].isin(lost.index), "account_id"])
    orders = con.table("orders")
    ids = [int(v) for v in lost.index]
    bought = orders.filter(orders.account_id.isin(ids) & (orders.order_date <= day(as_of)))
    bought = bought.select(account_id=bought.account_id, d=bought.order_date.cast("date"))
    seen = execute_arrow(con, bought.distinct()).to_pandas()
    if len(seen):
        seen["account_id"] = seen["account_id"].astype("int64")
        seen["lost_on"] = seen["account_id"].map(lost)
        d = pd.to_datetime(seen["d"])
        # buyers before the loss stayed customers: they are the purchase model's, not lost
        buyers = set(seen.loc[d <= seen["lost_on"], "account_id"])
        inside = (d > seen["lost_on"]) & (d <= seen["lost_on"] + pd.Timedelta(days=RETURN_DAYS))
        back = (back | set(seen.loc[inside, "account_id"])) - buyers
        lost = lost.drop(list(buyers))
    return (len(back), len(lost))


def _renewed_today(frame: pd.DataFrame, decisions: pd.DataFrame, as_of: dt.date) -> pd.DataFrame:
    """Terms that ended on ``as_of`` and were renewed continue: their successor starts the next
    day (and may not be in the store yet), so the account holds a contract whose next end is a
    full term away. Its MRR is the ended term's (the uplift of the new term is not known until
    it starts), its covariates those of the decision, dated ``as_of`` too."""
    today = decisions[
        (decisions["decision_date"] == pd.Timestamp(as_of)) & (decisions["churned"] == 0)
    ]
    if not len(today):
        return frame
    amount = today.groupby("account_id")["recurring_amount"].sum()
    first = today.sort_values("term_months", ascending=False).drop_duplicates("account_id")
    first = first.set_index("account_id")
    frame = frame.copy()
    ids = frame["account_id"]
    renewed = ids.isin(amount.index).to_numpy()
    alone = renewed & ~(frame["mrr"].fillna(0.0) > 0).to_numpy()
    frame.loc[renewed, "mrr"] = frame.loc[renewed, "mrr"].fillna(0.0) + ids[renewed].map(amount)
    term = ids[alone].map(first["term_months"]).astype(float)
    frame.loc[alone, "term_months"] = term
    frame.loc[alone, "months_to_renewal"] = term
    frame.loc[alone, "first_term"] = 0.0
    for name in COVARIATES:
        frame.loc[alone, name] = ids[alone].map(first[name]).astype(float)
    return frame


def revenue_mix(con: BaseBackend, as_of: dt.date | str) -> pd.DataFrame:
    """Revenue by account, stream and product family as of ``as_of``: ``stream = "contract"``
    the recurring amount of the contracts active then (currency / month), ``"order"`` the
    order lines of the last 365 days (currency). Products without a family count as
    ``"default"``."""
    as_of = as_date(as_of)
    products = con.table("products").select(pid="id", family="family")
    contracts = con.table("contracts")
    active = contracts.filter(  # with the terms ending on as_of, which may renew
        (contracts.start_date <= day(as_of)) & (contracts.end_date >= day(as_of))
    )
    orders = con.table("orders")
    recent = orders.filter(
        (orders.order_date > day(as_of - dt.timedelta(days=MIX_DAYS)))
        & (orders.order_date <= day(as_of))
    )
    parts = []
    for stream, table, amount in (
        ("contract", active, active.recurring_amount),
        ("order", recent, recent.amount),
    ):
        rows = table.mutate(line_amount=money(amount)).left_join(
            products, table.product_id == products.pid
        )
        parts.append(
            rows.group_by(
                account_id=rows.account_id, family=rows.family.fill_null("default")
            ).aggregate(amount=rows.line_amount.sum(), stream=ibis.literal(stream))
        )
    frame = execute_arrow(con, parts[0].union(parts[1])).to_pandas()
    frame["account_id"] = frame["account_id"].astype("int64")
    return frame[["account_id", "stream", "family", "amount"]]


def ltv_model(strategy: Strategy | None = None, *, n_draws: int = 200) -> AccountLTV:
    """:class:`AccountLTV` with the strategy file's horizon, discount rate, margins by product
    family and hourly cost (the fallback for reps without one)."""
    strategy = strategy or Strategy()
    return AccountLTV(
        horizon_months=strategy.horizon_months,
        discount_rate=strategy.discount_rate,
        margin_by_family=dict(strategy.margin_by_family),
        hourly_cost=strategy.cost_per_rep_hour,
        n_draws=n_draws,
    )


def account_values(
    con: BaseBackend,
    as_of: dt.date | str,
    *,
    model: AccountLTV | None = None,
    features: FeatureTables | None = None,
) -> tuple[pd.DataFrame, AccountLTV, ValueInputs]:
    """Fit ``model`` (default :func:`ltv_model` of the default strategy) as of ``as_of`` and
    predict every account: ``(predictions indexed by account_id, fitted model, inputs)``.

    The predictions are :meth:`AccountLTV.predict`'s columns, except that ``expected_revenue``
    is the expected revenue of the **12 months** after ``as_of`` (the snapshot's forecast, in
    the store currency) and the horizon's total is ``expected_revenue_horizon``.
    """
    inputs = value_inputs(con, as_of, features=features)
    model = model if model is not None else ltv_model()
    model.fit(inputs.accounts, inputs.decisions, mix=inputs.mix, returns=inputs.returns)
    values = model.predict(inputs.accounts).rename(
        columns={"expected_revenue": "expected_revenue_horizon"}
    )
    values["expected_revenue"] = values.pop("expected_revenue_12m")
    return values, model, inputs


def value_prospects(values: pd.DataFrame, revenue_source: dict[str, object]) -> pd.DataFrame:
    """Where won deals are the revenue (``revenue_source["source"] == "won_deals"``, the record
    of :func:`~tillage.features.won_deals.won_deals_as_orders`), an account without any history
    (``ltv_source == "cohort"``: no won deal by the as-of date) is a prospect, not a new
    customer: its LTV is 0 (currency), the interval runs from 0 to the cohort value it would
    have as a customer, and ``ltv_source`` is ``"prospect"``. Other values are unchanged."""
    if revenue_source.get("source") != "won_deals" or "ltv_source" not in values:
        return values
    values = values.copy()
    prospect = values["ltv_source"] == "cohort"
    values.loc[prospect, "ltv_high"] = values.loc[prospect, "ltv"]
    values.loc[prospect, ["ltv", "ltv_low"]] = 0.0
    values.loc[prospect, "ltv_source"] = "prospect"
    return values
