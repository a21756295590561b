"""Opportunities: new business, upsell, cross-sell and renewal deals with a known win model.

The true win probability of an upsell, cross-sell or new-business deal is::

    expit(b0 + b_health * health + b_engagement * log1p(activities in the 3 months up to creation)
          + b_amount * log(amount / (12 * account_scale)) + b_competitor * competitor
          + b_type[type])

with ``account_scale = 150,000 * exp(0.75 * size_z)`` (the median monthly subscription of a company
that size) and ``health`` the latent health in the creation month. A renewal deal's true win
probability is 1 - the churn probability drawn at its renewal decision. New-business deals are
the attempts before an account's acquisition: attempts are repeated with the same probability
until one is won (a geometric sequence, capped at 4 attempts, the last won).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from tillage.demo.catalog import Catalog
from tillage.demo.contracts import ContractResult
from tillage.demo.entities import Cast
from tillage.demo.signals import Signals
from tillage.demo.timeline import Timeline

WIN = {
    "intercept": 0.2,
    "health": 0.9,
    "engagement": 0.5,
    "amount": -0.6,
    "competitor": -0.9,
    "type_cross_sell": -0.4,
    "type_new": -0.6,
}
OPEN_STAGES = ("Prospecting", "Qualification", "Proposal", "Negotiation")
STAGE_PROBABILITY = {
    "Prospecting": 0.1,
    "Qualification": 0.2,
    "Proposal": 0.4,
    "Negotiation": 0.6,
    "Closed Won": 1.0,
    "Closed Lost": 0.0,
}
COMPETITORS = ("Salesforce", "HubSpot", "Oracle", "SAP", "Sansan", "Cybozu")
OPPORTUNITY_RATE = 0.035  # upsell/cross-sell deals per customer month at average size and health


@dataclass
class DealResult:
    deals: pd.DataFrame  # internal indices; one row per deal with its final outcome
    params: dict


def _expit(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def simulate_deals(
    cast: Cast,
    timeline: Timeline,
    signals: Signals,
    contracts: ContractResult,
    catalog: Catalog,
    rng: np.random.Generator,
) -> DealResult:
    n, t_max = signals.health.shape
    scale = 150_000 * np.exp(0.75 * cast.size_z)
    act_counts = np.zeros((n, t_max))
    np.add.at(
        act_counts,
        (signals.activities["account"], timeline.month_of(signals.activities["day"])),
        1,
    )
    act_3m = act_counts.copy()
    act_3m[:, 1:] += act_counts[:, :-1]
    act_3m[:, 2:] += act_counts[:, :-2]

    # --- upsell / cross-sell, while a customer and before any contract churn
    month = np.arange(t_max)
    churn_month = np.where(contracts.churn_day >= 0, timeline.month_of(contracts.churn_day), t_max)
    live = (month[None, :] >= cast.start_month[:, None]) & (month[None, :] < churn_month[:, None])
    rate = (
        OPPORTUNITY_RATE
        * np.exp(0.3 * cast.size_z[:, None] + 0.4 * signals.health)
        * np.where(cast.neglected, 0.3, 1.0)[:, None]
        * live
    )
    counts = rng.poisson(rate)
    ea, em = np.divmod(np.repeat(np.arange(counts.size), counts.ravel()), t_max)
    k = len(ea)
    upsell = cast.is_contractual[ea] & (rng.random(k) < 0.6)
    kind = np.where(upsell, "upsell", "cross_sell")
    product = np.where(
        upsell,
        np.clip(np.round(cast.size_z[ea]), 0, 2).astype(np.int64),
        rng.integers(4, len(catalog.family), k),
    )
    amount = np.round(12 * scale[ea] * rng.lognormal(np.log(0.25), 0.6, k), -3)
    created = timeline.random_business_day(rng, em)
    competitor = rng.random(k) < 0.35
    health = signals.health[ea, em]
    engagement = np.log1p(act_3m[ea, em])
    amount_rel = np.log(amount / (12 * scale[ea]))
    eta = (
        WIN["intercept"]
        + WIN["health"] * health
        + WIN["engagement"] * engagement
        + WIN["amount"] * amount_rel
        + WIN["competitor"] * competitor
        + WIN["type_cross_sell"] * (kind == "cross_sell")
    )
    p_win = _expit(eta)
    won = rng.random(k) < p_win
    cycle = np.clip(np.round(rng.lognormal(np.log(60), 0.5, k)), 14, 270).astype(np.int64)
    expand = pd.DataFrame(
        {
            "account": ea,
            "type": kind,
            "product": product,
            "amount": amount,
            "created": created,
            "close": created + cycle,
            "competitor": competitor,
            "health": health,
            "engagement": engagement,
            "amount_rel": amount_rel,
            "true_win_probability": p_win,
            "won": won,
        }
    )

    # --- new business: attempts before acquisition, the last one won
    acq = np.flatnonzero(cast.acquired_in_window)
    am = np.maximum(cast.start_month[acq], 0)
    amount_n = np.round(12 * scale[acq] * rng.lognormal(np.log(0.5), 0.5, len(acq)), -3)
    comp_n = rng.random(len(acq)) < 0.35
    eta_n = (
        WIN["intercept"]
        + WIN["health"] * signals.health[acq, am]
        + WIN["amount"] * np.log(amount_n / (12 * scale[acq]))
        + WIN["competitor"] * comp_n
        + WIN["type_new"]
    )
    p_new = _expit(eta_n)
    attempts = np.minimum(rng.geometric(p_new), 4)
    na = np.repeat(np.arange(len(acq)), attempts)
    j = np.arange(len(na)) - np.repeat(np.cumsum(attempts) - attempts, attempts)
    last = j == attempts[na] - 1
    close_n = cast.acquired_day[acq][na] - (attempts[na] - 1 - j) * rng.integers(90, 200, len(na))
    cycle_n = np.clip(np.round(rng.lognormal(np.log(75), 0.4, len(na))), 21, 240).astype(np.int64)
    new = pd.DataFrame(
        {
            "account": acq[na],
            "type": "new",
            "product": np.clip(np.round(cast.size_z[acq[na]]), 0, 2).astype(np.int64),
            "amount": amount_n[na],
            "created": close_n - cycle_n,
            "close": close_n,
            "competitor": comp_n[na],
            "health": signals.health[acq, am][na],
            "engagement": 0.0,
            "amount_rel": np.log(amount_n / (12 * scale[acq]))[na],
            "true_win_probability": p_new[na],
            "won": last,
        }
    )

    # --- renewals of non-monthly contracts: won unless the account churned
    r = contracts.renewals
    r = r[r["term_months"] > 1]
    rows = contracts.rows.set_index("row")
    ending = rows.loc[r["row"].to_numpy()]
    lead = rng.integers(60, 121, len(r))
    renewal = pd.DataFrame(
        {
            "account": r["account"].to_numpy(),
            "type": "renewal",
            "product": ending["product"].to_numpy(),
            "amount": (ending["amount"] * ending["term"]).to_numpy(),
            "created": r["decision_day"].to_numpy() - lead,
            "close": r["decision_day"].to_numpy(),
            "competitor": False,
            "health": r["health"].to_numpy(),
            "engagement": np.nan,
            "amount_rel": np.nan,
            "true_win_probability": 1.0 - r["churn_probability"].to_numpy(),
            "won": ~r["churned"].to_numpy(),
            "contract_row": r["row"].to_numpy(),
        }
    )
    deals = pd.concat([expand, new, renewal], ignore_index=True)
    deals = deals[deals["created"] <= timeline.horizon_end].reset_index(drop=True)
    names = np.array(COMPETITORS)[rng.integers(0, len(COMPETITORS), len(deals))]
    deals["competitor_name"] = np.where(deals["competitor"].to_numpy(bool), names, None)
    params = {
        "win_model": "expit(intercept + health*h + engagement*log1p(acts_3m) + amount*log(amount"
        " / (12*account_scale)) + competitor*1[competitor] + type_cross_sell*1[cross_sell] + "
        "type_new*1[new]); renewal deals: 1 - churn probability",
        "coefficients": dict(WIN),
        "account_scale": "150000 * exp(0.75 * size_z), size_z = (log(employees) - log(120)) / 1.3",
        "engagement": "log1p(number of activities in the creation month and the 2 months before)",
        "stage_probability": dict(STAGE_PROBABILITY),
        "opportunity_rate": OPPORTUNITY_RATE,
        "new_business_attempts": "geometric with the deal's win probability, capped at 4",
    }
    return DealResult(deals, params)
