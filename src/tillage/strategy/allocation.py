"""Capacity-constrained account plans: each rep's hours go to the actions worth most.

**Candidates** (:func:`candidate_actions`). Each playbook of the strategy file names a situation;
every account in that situation gets the playbook's action as a candidate, owned by the
account's rep, with the playbook's hours and an expected uplift (currency)::

    basis churn      uplift = effect × churn_probability × ltv
    basis expansion  uplift = effect × expected_expansion_value
    basis pipeline   uplift = effect × win_probability × open pipeline with a competitor

Renewal preparation for a renewal inside ``capacity.must_do_renewal_days`` is a must-do.
Optional candidates whose uplift does not pay for the rep's time (hours × hourly cost) are
dropped.

**The plan** (:func:`allocate`) is a 0/1 integer programme solved with SciPy's ``milp`` (HiGHS)::

    maximise   Σⱼ uⱼ xⱼ
    subject to Σ_{j of rep r} hⱼ xⱼ ≤ C_r                  (each rep's available hours)
               Σ_{j of account a} xⱼ ≤ max_actions_per_account
               Σ_{j of account a, action k} xⱼ ≤ 1         (one action of a kind per account)
               xⱼ = 1 for must-dos,  xⱼ ∈ {0, 1}

When every account's candidates belong to one rep (the usual case: the owner acts), the problem
separates into one small programme per rep, solved one after another; otherwise it is solved
whole. Each solution is compared with the naive plan on the same capacity — the rep's accounts by
revenue, largest first, each taking its actions in playbook order while they fit — and with the
LP relaxation's bound, which gives the optimality gap ``(lp_bound − uplift) / lp_bound``.
Must-dos that exceed a rep's hours are kept (as overtime) and reported in ``notes``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_array, csr_array

from tillage.errors import ConvergenceError, DataValidationError
from tillage.strategy.config import Strategy

CANDIDATE_COLUMNS = ["account_id", "rep_id", "action", "hours", "uplift", "must_do", "revenue"]


def _col(frame: pd.DataFrame, name: str, default: float = np.nan) -> np.ndarray:
    if name in frame.columns:
        return pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype=float)
    return np.full(len(frame), default)


def candidate_actions(accounts: pd.DataFrame, strategy: Strategy | None = None) -> pd.DataFrame:
    """Candidate actions per account from the strategy's playbooks.

    ``accounts`` needs ``account_id`` and ``rep_id`` (the owner) and uses ``ltv``,
    ``churn_probability``, ``expected_expansion_value``, ``days_to_next_renewal``,
    ``open_with_competitor``, ``open_pipeline_with_competitor``, ``win_probability``,
    ``single_threaded``, ``silent``, ``revenue`` (for the naive plan; else ``arr``, else
    ``ltv``) and ``hourly_cost`` when present. Returns :data:`CANDIDATE_COLUMNS` plus ``order``
    (the playbook's position).
    """
    strategy = strategy or Strategy()
    missing = [c for c in ("account_id", "rep_id") if c not in accounts.columns]
    if missing:
        raise DataValidationError(f"candidate actions need the columns {missing}")
    days = _col(accounts, "days_to_next_renewal")
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
        "always": np.ones(len(accounts), dtype=bool),
    }
    basis = {"churn": churn * ltv, "expansion": growth, "pipeline": win * pipeline}
    parts = []
    for order, play in enumerate(strategy.playbooks):
        uplift = play.effect * basis[play.basis]
        must = np.zeros(len(accounts), dtype=bool)
        if play.situation == "renewal_due":
            must = days <= strategy.capacity.must_do_renewal_days
        keep = situations[play.situation] & (must | (uplift > play.hours * cost))
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
                }
            )
        )
    if not parts:
        return pd.DataFrame(columns=[*CANDIDATE_COLUMNS, "order"])
    return pd.concat(parts, ignore_index=True)


@dataclass
class AllocationResult:
    """A plan: the candidates with ``chosen`` and ``naive`` flags, and its figures."""

    plan: pd.DataFrame
    uplift: float
    naive_uplift: float
    lp_bound: float
    reps: pd.DataFrame
    decomposed: bool
    notes: list[str] = field(default_factory=list)

    @property
    def gap(self) -> float:
        """Optimality gap against the LP relaxation, (bound − uplift) / bound."""
        return (self.lp_bound - self.uplift) / self.lp_bound if self.lp_bound > 0 else 0.0

    @property
    def gain_over_naive(self) -> float:
        """Uplift of the plan over the naive plan, as a ratio − 1."""
        return self.uplift / self.naive_uplift - 1 if self.naive_uplift > 0 else float("inf")


def _group_rows(codes: np.ndarray, n: int) -> csr_array:
    """Incidence matrix: one row per group, a 1 where candidate j belongs to it."""
    groups = int(codes.max()) + 1 if len(codes) else 0
    return coo_array((np.ones(n), (codes, np.arange(n))), shape=(groups, n)).tocsr()


def _solve(
    sub: pd.DataFrame, capacity: dict, max_actions: int, *, relax: bool
) -> tuple[np.ndarray, float]:
    n = len(sub)
    rep_codes, reps = pd.factorize(sub["rep_id"])
    hours = sub["hours"].to_numpy(dtype=float)
    cap_rows = _group_rows(rep_codes, n).multiply(hours[None, :]).tocsr()
    caps = np.array([capacity[r] for r in reps], dtype=float)
    acc_codes = pd.factorize(sub["account_id"])[0]
    constraints = [LinearConstraint(cap_rows, -np.inf, caps)]
    acc_rows = _group_rows(acc_codes, n)
    counts = np.asarray(acc_rows.sum(axis=1)).ravel()
    if (counts > max_actions).any():
        sel = np.flatnonzero(counts > max_actions)
        constraints.append(LinearConstraint(acc_rows[sel], -np.inf, max_actions))
    kind_codes = pd.factorize(pd.MultiIndex.from_arrays([acc_codes, sub["action"].to_numpy()]))[0]
    if kind_codes.max(initial=-1) + 1 < n:
        kind_rows = _group_rows(kind_codes, n)
        sizes = np.asarray(kind_rows.sum(axis=1)).ravel()
        constraints.append(LinearConstraint(kind_rows[np.flatnonzero(sizes > 1)], -np.inf, 1))
    lower = sub["must_do"].to_numpy(dtype=float)
    result = milp(
        -sub["uplift"].to_numpy(dtype=float),
        integrality=np.zeros(n) if relax else np.ones(n),
        bounds=Bounds(lower, np.ones(n)),
        constraints=constraints,
    )
    if result.x is None:
        raise ConvergenceError(f"the allocation could not be solved: {result.message}")
    return result.x, -float(result.fun)


def _naive(sub: pd.DataFrame, capacity: dict, max_actions: int) -> np.ndarray:
    """Largest revenue first: must-dos, then each account's actions in playbook order."""
    order = np.lexsort(
        (
            sub["order"].to_numpy() if "order" in sub.columns else np.zeros(len(sub)),
            sub["account_id"].to_numpy(),
            -sub["revenue"].to_numpy(dtype=float),
            ~sub["must_do"].to_numpy(dtype=bool),
            sub["rep_id"].to_numpy(),
        )
    )
    chosen = np.zeros(len(sub), dtype=bool)
    left = dict(capacity)
    taken: dict = {}
    kinds: set = set()
    accounts = sub["account_id"].to_numpy()
    reps = sub["rep_id"].to_numpy()
    actions = sub["action"].to_numpy()
    hours = sub["hours"].to_numpy(dtype=float)
    must = sub["must_do"].to_numpy(dtype=bool)
    for j in order:
        a, r = accounts[j], reps[j]
        if (a, actions[j]) in kinds or taken.get(a, 0) >= max_actions:
            continue
        if must[j] or hours[j] <= left[r] + 1e-9:
            chosen[j] = True
            left[r] -= hours[j]
            taken[a] = taken.get(a, 0) + 1
            kinds.add((a, actions[j]))
    return chosen


def allocate(
    candidates: pd.DataFrame,
    capacity: pd.Series,
    strategy: Strategy | None = None,
    *,
    lp_bound: bool = True,
) -> AllocationResult:
    """The plan maximising expected uplift under each rep's hours (``capacity``: rep → hours).

    ``capacity`` is the hours available for planned actions; scale ``reps.capacity_hours`` by
    ``strategy.capacity.utilisation`` first (see :func:`available_hours`).
    """
    strategy = strategy or Strategy()
    missing = [c for c in CANDIDATE_COLUMNS if c not in candidates.columns]
    if missing:
        raise DataValidationError(f"candidate actions need the columns {missing}")
    unknown = sorted(set(candidates["rep_id"]) - set(capacity.index))
    if unknown:
        raise DataValidationError(f"reps without capacity: {unknown[:10]}")
    max_actions = strategy.capacity.max_actions_per_account
    cand = candidates.reset_index(drop=True)
    notes: list[str] = []
    cap = capacity.astype(float).to_dict()
    must_hours = cand.loc[cand["must_do"].astype(bool)].groupby("rep_id")["hours"].sum()
    for rep, need in must_hours.items():
        if need > cap[rep]:
            notes.append(
                f"rep {rep}: must-do renewals need {need:g} h, more than the {cap[rep]:g} h "
                "available; planned as overtime"
            )
            cap[rep] = float(need)
    reps_per_account = cand.groupby("account_id")["rep_id"].nunique()
    decomposed = bool((reps_per_account <= 1).all())
    chosen = np.zeros(len(cand))
    bound = 0.0
    if decomposed:
        groups = cand.groupby("rep_id", sort=False).indices.values()
    else:
        groups = [np.arange(len(cand))]
    for idx in groups:
        sub = cand.iloc[idx]
        x, _ = _solve(sub, cap, max_actions, relax=False)
        chosen[idx] = x
        if lp_bound:
            bound += _solve(sub, cap, max_actions, relax=True)[1]
    plan = cand.copy()
    plan["chosen"] = chosen > 0.5
    plan["naive"] = _naive(cand, cap, max_actions)
    uplift = float(plan.loc[plan["chosen"], "uplift"].sum())
    naive = float(plan.loc[plan["naive"], "uplift"].sum())
    reps = pd.DataFrame(
        {
            "capacity_hours": pd.Series(cap),
            "planned_hours": plan.loc[plan["chosen"]].groupby("rep_id")["hours"].sum(),
            "uplift": plan.loc[plan["chosen"]].groupby("rep_id")["uplift"].sum(),
            "naive_uplift": plan.loc[plan["naive"]].groupby("rep_id")["uplift"].sum(),
        }
    ).fillna(0.0)
    reps.index.name = "rep_id"
    return AllocationResult(
        plan=plan,
        uplift=uplift,
        naive_uplift=naive,
        lp_bound=bound if lp_bound else float("nan"),
        reps=reps,
        decomposed=decomposed,
        notes=notes,
    )


def available_hours(reps: pd.DataFrame, strategy: Strategy | None = None) -> pd.Series:
    """Hours per rep for planned actions: ``capacity_hours`` × ``capacity.utilisation``."""
    strategy = strategy or Strategy()
    if not {"rep_id", "capacity_hours"} <= set(reps.columns):
        raise DataValidationError("reps need the columns rep_id and capacity_hours")
    hours = reps.set_index("rep_id")["capacity_hours"].astype(float)
    return hours.fillna(0.0) * strategy.capacity.utilisation
