"""Capacity-constrained account plans: each rep's hours go to the actions worth most.

**Candidates** come from :func:`tillage.strategy.candidates.candidate_actions` (re-exported
here): the strategy's playbooks, bound to portfolio cells, with hours and expected uplift.


**The plan** (:func:`allocate`) is a 0/1 integer programme solved with SciPy's ``milp`` (HiGHS)::

    maximise   Σⱼ uⱼ xⱼ
    subject to Σ_{j of rep r} hⱼ xⱼ ≤ C_r                  (each rep's available hours)
               Σ_{j of account a} xⱼ ≤ max_actions_per_account
               Σ_{j of account a, action k} xⱼ ≤ 1         (one action of a kind per account)
               xⱼ = 1 for must-dos,  xⱼ ∈ {0, 1}

When every account's candidates belong to one rep (the usual case: the owner acts), the problem
separates into one small programme per rep; otherwise it is solved whole. Each programme is
solved exactly, in the order a branch-and-bound solver would prove it: its LP relaxation (the
bound), an incumbent from the LP solution, reduced-cost fixing of every candidate whose reduced
cost exceeds the incumbent's gap to the bound, and ``milp`` on the few candidates left (see
:func:`_solve_block`). Large problems are spread over processes (``workers``). Each solution is
compared with the naive plan on the same capacity — the rep's accounts by revenue, largest first,
each taking its actions in playbook order while they fit — and with the LP relaxation's bound,
which gives the optimality gap ``(lp_bound − uplift) / lp_bound``.
Must-dos that exceed a rep's hours are kept (as overtime) and reported in ``notes``.
"""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from tillage.errors import ConvergenceError, DataValidationError
from tillage.strategy.candidates import CANDIDATE_COLUMNS, candidate_actions
from tillage.strategy.config import Strategy

if TYPE_CHECKING:
    from scipy.sparse import csr_array

# scipy.optimize and scipy.sparse are imported where a plan is solved: together 0.3-0.6 s of
# the start of every command and server process that imports this module

__all__ = [
    "CANDIDATE_COLUMNS",
    "AllocationResult",
    "allocate",
    "available_hours",
    "candidate_actions",
]

#: Problems with at least this many candidates are solved in parallel processes by default.
PARALLEL_MIN = 200_000


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


def _group_rows(codes: np.ndarray, n: int, weights: np.ndarray | None = None) -> csr_array:
    """Incidence matrix: one row per group, ``weights[j]`` (else 1) where candidate j belongs."""
    from scipy.sparse import coo_array

    groups = int(codes.max()) + 1 if len(codes) else 0
    values = np.ones(n) if weights is None else weights
    return coo_array((values, (codes, np.arange(n))), shape=(groups, n)).tocsr()


def _crowded(codes: np.ndarray, limit: int) -> np.ndarray:
    """The groups holding more than ``limit`` candidates (the only rows that can bind)."""
    return np.flatnonzero(np.bincount(codes) > limit)


@dataclass
class _Block:
    """One independent programme: candidate arrays and the capacity of each of its reps.

    ``rep``, ``account`` and ``kind`` are codes 0..m−1 local to the block; ``kind`` numbers the
    (account, action) pairs.
    """

    uplift: np.ndarray
    hours: np.ndarray
    must: np.ndarray
    rep: np.ndarray
    account: np.ndarray
    kind: np.ndarray
    capacity: np.ndarray
    max_actions: int

    def constraints(self) -> tuple[csr_array, np.ndarray]:
        """``A x ≤ b``: rep hours, then crowded accounts, then repeated kinds."""
        from scipy.sparse import vstack

        n = len(self.uplift)
        blocks = [_group_rows(self.rep, n, self.hours)]
        bounds = [self.capacity]
        accounts = _crowded(self.account, self.max_actions)
        if len(accounts):
            blocks.append(_group_rows(self.account, n)[accounts])
            bounds.append(np.full(len(accounts), float(self.max_actions)))
        kinds = _crowded(self.kind, 1)
        if len(kinds):
            blocks.append(_group_rows(self.kind, n)[kinds])
            bounds.append(np.ones(len(kinds)))
        return vstack(blocks, format="csr"), np.concatenate(bounds)


