"""What a rep's departure puts at risk, and who should take over their accounts.

**Affected accounts**: those the rep owns (``accounts.owner_id``) and those single-threaded on
the rep (:func:`tillage.strategy.risk.key_person_risk`: the rep is the account's top rep by
touches, with at least ``key_person.single_threaded_rep_share`` of them, and at most
``key_person.single_threaded_max_contacts`` contacts were touched).

**LTV at risk.** Only a single-threaded account loses its relationship with the rep. Its churn
probability p (the snapshot's ``churn_risk``; 0 when unknown) rises by the strategy's
``key_person.churn_uplift_if_owner_leaves`` u, capped at 1: p′ = min(1, p + u). Reading the
account's LTV as (1 − p) × V, with V its value once it stays, the LTV after the departure is
(1 − p′) × V, so::

    ltv_at_risk = max(LTV, 0) × (p′ − p) / (1 − p)   (0 when p = 1: nothing is left to lose)

which is LTV × u when p = 0. An account worth less than nothing (its cost to serve exceeds its
margin) puts nothing at risk: losing it is not counted as a gain that hides real losses. The
rep's LTV at risk is the sum over their single-threaded accounts; accounts that are merely
owned lose nothing (another relationship carries them) but still need a successor. Amounts are
in the company currency, as the snapshot's LTVs.

**Handover plan.** Each affected account needs h hours of its successor in the month: the hours
the leaving rep has planned on it (the snapshot's actions in the snapshot's plan month,
:func:`handover_month`), at least
``key_person.handover_hours``. A rep's spare hours are ``capacity_hours`` ×
``capacity.utilisation`` minus the hours planned for them in that month. Accounts are handed over
largest LTV at risk first (then largest LTV); each goes to the rep with the most spare hours among
those who can take h hours, reps of the leaving rep's team first; when nobody has h hours left
the account goes to the team's (else anyone's) rep with the most spare hours and is flagged
``over_capacity``. Candidates are the reps still employed on ``as_of`` (``left_on`` empty or
later) with the role ``rep``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel

from tillage.errors import DataValidationError, NotFoundError
from tillage.models.special import central_z
from tillage.strategy.config import Strategy
from tillage.strategy.effects import aipw_terms, clustered_se

__all__ = [
    "DepartureCalibration",
    "DepartureResult",
    "calibrate_departure",
    "handover_month",
    "ltv_at_risk",
    "simulate_departure",
]

#: Columns of :attr:`DepartureResult.accounts`.
PLAN_COLUMNS = [
    "account_id",
    "account",
    "owned",
    "single_threaded",
    "ltv",
    "churn_risk",
    "churn_after",
    "ltv_at_risk",
    "hours",
    "successor_id",
    "successor",
    "successor_team",
    "same_team",
    "spare_hours_after",
    "over_capacity",
]


@dataclass
class DepartureResult:
    """The departure of ``rep_id``: affected accounts with their successors, and the totals."""

    rep_id: int
    rep_name: str
    as_of: dt.date
    accounts: pd.DataFrame
    churn_uplift: float
    notes: list[str] = field(default_factory=list)
    uplift_source: str = "assumed"
    """``learned`` when ``churn_uplift`` was calibrated from the company's leavers
    (:func:`calibrate_departure`), else ``assumed`` (the strategy file's)."""

    @property
    def ltv_at_risk(self) -> float:
        """Σ ltv_at_risk over the affected accounts (company currency)."""
        return float(self.accounts["ltv_at_risk"].sum())

    @property
    def single_threaded(self) -> int:
        """Number of accounts single-threaded on the rep."""
        return int(self.accounts["single_threaded"].sum())


def ltv_at_risk(ltv: pd.Series, churn_risk: pd.Series, uplift: float) -> pd.Series:
    """max(LTV, 0) × (p′ − p) / (1 − p) with p′ = min(1, p + uplift); p = churn_risk
    (NaN → 0)."""
    p = pd.to_numeric(churn_risk, errors="coerce").fillna(0.0).clip(0, 1)
    after = (p + uplift).clip(upper=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(p < 1, (after - p) / (1 - p), 0.0)
    return pd.to_numeric(ltv, errors="coerce").fillna(0.0).clip(lower=0.0) * share


def handover_month(models: dict | None, as_of: dt.date) -> dt.date:
    """The month whose planned hours a handover reads: the snapshot's plan month (its record's
    ``plans.month``: a month-end snapshot plans the next month), else the month of ``as_of``
    (a snapshot written without plans)."""
    month = ((models or {}).get("plans") or {}).get("month")
    if month:
        return dt.date.fromisoformat(str(month)[:10]).replace(day=1)
    return as_of.replace(day=1)


def _spare_hours(reps: pd.DataFrame, planned: pd.DataFrame, strategy: Strategy) -> pd.Series:
    capacity = pd.to_numeric(reps["capacity_hours"], errors="coerce").fillna(0.0)
    busy = planned.groupby("rep_id")["hours"].sum() if len(planned) else pd.Series(dtype=float)
    return capacity * strategy.capacity.utilisation - busy.reindex(reps.index).fillna(0.0)


def _candidates(reps: pd.DataFrame, leaving: int, as_of: dt.date) -> pd.DataFrame:
    keep = reps.index != leaving
    if "left_on" in reps.columns:
        left = pd.to_datetime(reps["left_on"])
        keep &= (left.isna() | (left > pd.Timestamp(as_of))).to_numpy()
    if "role" in reps.columns:
        keep &= (reps["role"].fillna("rep") == "rep").to_numpy()
    return reps.loc[keep]


def simulate_departure(
    rep_id: int,
    accounts: pd.DataFrame,
    reps: pd.DataFrame,
    strategy: Strategy | None = None,
    *,
    planned: pd.DataFrame | None = None,
    as_of: dt.date | None = None,
    calibration: DepartureCalibration | None = None,
) -> DepartureResult:
    """The LTV at risk and the handover plan if ``rep_id`` leaves (see the module docstring).

    ``accounts`` is indexed by ``account_id`` with ``owner_id``, ``ltv``, ``churn_risk``,
    ``single_threaded``, ``top_rep_id`` and optionally ``name``; ``reps`` is indexed by rep id
    with ``name``, ``team_id``, ``capacity_hours`` and optionally ``team``, ``left_on``,
    ``role``; ``planned`` holds the month's planned actions (``account_id``, ``rep_id``,
    ``hours``); ``calibration`` (:func:`calibrate_departure`) replaces the strategy file's
    churn uplift when it is learned.
    """
    strategy = strategy or Strategy()
    rules = strategy.key_person
    if calibration is not None and calibration.source == "learned":
        rules = rules.model_copy(update={"churn_uplift_if_owner_leaves": calibration.uplift})
    as_of = as_of or dt.date.today()
    needed = ["owner_id", "ltv", "churn_risk", "single_threaded", "top_rep_id"]
    missing = [c for c in needed if c not in accounts.columns]
    if missing:
        raise DataValidationError(f"the departure simulation needs the account columns {missing}")
    if rep_id not in reps.index:
        raise NotFoundError(f"rep {rep_id} does not exist")
    planned = (
        planned if planned is not None else pd.DataFrame(columns=["account_id", "rep_id", "hours"])
    )
    on_rep = accounts["single_threaded"].astype("boolean").fillna(False).astype(bool) & (
        accounts["top_rep_id"].astype("Int64") == rep_id
    ).fillna(False)
    owned = (accounts["owner_id"].astype("Int64") == rep_id).fillna(False)
    affected = accounts.loc[owned | on_rep].copy()
    affected["owned"] = owned[affected.index]
    affected["single_threaded"] = on_rep[affected.index]
    p = pd.to_numeric(affected["churn_risk"], errors="coerce")
    after = (p.fillna(0.0) + rules.churn_uplift_if_owner_leaves).clip(upper=1)
    affected["churn_after"] = after.where(affected["single_threaded"], p)
    affected["ltv_at_risk"] = ltv_at_risk(
        affected["ltv"], affected["churn_risk"], rules.churn_uplift_if_owner_leaves
    ).where(affected["single_threaded"], 0.0)
    mine = planned.loc[planned["rep_id"] == rep_id].groupby("account_id")["hours"].sum()
    affected["hours"] = mine.reindex(affected.index).fillna(0.0).clip(lower=rules.handover_hours)
    affected = affected.sort_values(
        ["ltv_at_risk", "ltv"], ascending=False, kind="stable"
    ).rename_axis("account_id")

    notes: list[str] = []
    pool = _candidates(reps, rep_id, as_of)
    spare = _spare_hours(pool, planned, strategy).to_dict()
    team = reps.at[rep_id, "team_id"] if "team_id" in reps.columns else None
    same = {r: pd.notna(team) and pool.at[r, "team_id"] == team for r in pool.index}
    rows = []
    for hours in affected["hours"]:
        if not spare:
            rows.append((None, False, np.nan, True))
            continue
        fits = [r for r in spare if spare[r] >= hours - 1e-9]
        ranked = sorted(fits or list(spare), key=lambda r: (not same[r], -spare[r], r))
        chosen = ranked[0]
        spare[chosen] -= hours
        rows.append((chosen, same[chosen], spare[chosen], not fits))
    if not spare and len(affected):
        notes.append(f"no rep is available to take over the {len(affected)} accounts")
    plan = pd.DataFrame(
        rows,
        columns=["successor_id", "same_team", "spare_hours_after", "over_capacity"],
        index=affected.index,
    )
    affected = affected.join(plan)
    affected["successor_id"] = affected["successor_id"].astype("Int64")
    names = reps["name"] if "name" in reps.columns else pd.Series(dtype=object)
    teams = reps["team"] if "team" in reps.columns else reps.get("team_id", pd.Series(dtype=object))
    affected["successor"] = affected["successor_id"].map(names.to_dict())
    affected["successor_team"] = affected["successor_id"].map(teams.to_dict())
    affected["account"] = affected["name"] if "name" in affected.columns else ""
    affected = affected.reset_index()
    return DepartureResult(
        rep_id=int(rep_id),
        rep_name=str(reps.at[rep_id, "name"]) if "name" in reps.columns else str(rep_id),
        as_of=as_of,
        accounts=affected[PLAN_COLUMNS],
        churn_uplift=rules.churn_uplift_if_owner_leaves,
        notes=notes,
        uplift_source=calibration.source if calibration is not None else "assumed",
    )


# --- reading the store -----------------------------------------------------------------------


# --- calibrating the departure effect ---------------------------------------------------------

#: A rep's departure counts for a renewal decision when it fell in this many days before it.
DEPARTURE_DAYS = 180


class DepartureCalibration(BaseModel):
    """The added churn probability after a departure: ``uplift`` the one the simulation uses,
    ``source`` ``learned`` (from reps with ``left_on``) or ``assumed`` (the strategy file's
    ``key_person.churn_uplift_if_owner_leaves``), the estimate with its interval, and why."""

    uplift: float
    assumed: float
    source: Literal["learned", "assumed"]
    estimate: float | None = None
    low: float | None = None
    high: float | None = None
    treated: int = 0
    note: str


def calibrate_departure(
    decisions: pd.DataFrame,
    activities: pd.DataFrame,
    reps: pd.DataFrame,
    strategy: Strategy,
    *,
    level: float = 0.95,
) -> DepartureCalibration:
    """Calibrate the churn uplift of a departure from the company's own leavers.

    A renewal decision (:func:`tillage.strategy.effects.renewal_decisions`) is *exposed* when
    the rep who logged most of the account's activities in the 365 days before it left
    (``reps.left_on``) in the :data:`DEPARTURE_DAYS` days before it. The uplift is the AIPW
    difference ``μ₁ − μ₀`` of churn probabilities (exposed against not, same covariates as the
    action effects), its interval from the account-clustered influence function
    ``(φ₁ᵢ − φ₀ᵢ) − (μ₁ − μ₀)``; shrunk toward the assumption as the action effects are
    (``θ̃ = w·θ̂ + (1 − w)·θ₀``, ``w = τ²/(τ² + se²)``) and learned when at least
    ``effects.min_treated`` decisions were exposed and ``w ≥ 0.5``. Without leavers it stays
    assumed."""
    assumed = strategy.key_person.churn_uplift_if_owner_leaves
    left = pd.to_datetime(reps.set_index("rep_id")["left_on"]).dropna()
    if left.empty or decisions.empty:
        return DepartureCalibration(
            uplift=assumed, assumed=assumed, source="assumed", note="no rep has left (left_on)"
        )
    acts = activities.dropna(subset=["rep_id"]).assign(at=pd.to_datetime(activities["occurred_at"]))
    pairs = decisions[["contract_id", "account_id", "decided_on"]].merge(
        acts[["account_id", "rep_id", "at"]], on="account_id"
    )
    pairs = pairs[
        (pairs["at"] < pairs["decided_on"])
        & (pairs["at"] >= pairs["decided_on"] - pd.Timedelta(days=365))
    ]
    top = (
        pairs.groupby(["contract_id", "rep_id"])
        .size()
        .rename("n")
        .reset_index()
        .sort_values(["contract_id", "n"], ascending=[True, False])
        .drop_duplicates("contract_id")
    )
    top["left_on"] = top["rep_id"].astype("int64").map(left)
    decided = top["contract_id"].map(decisions.set_index("contract_id")["decided_on"])
    exposed_ids = top.loc[
        (top["left_on"] < decided)
        & (top["left_on"] >= decided - pd.Timedelta(days=DEPARTURE_DAYS)),
        "contract_id",
    ]
    t = decisions["contract_id"].isin(set(exposed_ids)).to_numpy(dtype=int)
    treated = int(t.sum())
    if treated < strategy.effects.min_treated or treated == len(t):
        return DepartureCalibration(
            uplift=assumed,
            assumed=assumed,
            source="assumed",
            treated=treated,
            note=f"{treated} renewal decisions after a departure "
            f"(at least {strategy.effects.min_treated} needed)",
        )
    cols = ["x_amount", "x_monthly", "x_engagement", "x_terms"]
    x = decisions[cols].to_numpy(dtype=float)
    x = (x - x.mean(axis=0)) / np.where(x.std(axis=0) > 0, x.std(axis=0), 1.0)
    phi1, phi0 = aipw_terms(decisions["churned"].to_numpy(dtype=float), t, x)
    diff = float(phi1.mean() - phi0.mean())
    se = clustered_se((phi1 - phi0) - diff, decisions["account_id"].to_numpy())
    z = central_z(level)
    tau = strategy.effects.prior_sd
    weight = tau**2 / (tau**2 + se**2)
    learned = weight >= 0.5
    shrunk = min(max(weight * diff + (1 - weight) * assumed, 0.0), 1.0)
    return DepartureCalibration(
        uplift=shrunk if learned else assumed,
        assumed=assumed,
        source="learned" if learned else "assumed",
        estimate=diff,
        low=diff - z * se,
        high=diff + z * se,
        treated=treated,
        note=f"{treated} of {len(t)} renewal decisions after the account's rep left",
    )
