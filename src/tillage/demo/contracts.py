"""Subscription contracts with heterogeneous renewal churn (shifted-beta-geometric + covariates).

Each contract holder ``i`` has a latent churn propensity ``theta[i] ~ Beta(gamma, delta)``. At
every renewal decision (the end date ``d`` of a renewable term) the account churns with

    P(churn) = expit(logit(theta[i]) + sum_k beta[k] * x[k](i, d))

where the covariates ``x`` are computed from the generated usage, tickets, NPS and activities as
observable on ``d`` (definitions in ``COVARIATES``). Without covariates this is the sBG model of
Fader & Hardie (2007), "How to project customer retention", J. Interactive Marketing 21(1).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from tillage.demo import playbooks
from tillage.demo.catalog import Catalog
from tillage.demo.entities import Cast
from tillage.demo.signals import Signals
from tillage.demo.timeline import Timeline, add_months

CHURN_GAMMA = 0.9
CHURN_DELTA = 9.0
BETA = {
    "usage_decline": 0.9,
    "unresolved_tickets": 0.5,
    "detractor": 1.0,
    "silence": 0.8,
    "single_threaded": 0.6,
    "monthly_term": -2.3,
}
UNRESOLVED_CAP = 3
COVARIATES = {
    "usage_decline": "1 if mean(active_users) over the usage rows dated in the renewal month and "
    "the 2 months before is < 0.85 x the mean over the 3 months before those (usage_trend < "
    "-0.15), else 0; 0 when either window has no usage row",
    "unresolved_tickets": "min(3, number of tickets with opened_at date <= d - 30 days and "
    "closed_at null or closed_at date > d)",
    "detractor": "1 if the latest NPS response on or before d (latest date; ties broken by the "
    "highest contact id) has score <= 6, else 0 (0 without any response)",
    "silence": "1 if no activity of type meeting/visit/qbr in the 90 days up to d (d minus the "
    "latest such date > 90, or none ever), else 0",
    "single_threaded": "1 if the activities dated in the renewal month and the 5 months before "
    "(about 180 days) involve at most one distinct contact and at most one distinct rep "
    "(including none at all), else 0",
    "monthly_term": "1 if the ending contract's term_months == 1, else 0",
}
TERMS = (12, 24, 1)
TERM_P = (0.75, 0.10, 0.15)
SHARE_FIXED_TERM = 0.05  # project contracts that simply expire, never a renewal decision


def _logit(p: np.ndarray) -> np.ndarray:
    return np.log(p) - np.log1p(-p)


@dataclass
class ContractResult:
    rows: pd.DataFrame  # one row per contract term (history and future), internal indices
    renewals: pd.DataFrame  # one row per renewal decision with the design matrix
    actions: dict[str, np.ndarray]  # the planted playbook activities (demo.playbooks)
    theta: np.ndarray  # per account, NaN for non-holders
    churn_day: np.ndarray  # per account day number of the churn (contract end), -1 if none
    base_amount: np.ndarray  # per account, the monthly amount of the first visible contract


def simulate_contracts(
    cast: Cast,
    timeline: Timeline,
    signals: Signals,
    catalog: Catalog,
    rng: np.random.Generator,
    action_rng: np.random.Generator | None = None,
) -> ContractResult:
    """The contract terms and renewal decisions; playbook actions before each decision are drawn
    from ``action_rng`` (:mod:`tillage.demo.playbooks`; default a generator seeded from ``rng``)."""
    action_rng = action_rng or np.random.default_rng(int(rng.integers(2**32)))
    n = cast.n
    holders = np.flatnonzero(cast.is_contractual)
    m = len(holders)
    theta = np.full(n, np.nan)
    theta[holders] = np.clip(rng.beta(CHURN_GAMMA, CHURN_DELTA, m), 1e-6, 1 - 1e-6)
    size = cast.size_z[holders]
    tier = np.where(size < -0.5, 0, np.where(size < 0.8, 1, 2))  # Standard / Pro / Enterprise
    legacy = ~cast.acquired_in_window[holders] & (rng.random(m) < 0.15)
    product = np.where(legacy, 3, tier)
    term = np.array(TERMS)[rng.choice(3, size=m, p=TERM_P)]
    amount = 150_000 * np.exp(0.75 * size) * rng.lognormal(0, 0.5, m)
    amount = np.where(term == 1, 0.6 * amount, amount)
    amount = np.clip(np.round(amount, -3), 50_000, 5_000_000)
    base_amount = np.full(n, np.nan)
    base_amount[holders] = amount
    renewable = rng.random(m) >= SHARE_FIXED_TERM

    acquired_month_start = timeline.month_start[np.maximum(cast.start_month[holders], 0)]
    phase = np.floor(rng.random(m) * term).astype(np.int64)
    start = np.where(
        cast.acquired_in_window[holders],
        acquired_month_start,
        add_months(np.full(m, timeline.start), -phase),
    )

    acc = holders.copy()
    prev = np.full(m, -1)
    rows: list[dict[str, np.ndarray]] = []
    decisions: list[dict[str, np.ndarray]] = []
    churn_day = np.full(n, -1, np.int64)
    offset = 0
    panels = signals.panels
    engagement = playbooks.ActivityIndex(signals.activities)
    while len(acc):
        k = len(acc)
        end = add_months(start, term) - 1
        row_index = offset + np.arange(k)
        offset += k
        status = np.full(k, "active", dtype=object)
        decide = renewable & (end <= timeline.horizon_end)
        status[~renewable & (end <= timeline.horizon_end)] = "expired"
        d_idx = np.flatnonzero(decide)
        em = timeline.month_of(end[d_idx])
        a = acc[d_idx]
        x = {
            "usage_decline": panels["usage_decline"][a, em].astype(float),
            "unresolved_tickets": np.minimum(panels["unresolved_tickets"][a, em], UNRESOLVED_CAP),
            "detractor": panels["detractor"][a, em].astype(float),
            "silence": panels["silence"][a, em].astype(float),
            "single_threaded": panels["single_threaded"][a, em].astype(float),
            "monthly_term": (term[d_idx] == 1).astype(float),
        }
        eta = _logit(theta[a]) + sum(BETA[c] * x[c] for c in BETA)
        seen = engagement.before(a, end[d_idx] + 1, playbooks.ENGAGEMENT_DAYS)
        taken = playbooks.take_actions(amount[d_idx], seen, action_rng)
        p_churn = playbooks.churn_factor(taken) / (1.0 + np.exp(-eta))
        churned = rng.random(len(d_idx)) < p_churn
        status[d_idx] = np.where(churned, "churned", "renewed")
        churn_day[a[churned]] = end[d_idx][churned]
        rows.append(
            {
                "row": row_index,
                "account": acc,
                "start": start,
                "end": end,
                "term": term,
                "amount": amount,
                "product": product,
                "prev": prev,
                "status": status,
            }
        )
        decisions.append(
            {
                "row": row_index[d_idx],
                "account": a,
                "decision_day": end[d_idx],
                "term_months": term[d_idx],
                "usage_trend": panels["usage_trend"][a, em],
                "unresolved_tickets_raw": panels["unresolved_tickets"][a, em],
                "latest_nps": panels["latest_nps"][a, em],
                "days_since_meeting": panels["days_since_meeting"][a, em],
                **x,
                "theta": theta[a],
                "linear_predictor": eta,
                "churn_probability": p_churn,
                "churned": churned,
                "health": signals.health[a, em],
                "term_start": start[d_idx],
                **{"taken_" + k: v for k, v in taken.items()},
            }
        )
        # the renewed terms continue the chain, with upsell or contraction by health
        go = d_idx[~churned]
        h = signals.health[acc[go], timeline.month_of(end[go])]
        u = rng.random(len(go))
        scale = np.where(term[go] == 1, 1 / 12, 1.0)
        p_up = scale / (1 + np.exp(1.5 - 0.8 * h)) * playbooks.upsell_factor(taken)[~churned]
        p_down = scale / (1 + np.exp(2.5 + 0.8 * h))
        factor = np.where(
            u < p_up,
            rng.uniform(1.1, 1.5, len(go)),
            np.where(u < p_up + p_down, rng.uniform(0.7, 0.95, len(go)), 1.0),
        )
        new_start = end[go] + 1
        new_product = product[go]
        switch = (catalog.successor[new_product] >= 0) & (
            timeline.month_of(new_start) >= catalog.switch_month
        )
        new_product = np.where(switch, catalog.successor[new_product], new_product)
        acc, start, term = acc[go], new_start, term[go]
        amount = np.clip(np.round(amount[go] * factor, -3), 50_000, 5_000_000)
        product, prev, renewable = new_product, row_index[go], renewable[go]

    frame = pd.DataFrame({key: np.concatenate([r[key] for r in rows]) for key in rows[0]})
    renewals = pd.DataFrame(
        {key: np.concatenate([d[key] for d in decisions]) for key in decisions[0]}
    )
    actions = playbooks.action_activities(decisions, cast.owner, cast.contact_start, action_rng)
    return ContractResult(frame, renewals, actions, theta, churn_day, base_amount)


def params() -> dict:
    return {
        "model": "P(churn at renewal) = expit(logit(theta) + sum(beta[k] * x[k])), "
        "theta ~ Beta(gamma, delta) per account",
        "gamma": CHURN_GAMMA,
        "delta": CHURN_DELTA,
        "beta": dict(BETA),
        "covariates": dict(COVARIATES),
        "terms": {str(t): p for t, p in zip(TERMS, TERM_P, strict=True)},
        "share_fixed_term": SHARE_FIXED_TERM,
        "upsell_probability": "expit(0.8 * health - 1.5) per renewal (1/12 of it for monthly)",
        "contraction_probability": "expit(-0.8 * health - 2.5) per renewal (1/12 for monthly)",
        "playbooks": playbooks.params(),
    }