def _greedy_fill(block: _Block, chosen: np.ndarray) -> np.ndarray:
    """Add candidates to a feasible ``chosen`` by uplift per hour while every limit holds."""
    chosen = chosen.copy()
    left = block.capacity - np.bincount(
        block.rep[chosen], weights=block.hours[chosen], minlength=len(block.capacity)
    )
    count = np.bincount(block.account[chosen], minlength=int(block.account.max()) + 1)
    taken = np.bincount(block.kind[chosen], minlength=int(block.kind.max()) + 1)
    with np.errstate(divide="ignore"):
        ratio = block.uplift / block.hours
    for j in np.argsort(-ratio, kind="stable"):
        if chosen[j] or block.uplift[j] <= 0:
            continue
        r, a, k = block.rep[j], block.account[j], block.kind[j]
        if block.hours[j] <= left[r] + 1e-9 and count[a] < block.max_actions and not taken[k]:
            chosen[j] = True
            left[r] -= block.hours[j]
            count[a] += 1
            taken[k] = 1
    return chosen


def _milp(
    uplift: np.ndarray, a: csr_array, b: np.ndarray, lower: np.ndarray
) -> tuple[np.ndarray, float]:
    from scipy.optimize import Bounds, LinearConstraint, milp

    n = len(uplift)
    result = milp(
        -uplift,
        integrality=np.ones(n),
        bounds=Bounds(lower, np.ones(n)),
        constraints=[LinearConstraint(a, -np.inf, b)],
    )
    if result.x is None:
        raise ConvergenceError(f"the allocation could not be solved: {result.message}")
    return result.x > 0.5, -float(result.fun)


def _solve_block(block: _Block) -> tuple[np.ndarray, float]:
    """The optimal 0/1 plan of one block and the bound of its LP relaxation.

    1. Solve the LP relaxation (HiGHS); its value is the bound.
    2. Incumbent: the candidates at 1 in the LP solution (feasible: every coefficient is
       non-negative), filled greedily by uplift per hour.
    3. Reduced-cost fixing: with row duals y ≥ 0 the reduced cost is dⱼ = uⱼ − (Aᵀy)ⱼ and every
       feasible x satisfies uᵀx ≤ LP − Σ_{dⱼ>0} dⱼ(1 − xⱼ) − Σ_{dⱼ<0} |dⱼ|(xⱼ − lⱼ). A candidate
       with |dⱼ| > LP − incumbent therefore keeps its LP bound value in every plan better than
       the incumbent, and is fixed there.
    4. The few candidates left free go to ``milp`` with the capacity the fixed ones leave; the
       better of its plan and the incumbent is returned. The result is the optimum of the block
       (to HiGHS's MIP tolerance), as if the whole block had gone to ``milp``.
    """
    from scipy.optimize import linprog

    a, b = block.constraints()
    n = len(block.uplift)
    lower = block.must.astype(float)
    lp = linprog(
        -block.uplift,
        A_ub=a,
        b_ub=b,
        bounds=np.column_stack([lower, np.ones(n)]),
        method="highs",
    )
    if lp.status != 0:
        if lp.status == 2:
            raise ConvergenceError(f"the allocation has no feasible plan: {lp.message}")
        return _milp(block.uplift, a, b, lower)[0], float("nan")
    bound = -float(lp.fun)
    incumbent = _greedy_fill(block, (lp.x > 1 - 1e-6) | block.must)
    value = float(block.uplift[incumbent].sum())
    slack = bound - value + 1e-9 * max(1.0, abs(bound))
    reduced = block.uplift + a.T @ lp.ineqlin.marginals  # marginals = −y for a minimisation
    at_one = reduced > slack
    at_lower = reduced < -slack
    free = ~(at_one | at_lower)
    if not free.any() or value >= bound - 1e-9 * max(1.0, abs(bound)):
        return incumbent, bound
    fixed = at_one | (at_lower & block.must)
    rest = b - a[:, fixed] @ np.ones(int(fixed.sum()))
    try:
        x_free, _ = _milp(block.uplift[free], a[:, free], rest, lower[free])
    except ConvergenceError:  # numerical trouble in the reduced programme: solve it whole
        return _milp(block.uplift, a, b, lower)[0], bound
    plan = fixed.copy()
    plan[free] = x_free
    if block.uplift[plan].sum() < value:
        return incumbent, bound
    return plan, bound


