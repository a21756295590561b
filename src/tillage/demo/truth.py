"""Truth frames: per-account latent values and outcomes, and the renewal design matrix."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tillage.demo.catalog import Catalog
from tillage.demo.contracts import BETA, ContractResult
from tillage.demo.entities import Cast
from tillage.demo.ordering import P_SPEND, OrderResult
from tillage.demo.signals import Signals
from tillage.demo.timeline import Timeline, to_dates


def renewals_frame(
    contracts: ContractResult, contract_frame: pd.DataFrame, timeline: Timeline
) -> pd.DataFrame:
    """One row per renewal decision: the covariates used, the actions taken before it
    (``taken_<action>``), the probability drawn (the design's ``expit(linear_predictor)`` times
    the actions' churn factor), the outcome."""
    r = contracts.renewals
    id_of_row = pd.Series(contract_frame["id"].to_numpy(), index=contract_frame["_row"].to_numpy())
    frame = pd.DataFrame(
        {
            "account_id": r["account"].to_numpy() + 1,
            "contract_id": id_of_row.loc[r["row"].to_numpy()].to_numpy(),
            "decision_date": to_dates(r["decision_day"].to_numpy()),
            "term_months": r["term_months"].to_numpy(),
            # decided on a term's last day; the outcome shows the day after (the successor's
            # start), so a decision on ``as_of`` itself is still in the future as of then
            "in_horizon": (r["decision_day"] >= timeline.as_of).to_numpy(),
            "usage_trend": r["usage_trend"].to_numpy(),
            "unresolved_tickets_raw": r["unresolved_tickets_raw"].to_numpy(),
            "latest_nps": r["latest_nps"].to_numpy(),
            "days_since_meeting": r["days_since_meeting"].to_numpy(),
        }
    )
    for name in BETA:
        frame[name] = r[name].to_numpy()
    for name in ("theta", "linear_predictor", "churn_probability", "churned", "health"):
        frame[name] = r[name].to_numpy()
    # the planted playbook actions taken before the decision (tillage.demo.playbooks)
    for name in [c for c in r.columns if c.startswith("taken_")]:
        frame[name] = r[name].to_numpy()
    return frame.sort_values(["decision_date", "account_id"]).reset_index(drop=True)


def truth_accounts(
    cast: Cast,
    contracts: ContractResult,
    orders: OrderResult,
    split: dict,
    truth: dict[str, pd.DataFrame],
    catalog: Catalog,
    signals: Signals,
    timeline: Timeline,
    config,  # type: ignore[no-untyped-def]
) -> pd.DataFrame:
    n = cast.n
    as_of, horizon_end = timeline.as_of, timeline.horizon_end

    # contract revenue in (as_of, horizon_end]: month starts covered by each term
    rows = contracts.rows
    lo = np.maximum(rows["start"].to_numpy(), as_of + 1)
    hi = np.minimum(rows["end"].to_numpy(), horizon_end)
    months = np.clip(
        np.searchsorted(timeline.month_start, hi, side="right")
        - np.searchsorted(timeline.month_start, lo, side="left"),
        0,
        None,
    )
    revenue = months * rows["amount"].to_numpy()
    margin_rate = catalog.margin_rate[catalog.family[rows["product"].to_numpy()]]
    account = rows["account"].to_numpy()
    contract_revenue = np.bincount(account, weights=revenue, minlength=n)
    contract_margin = np.bincount(account, weights=revenue * margin_rate, minlength=n)

    future = truth["future_orders"]
    acc = future["account_id"].to_numpy() - 1
    order_revenue = np.bincount(acc, weights=future["amount"].to_numpy(), minlength=n)
    order_margin = np.bincount(acc, weights=future["margin"].to_numpy(), minlength=n)
    first_line = ~future["order_number"].duplicated().to_numpy()
    future_orders = np.bincount(acc[first_line], minlength=n)

    churn_day = contracts.churn_day
    # churn_day is the last day of the last term: the account is a customer on that day and
    # gone the next, so a churn "in (as_of, horizon_end]" is a last day in [as_of, horizon_end)
    churned = (churn_day >= as_of) & (churn_day < horizon_end)
    churn_date = to_dates(np.where(churned, churn_day, 0))
    churn_date = np.where(churned, churn_date, np.datetime64("NaT"))
    lam, p, nu = orders.lambda_, orders.p_dropout, orders.nu
    horizon = config.horizon_months
    with np.errstate(invalid="ignore", divide="ignore"):
        expected_orders = np.where(orders.alive_at_as_of, (1 - np.exp(-lam * p * horizon)) / p, 0)
        expected_order_revenue = np.where(cast.is_orderer, expected_orders * P_SPEND / nu, 0.0)
    return pd.DataFrame(
        {
            "account_id": np.arange(1, n + 1),
            "key": cast.frames["accounts"]["key"].to_numpy(),
            "is_contractual": cast.is_contractual,
            "is_orderer": cast.is_orderer,
            "acquired_in_window": cast.acquired_in_window,
            "multi_threaded": cast.multi_threaded,
            "neglected": cast.neglected,
            "size_z": cast.size_z,
            "mean_health": signals.health[:, : timeline.n_history].mean(axis=1),
            "health_at_as_of": signals.health[:, timeline.n_history - 1],
            "theta": contracts.theta,
            "lambda_": lam,
            "p_dropout": p,
            "nu": nu,
            "primary_family": np.where(
                orders.primary_family >= 0,
                np.array(catalog.params()["families"])[np.maximum(orders.primary_family, 0)],
                None,
            ),
            "alive_at_as_of": orders.alive_at_as_of,
            "churned_before_as_of": (churn_day >= 0) & (churn_day < as_of),
            "churned_in_horizon": churned,
            "churn_date": churn_date,
            "future_contract_revenue": contract_revenue,
            "future_order_revenue": order_revenue,
            "future_revenue": contract_revenue + order_revenue,
            "future_orders": future_orders,
            "future_margin": contract_margin + order_margin,
            "expected_future_order_revenue": expected_order_revenue,
        }
    )
