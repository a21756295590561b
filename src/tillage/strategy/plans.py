"""A month's account plans for a scoring run: candidates → each rep's hours → planned actions.

:func:`account_plans` builds the candidate actions of every owned account from the playbooks
(:func:`tillage.strategy.allocation.candidate_actions`), allocates each rep's available hours for
the month (``capacity_hours`` × ``capacity.utilisation``, :func:`~tillage.strategy.allocation.
allocate`) and returns the chosen actions as rows of ``snapshot_actions``: ``hours`` (hours),
``expected_uplift`` (currency), ``must_do`` and, for expansion proposals, the suggested
``products``; ``policy`` (not stored per action) marks a must-do whose uplift does not pay for
the hours, kept as a policy exception. The record keeps the plan's expected uplift, the naive
plan's ("largest revenue first") on the same hours, the LP bound and the optimality gap, in
total and per rep, and the policy exceptions with their reason.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from tillage.errors import ConfigurationError
from tillage.strategy.allocation import allocate, available_hours, candidate_actions
from tillage.strategy.config import Strategy
from tillage.strategy.effects import ActionEffect, effects_in_use

ACTION_COLUMNS = [
    "account_id",
    "rep_id",
    "month",
    "action",
    "hours",
    "expected_uplift",
    "must_do",
    "products",
]


def plan_month(as_of: dt.date, month: str | None = None) -> dt.date:
    """The first day of the planned month: ``month`` (YYYY-MM) or the month of the day after
    ``as_of`` (a month-end as-of date plans the next month)."""
    if month is None:
        return (as_of + dt.timedelta(days=1)).replace(day=1)
    try:
        return dt.datetime.strptime(month, "%Y-%m").date()
    except ValueError:
        raise ConfigurationError(f"month {month!r} is not a month like 2026-10") from None


def account_plans(
    accounts: pd.DataFrame,
    reps: pd.DataFrame,
    strategy: Strategy,
    *,
    month: dt.date,
    products: pd.Series | None = None,
    effects: dict[str, ActionEffect] | None = None,
) -> tuple[pd.DataFrame, dict]:
    """The planned actions (:data:`ACTION_COLUMNS`) and the allocation's record.

    ``accounts`` holds the inputs of :func:`~tillage.strategy.allocation.candidate_actions`
    (``rep_id`` the owner; accounts without one are not planned); ``reps`` has ``rep_id``,
    ``capacity_hours`` (hours per month) and ``hourly_cost`` (currency per hour); ``products``
    maps account id → suggested products; ``effects`` the learned effects
    (:func:`tillage.strategy.effects.learned_effects`): an action whose effect is learned uses
    it, the others the strategy file's, and the record's ``effects`` says which per action.
    """
    owned = accounts[accounts["rep_id"].notna()].copy()
    owned["rep_id"] = owned["rep_id"].astype("int64")
    costs = reps.set_index("rep_id")["hourly_cost"]
    owned["hourly_cost"] = owned["rep_id"].map(costs).astype(float)
    used = effects_in_use(effects, strategy)
    candidates = candidate_actions(owned, strategy, effects=used)
    empty = pd.DataFrame(columns=ACTION_COLUMNS)
    sources = effect_sources(effects, strategy)
    if candidates.empty:
        return empty, {
            "month": month.isoformat(),
            "actions": 0,
            "uplift": 0.0,
            "effects": sources,
        }
    capacity = available_hours(reps, strategy)
    result = allocate(candidates, capacity.loc[sorted(set(candidates["rep_id"]))], strategy)
    chosen = result.plan[result.plan["chosen"]]
    expansion = {p.action for p in strategy.playbooks if p.basis == "expansion"}
    suggested = products if products is not None else pd.Series(dtype=object)
    actions = pd.DataFrame(
        {
            "account_id": chosen["account_id"].astype("int64").to_numpy(),
            "rep_id": chosen["rep_id"].astype("int64").to_numpy(),
            "month": month,
            "action": chosen["action"].to_numpy(),
            "hours": chosen["hours"].astype(float).to_numpy(),
            "expected_uplift": chosen["uplift"].astype(float).to_numpy(),
            "must_do": chosen["must_do"].astype(bool).to_numpy(),
            "policy": chosen["policy"].astype(bool).to_numpy()
            if "policy" in chosen.columns
            else False,
        }
    )
    actions["products"] = [
        suggested.get(a) if action in expansion else None
        for a, action in zip(actions["account_id"], actions["action"], strict=True)
    ]
    reps_out = result.reps.copy()
    record = {
        "month": month.isoformat(),
        "actions": len(actions),
        "candidates": len(candidates),
        "uplift": result.uplift,
        "naive_uplift": result.naive_uplift,
        "lp_bound": result.lp_bound,
        "gap": result.gap,
        "decomposed": result.decomposed,
        "utilisation": strategy.capacity.utilisation,
        "notes": result.notes,
        "policy_exceptions": _policy_exceptions(actions, strategy),
        "effects": sources,
        "reps": {
            str(int(rep)): {k: float(v) for k, v in row.items()} for rep, row in reps_out.iterrows()
        },
    }
    return actions.sort_values(["rep_id", "account_id"], kind="stable").reset_index(
        drop=True
    ), record


def effect_sources(effects: dict[str, ActionEffect] | None, strategy: Strategy) -> dict:
    """Per action the effect the plan uses and whether it is ``learned`` or ``assumed``, with
    the estimate, its interval and the note (JSON for the snapshot's record)."""
    used = effects_in_use(effects, strategy)
    out = {}
    for play in strategy.playbooks:
        found = (effects or {}).get(play.action)
        learned = found is not None and found.source == "learned" and strategy.effects.learn
        out[play.action] = {
            "effect": used[play.action],
            "assumed": play.effect,
            "source": "learned" if learned else "assumed",
            "estimate": None if found is None else found.estimate,
            "low": None if found is None else found.low,
            "high": None if found is None else found.high,
            "treated": 0 if found is None else found.treated,
            "decisions": 0 if found is None else found.decisions,
            "se": None if found is None else found.se,
            "note": "no history read" if found is None else found.note,
        }
    return out


def _policy_exceptions(actions: pd.DataFrame, strategy: Strategy) -> list[dict]:
    """The must-dos kept although their uplift does not pay for the hours, with the reason."""
    floor = strategy.capacity.policy_min_revenue
    rows = actions[actions["policy"]]
    return [
        {
            "account_id": int(r.account_id),
            "action": str(r.action),
            "hours": float(r.hours),
            "expected_uplift": float(r.expected_uplift),
            "reason": f"capacity.policy_min_revenue: revenue at least {floor:,.0f}",
        }
        for r in rows.itertuples()
    ]


def naive_gain(record: dict) -> float:
    """The plan's expected uplift over the naive plan's, as a ratio − 1 (NaN without one)."""
    naive = float(record.get("naive_uplift", 0.0) or 0.0)
    return float(record.get("uplift", 0.0)) / naive - 1 if naive > 0 else np.nan
