"""Repeat ordering: a BG/NBD purchase process with Gamma-Gamma order values.

For each ordering account ``i`` (Fader, Hardie & Lee 2005, "Counting your customers the easy
way", Marketing Science 24(2); Fader & Hardie 2013, "The Gamma-Gamma model of monetary value"):

* while alive, repeat orders arrive as a Poisson process with rate ``lambda_[i] ~ Gamma(r, alpha)``
  (per month, ``alpha`` a rate);
* after each repeat order the account drops out with probability ``p[i] ~ Beta(a, b)``;
* each order's value is ``z ~ Gamma(p_spend, nu[i])`` with ``nu[i] ~ Gamma(q, gamma)`` (rates),
  so ``E[z | nu] = p_spend / nu``.

Accounts acquired inside the history window place a first (trial) order on their acquisition day;
accounts acquired earlier start the process alive at the start of the window. Each order has 1-5
lines spread over products by family affinity; margin = amount x the family's margin rate.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from tillage.demo.catalog import FAMILY_AFFINITY, ORDER_FAMILY_BASE, Catalog
from tillage.demo.entities import Cast
from tillage.demo.timeline import Timeline

R = 1.2
A, B = 1.0, 80.0
P_SPEND, Q, GAMMA = 6.0, 4.0, 125_000.0
LINES_EXTRA_P = 0.4  # lines per order = 1 + Binomial(4, 0.4)
PRIMARY_FAMILY_SHARE = 0.6
# calibrated so that orders_per_account=100 gives about 100 lines per account over 36 months
_RATE_PER_LINE = 0.0465


@dataclass
class OrderResult:
    lines: pd.DataFrame  # internal: order, account, day, product, quantity, amount, margin
    lambda_: np.ndarray
    p_dropout: np.ndarray
    nu: np.ndarray
    alive_at_as_of: np.ndarray
    alpha: float
    primary_family: np.ndarray


def simulate_orders(
    cast: Cast, timeline: Timeline, catalog: Catalog, orders_per_account: float, rng
) -> OrderResult:
    n = cast.n
    buyers = np.flatnonzero(cast.is_orderer)
    m = len(buyers)
    mean_rate = max(orders_per_account * _RATE_PER_LINE, 1e-9)
    alpha = R / mean_rate
    lam = np.full(n, np.nan)
    p = np.full(n, np.nan)
    nu = np.full(n, np.nan)
    lam[buyers] = rng.gamma(R, 1 / alpha, m)
    p[buyers] = rng.beta(A, B, m)
    nu[buyers] = rng.gamma(Q, 1 / GAMMA, m)
    k_drop = rng.geometric(p[buyers])  # dropout right after this repeat order

    trial = cast.acquired_in_window[buyers]
    origin = np.where(trial, cast.acquired_day[buyers], timeline.start)  # process start day
    t_max = timeline.n_months
    exposure_start = np.maximum(timeline.month_start[None, :], origin[:, None] + 1)
    exposure = np.clip(timeline.month_end[None, :] - exposure_start + 1, 0, None)
    days_in_month = timeline.month_end - timeline.month_start + 1
    rate = lam[buyers][:, None] * exposure / days_in_month[None, :]
    counts = rng.poisson(rate)
    flat = np.repeat(np.arange(counts.size), counts.ravel())
    b_idx, month = np.divmod(flat, t_max)
    lo = np.maximum(timeline.month_start[month], origin[b_idx] + 1)
    hi = timeline.month_end[month]
    day = lo + np.floor(rng.random(len(flat)) * (hi - lo + 1)).astype(np.int64)
    order = np.lexsort((day, b_idx))
    b_idx, day = b_idx[order], day[order]
    first = np.searchsorted(b_idx, np.arange(m))
    rank = np.arange(len(b_idx)) - first[b_idx]  # 0-based repeat order number
    keep = rank < k_drop[b_idx]
    b_idx, day, rank = b_idx[keep], day[keep], rank[keep]
    repeats_by_as_of = np.bincount(b_idx[day <= timeline.as_of], minlength=m)
    alive = np.zeros(n, bool)
    alive[buyers] = repeats_by_as_of < k_drop

    # trial orders + repeat orders, sorted by (day, account)
    o_buyer = np.concatenate([np.flatnonzero(trial), b_idx])
    o_day = np.concatenate([origin[trial], day])
    o_day_ok = o_day <= timeline.horizon_end
    o_buyer, o_day = o_buyer[o_day_ok], o_day[o_day_ok]
    sort = np.lexsort((o_buyer, o_day))
    o_buyer, o_day = o_buyer[sort], o_day[sort]
    o_acc = buyers[o_buyer]
    n_orders = len(o_acc)
    value = rng.gamma(P_SPEND, 1 / nu[o_acc])

    # lines: first family from the account's preference, the rest by affinity
    primary = np.full(n, -1)
    primary[buyers] = rng.choice(len(ORDER_FAMILY_BASE), size=m, p=ORDER_FAMILY_BASE)
    n_lines = 1 + rng.binomial(4, LINES_EXTRA_P, n_orders)
    line_order = np.repeat(np.arange(n_orders), n_lines)
    n_total = len(line_order)
    line_no = np.arange(n_total) - np.repeat(np.cumsum(n_lines) - n_lines, n_lines)
    base_family = rng.choice(len(ORDER_FAMILY_BASE), size=n_orders, p=ORDER_FAMILY_BASE)
    first_family = np.where(
        rng.random(n_orders) < PRIMARY_FAMILY_SHARE, primary[o_acc], base_family
    )
    cum = np.cumsum(FAMILY_AFFINITY, axis=1)
    u = rng.random(n_total)
    family = first_family[line_order]
    later = line_no > 0
    first_of_later = family[later]
    next_family = np.empty(len(first_of_later), np.int64)
    for f in range(len(cum)):
        mask = first_of_later == f
        next_family[mask] = np.searchsorted(cum[f], u[later][mask], side="right")
    family[later] = np.minimum(next_family, len(cum) - 1)
    after = timeline.month_of(o_day[line_order]) >= catalog.switch_month
    product = np.empty(n_total, np.int64)
    for f in range(FAMILY_AFFINITY.shape[0]):
        for era in (False, True):
            mask = (family == f) & (after == era)
            choices = catalog.products_of(f, era)
            product[mask] = choices[rng.integers(0, len(choices), int(mask.sum()))]
    weight = catalog.list_price[product] * rng.uniform(0.5, 1.5, n_total)
    share = weight / np.bincount(line_order, weights=weight, minlength=n_orders)[line_order]
    target = np.maximum(np.round(value[line_order] * share), 1.0)
    quantity = np.maximum(np.round(target / catalog.list_price[product]), 1.0)
    # a line is quantity x a whole unit price, as in any order system (Salesforce OrderItem:
    # TotalPrice = Quantity x UnitPrice); the target amount is kept to within half a unit
    unit_price = np.maximum(np.round(target / quantity), 1.0)
    amount = quantity * unit_price
    margin = np.round(amount * catalog.margin_rate[catalog.family[product]])
    lines = pd.DataFrame(
        {
            "order": line_order,
            "line_no": line_no + 1,
            "account": o_acc[line_order],
            "day": o_day[line_order],
            "product": product,
            "quantity": quantity,
            "amount": amount,
            "margin": margin,
        }
    )
    return OrderResult(lines, lam, p, nu, alive, alpha, primary)


def params(alpha: float) -> dict:
    return {
        "purchase_model": "BG/NBD: lambda ~ Gamma(r, alpha) repeat orders per month (alpha is a "
        "rate), dropout after each repeat order with p ~ Beta(a, b)",
        "r": R,
        "alpha": alpha,
        "a": A,
        "b": B,
        "time_unit": "month (30.44 days on average; rates are per calendar month)",
        "spend_model": "Gamma-Gamma: order value z ~ Gamma(p, nu), nu ~ Gamma(q, gamma) (rates)",
        "p": P_SPEND,
        "q": Q,
        "gamma": GAMMA,
        "lines_per_order": "1 + Binomial(4, 0.4)",
        "primary_family_share": PRIMARY_FAMILY_SHARE,
        "order_value": "sum of the order's line amounts (lines share z by list price x U(0.5, "
        "1.5), rounded to whole yen)",
    }