def _blocks(
    cand: pd.DataFrame, cap: dict, max_actions: int, *, decomposed: bool
) -> tuple[list[_Block], list[np.ndarray]]:
    """The independent programmes (one per rep when decomposed) and each one's row positions."""
    rep_codes, reps = pd.factorize(cand["rep_id"])
    caps = np.array([cap[r] for r in reps], dtype=float)
    acc_codes = pd.factorize(cand["account_id"])[0]
    action_codes = pd.factorize(cand["action"])[0]
    kind_codes = pd.factorize(acc_codes.astype(np.int64) * (action_codes.max() + 1) + action_codes)[
        0
    ]
    if decomposed:
        order = np.argsort(rep_codes, kind="stable")
        cuts = np.flatnonzero(np.diff(rep_codes[order])) + 1
        groups = np.split(order, cuts)
    else:
        groups = [np.arange(len(cand))]
    uplift = cand["uplift"].to_numpy(dtype=float)
    hours = cand["hours"].to_numpy(dtype=float)
    must = cand["must_do"].to_numpy(dtype=bool)
    blocks = []
    for idx in groups:
        local_rep, rep_index = _recode(rep_codes[idx])
        blocks.append(
            _Block(
                uplift=uplift[idx],
                hours=hours[idx],
                must=must[idx],
                rep=local_rep,
                account=_recode(acc_codes[idx])[0],
                kind=_recode(kind_codes[idx])[0],
                capacity=caps[rep_index],
                max_actions=max_actions,
            )
        )
    return blocks, groups


def _recode(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Codes renumbered 0..m−1, and the original code of each new one."""
    values, inverse = np.unique(codes, return_inverse=True)
    return inverse, values


def _solve_batch(blocks: list[_Block]) -> list[tuple[np.ndarray, float]]:
    return [_solve_block(b) for b in blocks]


def _solve_all(
    cand: pd.DataFrame, cap: dict, max_actions: int, *, decomposed: bool, workers: int | None
) -> tuple[np.ndarray, float]:
    """Solve every block (in ``workers`` processes when worth it); the plan and the LP bound."""
    blocks, groups = _blocks(cand, cap, max_actions, decomposed=decomposed)
    if workers is None:
        workers = min(2, os.cpu_count() or 1) if len(cand) >= PARALLEL_MIN else 1
    workers = max(1, min(workers, len(blocks)))
    if workers == 1:
        solved = _solve_batch(blocks)
    else:
        # a few batches per process: few pickles, and the load still evens out
        batches = [blocks[i :: 4 * workers] for i in range(4 * workers)]
        with ProcessPoolExecutor(workers, mp_context=get_context("spawn")) as pool:
            parts = list(pool.map(_solve_batch, batches))
        solved = [None] * len(blocks)
        for i, part in enumerate(parts):
            solved[i :: 4 * workers] = part
    chosen = np.zeros(len(cand), dtype=bool)
    bound = 0.0
    for idx, (x, b) in zip(groups, solved, strict=True):
        chosen[idx] = x
        bound += b
    return chosen, bound


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
    workers: int | None = None,
) -> AllocationResult:
    """The plan maximising expected uplift under each rep's hours (``capacity``: rep → hours).

    ``capacity`` is the hours available for planned actions; scale ``reps.capacity_hours`` by
    ``strategy.capacity.utilisation`` first (see :func:`available_hours`). The LP bound comes
    with every solve; ``lp_bound=False`` only leaves it out of the result. ``workers`` is the
    number of processes for the per-rep programmes (default: up to 2 when the problem has at
    least :data:`PARALLEL_MIN` candidates, else 1).
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
    chosen, bound = _solve_all(cand, cap, max_actions, decomposed=decomposed, workers=workers)
    plan = cand.copy()
    plan["chosen"] = chosen
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
