"""Account value as of a date: the store's features turned into :class:`AccountLTV` inputs.

:func:`value_inputs` reads, on a feature backend opened with
``feature_backend(url, engine, tables=VALUE_COLUMNS)``, everything the LTV needs as of
``as_of`` (nothing dated later): the RFM summary in weeks, the MRR and the next renewal of the
active contract with its churn covariates, the past renewal decisions, margin rates, the rep
hours spent per month and their cost, and the acquisition cost. :func:`account_values` fits
:class:`~tillage.models.account_ltv.AccountLTV` on them and predicts every account.

Margin rates: ``contract_margin_rate`` is the MRR-weighted rate of the active contracts'
product families (``margin_rates`` maps family → rate; families not in it, and every family
when it is not given, use ``default_margin``); ``order_margin_rate`` is the account's own
``margin_365d / revenue_365d`` when its order lines carry margins, else ``default_margin``.
Cost to serve: ``service_hours_per_month`` is the activity minutes of the last 180 days / 60
per month of 30.4375 days; ``hourly_cost`` is the owner rep's.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

import ibis
import numpy as np
import pandas as pd
from ibis.backends import BaseBackend

from tillage.features._common import DAYS_PER_MONTH, as_date, day, end_of, money
from tillage.features.build import features_expr
from tillage.features.engine import execute_arrow
from tillage.features.renewals import COVARIATES, current_renewal_covariates, renewal_decisions
from tillage.models.account_ltv import AccountLTV

__all__ = ["ValueInputs", "account_values", "value_inputs"]

SERVICE_DAYS = 180
DEFAULT_MARGIN = 0.6


@dataclass
class ValueInputs:
    """What :class:`AccountLTV` is fitted on: one row per account, and the past decisions."""

    accounts: pd.DataFrame
    decisions: pd.DataFrame


def value_inputs(
    con: BaseBackend,
    as_of: dt.date | str,
    *,
    margin_rates: Mapping[str, float] | None = None,
    default_margin: float = DEFAULT_MARGIN,
) -> ValueInputs:
    """The LTV inputs as of ``as_of`` (see the module docstring)."""
    as_of = as_date(as_of)
    features = features_expr(con, as_of, period="week")
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
        frequency=features.rfm_frequency,
        recency=features.rfm_recency,
        T=features.rfm_t,
        monetary_value=features.rfm_monetary_value,
    )
    frame = execute_arrow(con, expr).to_pandas()
    frame["account_id"] = frame["account_id"].astype("int64")

    current = current_renewal_covariates(con, as_of)
    frame = frame.merge(
        current[["account_id", *COVARIATES]], on="account_id", how="left", validate="1:1"
    )
    frame["months_to_renewal"] = frame["days_to_next_renewal"] / DAYS_PER_MONTH
    frame["term_months"] = frame["contract_term_months"]

    # margins
    revenue = frame["revenue_365d"].to_numpy(dtype=float)
    margin = frame["margin_365d"].to_numpy(dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        own = np.where((revenue > 0) & (margin != 0), margin / revenue, np.nan)
    frame["order_margin_rate"] = np.where(np.isfinite(own), own, default_margin)
    frame["contract_margin_rate"] = _contract_margins(con, as_of, margin_rates, default_margin)(
        frame["account_id"]
    )

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
    decisions = renewal_decisions(con, as_of)
    return ValueInputs(frame.sort_values("account_id").reset_index(drop=True), decisions)


def _contract_margins(
    con: BaseBackend,
    as_of: dt.date,
    rates: Mapping[str, float] | None,
    default: float,
):  # type: ignore[no-untyped-def]
    """account_id Series -> MRR-weighted margin rate of its active contracts."""
    if not rates:
        return lambda ids: np.full(len(ids), default)
    contracts = con.table("contracts")
    active = contracts.filter(
        (contracts.start_date <= day(as_of)) & (contracts.end_date > day(as_of))
    )
    products = con.table("products").select(pid="id", family="family")
    rows = active.left_join(products, active.product_id == products.pid).select(
        "account_id", amount=money(ibis._.recurring_amount), family=ibis._.family
    )
    table = execute_arrow(con, rows).to_pandas()
    table["rate"] = table["family"].map(dict(rates)).astype(float).fillna(default)
    table["weighted"] = table["rate"] * table["amount"]
    sums = table.groupby("account_id")[["weighted", "amount"]].sum()
    by_account = (sums["weighted"] / sums["amount"].where(sums["amount"] > 0)).fillna(default)
    return lambda ids: ids.map(by_account).fillna(default).to_numpy(dtype=float)


def account_values(
    con: BaseBackend,
    as_of: dt.date | str,
    *,
    model: AccountLTV | None = None,
    margin_rates: Mapping[str, float] | None = None,
    default_margin: float = DEFAULT_MARGIN,
) -> tuple[pd.DataFrame, AccountLTV, ValueInputs]:
    """Fit ``model`` (default :class:`AccountLTV` with its defaults) as of ``as_of`` and predict
    every account: ``(predictions indexed by account_id, fitted model, inputs)``."""
    inputs = value_inputs(con, as_of, margin_rates=margin_rates, default_margin=default_margin)
    model = model if model is not None else AccountLTV(margin_rate=default_margin)
    model.fit(inputs.accounts, inputs.decisions)
    return model.predict(inputs.accounts), model, inputs
