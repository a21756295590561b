"""Candidate actions of the account plans: which playbook applies to which account, at what
hours and expected uplift.

Each playbook of the strategy file names a situation;
every account in that situation gets the playbook's action as a candidate, owned by the
account's rep, with the playbook's hours and an expected uplift (currency)::

    basis churn      uplift = effect × churn_probability × ltv
    basis expansion  uplift = effect × expected_expansion_value
    basis pipeline   uplift = effect × win_probability × open pipeline with a competitor

A playbook serves only the portfolio cells it names (``cells``; an account without a cell is
served by every playbook). The situations read the next *undecided* renewal
(``days_to_undecided_renewal``: a renewal whose successor is on file is not due) and
``critical_ticket`` an open severity-1 ticket (``severe_tickets``).

Must-dos are renewal preparation for an undecided renewal inside
``capacity.must_do_renewal_days`` and the recovery of a critical ticket — when their uplift pays
for the rep's time (hours × hourly cost). One that does not pay is planned only as a policy
exception (``policy``: the account's revenue is at least ``capacity.policy_min_revenue``), and
otherwise dropped like every other candidate whose uplift does not pay for the hours; so an
account worth less than nothing never gets a must-do.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from tillage.errors import DataValidationError
from tillage.strategy.config import Strategy

CANDIDATE_COLUMNS = ["account_id", "rep_id", "action", "hours", "uplift", "must_do", "revenue"]
#: Situations whose action is a must-do (when it pays, or as a policy exception).
MUST_DO_SITUATIONS = ("renewal_due", "critical_ticket")


def _col(frame: pd.DataFrame, name: str, default: float = np.nan) -> np.ndarray:
    if name in frame.columns:
        return pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype=float)
    return np.full(len(frame), default)


def candidate_actions(
    accounts: pd.DataFrame,
    strategy: Strategy | None = None,
    *,
    effects: dict[str, float] | None = None,
) -> pd.DataFrame:
    """Candidate actions per account from the strategy's playbooks; ``effects`` (action → effect
    size, :func:`tillage.strategy.effects.effects_in_use`) replaces the playbooks' assumed ones.

    ``accounts`` needs ``account_id`` and ``rep_id`` (the owner) and uses ``ltv``,
    ``churn_probability``, ``expected_expansion_value``, ``days_to_undecided_renewal`` (else
    ``days_to_next_renewal``), ``open_with_competitor``, ``open_pipeline_with_competitor``,
    ``win_probability``, ``single_threaded``, ``silent``, ``severe_tickets``, ``segment`` (the
    portfolio cell), ``revenue`` (for the naive plan and the policy; else ``arr``, else ``ltv``)
    and ``hourly_cost`` when present. Returns :data:`CANDIDATE_COLUMNS` plus ``order`` (the
    playbook's position) and ``policy`` (a must-do kept as a policy exception).
    """
    strategy = strategy or Strategy()
    missing = [c for c in ("account_id", "rep_id") if c not in accounts.columns]
    if missing:
        raise DataValidationError(f"candidate actions need the columns {missing}")
    days = _col(
        accounts,
        "days_to_undecided_renewal"
        if "days_to_undecided_renewal" in accounts.columns
        else "days_to_next_renewal",
    )
    churn = np.nan_to_num(_col(accounts, "churn_probability"))
    ltv = np.nan_to_num(_col(accounts, "ltv"))
    growth = np.nan_to_num(_col(accounts, "expected_expansion_value"))
    pipeline = np.nan_to_num(_col(accounts, "open_pipeline_with_competitor"))
    win = np.nan_to_num(_col(accounts, "win_probability"))
    competitors = np.nan_to_num(_col(accounts, "open_with_competitor"))
    revenue = next(
        (_col(accounts, c) for c in ("revenue", "arr", "ltv") if c in accounts.columns),
        np.zeros(len(accounts)),
    )
    cost = np.where(
        np.isnan(_col(accounts, "hourly_cost")),
        strategy.cost_per_rep_hour,
        _col(accounts, "hourly_cost"),
    )
    situations = {
        "renewal_due": days <= strategy.priority.renewal_window_days,
        "churn_risk": churn >= strategy.capacity.churn_threshold,
        "expansion": growth > 0,
        "single_threaded": _col(accounts, "single_threaded", 0.0) > 0,
        "competitor": competitors > 0,
        "silent": _col(accounts, "silent", 0.0) > 0,
        "critical_ticket": _critical(accounts),
        "always": np.ones(len(accounts), dtype=bool),
    }
    due = {
        "renewal_due": days <= strategy.capacity.must_do_renewal_days,
        "critical_ticket": situations["critical_ticket"],
    }
    floor = strategy.capacity.policy_min_revenue
    policy_account = (
        np.nan_to_num(revenue) >= floor if floor is not None else np.zeros(len(accounts), bool)
    )
    segment = (
        accounts["segment"].to_numpy(dtype=object)
        if "segment" in accounts.columns
        else np.full(len(accounts), None, dtype=object)
    )
    basis = {"churn": churn * ltv, "expansion": growth, "pipeline": win * pipeline}
    parts = []
    for order, play in enumerate(strategy.playbooks):
        effect = (effects or {}).get(play.action, play.effect)
        uplift = effect * basis[play.basis]
        pays = uplift > play.hours * cost
        in_cell = np.array([c is None or pd.isna(c) or c in play.cells for c in segment], bool)
        forced = due.get(play.situation, np.zeros(len(accounts), dtype=bool))
        policy = forced & ~pays & policy_account
        must = forced & (pays | policy)
        keep = situations[play.situation] & in_cell & (must | pays)
        if not keep.any():
            continue
        parts.append(
            pd.DataFrame(
                {
                    "account_id": accounts["account_id"].to_numpy()[keep],
                    "rep_id": accounts["rep_id"].to_numpy()[keep],
                    "action": play.action,
                    "hours": play.hours,
                    "uplift": uplift[keep],
                    "must_do": must[keep],
                    "revenue": np.nan_to_num(revenue[keep]),
                    "order": order,
                    "policy": policy[keep],
                }
            )
        )
    if not parts:
        return pd.DataFrame(columns=[*CANDIDATE_COLUMNS, "order", "policy"])
    return pd.concat(parts, ignore_index=True)


def _critical(accounts: pd.DataFrame) -> np.ndarray:
    """An open severity-1 ticket per account (from ``severe_tickets``)."""
    if "severe_tickets" not in accounts.columns:
        return np.zeros(len(accounts), dtype=bool)
    return np.array(
        [
            isinstance(ts, list | tuple) and any(int(t["severity"]) == 1 for t in ts)
            for ts in accounts["severe_tickets"]
        ],
        dtype=bool,
    )
