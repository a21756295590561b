"""Learned action effects: what each playbook did to retention and expansion in the company's
own history, shrunk toward the strategy file's assumption where the evidence is thin.

**Decisions.** Every contract whose term ended by ``as_of`` with a renewal decision (its end date
``d`` is on or before ``as_of``; status not ``expired``) is one decision: *churned* when no
contract names it in ``renewed_from_id``, else renewed; *expanded* (renewed decisions only) when
the successor's ``recurring_amount`` exceeds the ending one's by more than 5%. An action was
**taken** before the decision when an activity whose subject carries one of the playbook's words
(:meth:`~tillage.strategy.config.Playbook.markers`) was logged for the account in the window
``[max(d − window_days, start), d)`` of the ending term (``effects.window_days``).

**Covariates** ``X`` (what a rep sees when choosing the action, so what confounds it): log of the
monthly amount, a monthly term, log(1 + other activities in the 180 days before ``d``), log(1 +
earlier terms of the account), and whether each other action was taken.

**Estimator** (augmented inverse-probability weighting, AIPW; Robins, Rotnitzky & Zhao 1994;
Glynn & Quinn 2010): with the propensity ``e(X) = P(T = 1 | X)`` and outcome regressions
``m_a(X) = P(Y = 1 | T = a, X)`` (logistic regressions, ``e`` clipped to [0.01, 0.99]), the mean
outcome had every decision been treated (``a = 1``) or not (``a = 0``) is::

    μ₁ = (1/n) Σᵢ φ₁ᵢ,   φ₁ᵢ = m₁(Xᵢ) + Tᵢ (Yᵢ − m₁(Xᵢ)) / e(Xᵢ)
    μ₀ = (1/n) Σᵢ φ₀ᵢ,   φ₀ᵢ = m₀(Xᵢ) + (1 − Tᵢ)(Yᵢ − m₀(Xᵢ)) / (1 − e(Xᵢ))

consistent when either the propensity or the outcome model is right. The **effect** is on the
scale of the playbook's ``basis``: for ``churn`` (Y = churned) the relative reduction of the
churn probability ``θ = 1 − μ₁/μ₀``; for ``expansion`` (Y = expanded, renewed decisions) the
relative increase ``θ = μ₁/μ₀ − 1``. Its interval comes from the influence function of
``log(μ₁/μ₀)``, ``ψᵢ = (φ₁ᵢ − μ₁)/μ₁ − (φ₀ᵢ − μ₀)/μ₀``, summed per account (decisions of one
account are not independent): ``se(log) = √(Σ_g (Σ_{i∈g} ψᵢ)²) / n``, the interval
``exp(log(μ₁/μ₀) ± z·se)`` mapped to θ, and ``se(θ) = (μ₁/μ₀)·se(log)`` (delta method).

**Shrinkage** toward the assumed effect θ₀ (a normal prior of standard deviation τ =
``effects.prior_sd`` around θ₀, combined with the estimate's normal likelihood)::

    θ̃ = w·θ̂ + (1 − w)·θ₀,   w = τ² / (τ² + se(θ̂)²)

clipped to [0, 1]. The effect is **learned** when at least ``effects.min_treated`` decisions had
the action and ``w ≥ 0.5`` (the estimate is at least as precise as the prior); the plans then use
θ̃. Otherwise it stays **assumed** (θ₀), with the reason. Pipeline playbooks are not learned.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel

from tillage.errors import DataValidationError
from tillage.models.special import central_z
from tillage.strategy.config import EffectSettings, Playbook, Strategy

Source = Literal["learned", "assumed"]
#: A renewal expands when the successor's amount exceeds the ending one's by more than this.
EXPANSION_MARGIN = 0.05
#: Days before a decision over which other activities measure engagement.
ENGAGEMENT_DAYS = 180
CLIP = 0.01


class ActionEffect(BaseModel):
    """One playbook's effect: the assumption, the estimate with its interval and the effect the
    plans use (fractions on the playbook's basis; ``None`` where the data cannot say)."""

    action: str
    basis: str
    assumed: float
    estimate: float | None
    low: float | None
    high: float | None
    se: float | None
    weight: float | None
    effect: float
    source: Source
    decisions: int
    treated: int
    note: str


def tag_activities(activities: pd.DataFrame, playbooks: list[Playbook]) -> pd.Series:
    """The playbook action each activity carries by its ``subject`` (the first playbook whose
    word it contains, case-insensitive), ``None`` for the others."""
    subject = activities.get("subject", pd.Series(index=activities.index, dtype=object))
    text = subject.astype("string").str.casefold().fillna("")
    out = pd.Series(None, index=activities.index, dtype=object)
    for play in playbooks:
        if play.basis == "pipeline":
            continue
        hit = out.isna() & pd.Series(False, index=activities.index)
        for word in play.markers():
            hit |= out.isna() & text.str.contains(word, regex=False)
        out[hit] = play.action
    return out.astype(object).where(out.notna(), None)


def renewal_decisions(
    contracts: pd.DataFrame,
    activities: pd.DataFrame,
    as_of: pd.Timestamp | str,
    strategy: Strategy,
) -> pd.DataFrame:
    """One row per renewal decision up to ``as_of`` (see the module docstring): ``account_id``,
    ``contract_id``, ``decided_on``, ``churned``, ``expanded`` (NaN when churned), the
    covariates ``x_*`` and one 0/1 column per learnable action.

    ``contracts``: ``id``, ``account_id``, ``start_date``, ``end_date``, ``term_months``,
    ``recurring_amount``, ``status``, ``renewed_from_id``; ``activities``: ``account_id``,
    ``occurred_at``, ``subject``.
    """
    rows = decision_rows(contracts, as_of)
    acts = activities[["account_id", "occurred_at"]].assign(
        account_id=activities["account_id"].astype("int64"),
        at=pd.to_datetime(activities["occurred_at"]),
        action=tag_activities(activities, strategy.playbooks),
    )
    window = pd.Timedelta(days=strategy.effects.window_days)
    pairs = rows[["account_id", "contract_id", "start", "decided_on"]].merge(
        acts[["account_id", "at", "action"]], on="account_id"
    )
    before = pairs["at"] < pairs["decided_on"]
    engaged = before & (pairs["at"] >= pairs["decided_on"] - pd.Timedelta(days=ENGAGEMENT_DAYS))
    other = pairs[engaged & pairs["action"].isna()].groupby("contract_id").size()
    inside = before & (pairs["at"] >= np.maximum(pairs["decided_on"] - window, pairs["start"]))
    taken = pairs[inside & pairs["action"].notna()]
    hits = {a: set(taken.loc[taken["action"] == a, "contract_id"]) for a in learnable(strategy)}
    return with_activity_columns(rows, other, hits)


def with_activity_columns(
    rows: pd.DataFrame, other: pd.Series, hits: dict[str, set[int]]
) -> pd.DataFrame:
    """:func:`decision_rows` completed: ``x_engagement`` from ``other`` (contract id → the
    untagged activities in the :data:`ENGAGEMENT_DAYS` before the decision) and a 0/1 column per
    action of ``hits`` (the contract ids whose window holds the action); ``start`` dropped."""
    rows = rows.copy()
    rows["x_engagement"] = np.log1p(rows["contract_id"].map(other).fillna(0.0))
    for action, hit in hits.items():
        rows[action] = rows["contract_id"].isin(hit).astype(int)
    return rows.drop(columns="start")


def decision_rows(contracts: pd.DataFrame, as_of: pd.Timestamp | str) -> pd.DataFrame:
    """The renewal decisions of ``contracts`` up to ``as_of`` without the activity columns
    (:func:`renewal_decisions`' others, and ``start``: the ending term's start date)."""
    need = ["id", "account_id", "start_date", "end_date", "recurring_amount", "renewed_from_id"]
    missing = [c for c in need if c not in contracts.columns]
    if missing:
        raise DataValidationError(f"learning action effects needs the contract columns {missing}")
    day = pd.Timestamp(as_of)
    c = contracts.assign(
        start_date=pd.to_datetime(contracts["start_date"]),
        end_date=pd.to_datetime(contracts["end_date"]),
    )
    status = c.get("status", pd.Series("", index=c.index)).astype("string").fillna("")
    decided = c[(c["end_date"] <= day) & (status != "expired")].copy()
    successor = c.loc[c["renewed_from_id"].notna()].drop_duplicates("renewed_from_id")
    after = successor.set_index(successor["renewed_from_id"].astype("int64"))["recurring_amount"]
    ids = decided["id"].astype("int64")
    next_amount = ids.map(after.astype(float))
    amount = decided["recurring_amount"].astype(float)
    churned = next_amount.isna().astype(int)
    expanded = (next_amount > amount * (1 + EXPANSION_MARGIN)).astype(float)
    term = pd.to_numeric(decided.get("term_months"), errors="coerce")
    earlier = decided.sort_values("start_date").groupby("account_id").cumcount()
    rows = pd.DataFrame(
        {
            "account_id": decided["account_id"].astype("int64").to_numpy(),
            "contract_id": ids.to_numpy(),
            "start": decided["start_date"].to_numpy(),
            "decided_on": decided["end_date"].to_numpy(),
            "churned": churned.to_numpy(),
            "expanded": expanded.where(churned == 0).to_numpy(),
            "x_amount": np.log(amount.clip(lower=1.0)).to_numpy(),
            "x_monthly": (term == 1).astype(float).to_numpy(),
            "x_terms": np.log1p(earlier.reindex(decided.index).to_numpy(dtype=float)),
        }
    )
    return rows


def learnable(strategy: Strategy) -> list[str]:
    """The playbook actions whose effect can be learned (bases churn and expansion)."""
    return [p.action for p in strategy.playbooks if p.basis in ("churn", "expansion")]


def _logistic(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """P(y = 1 | x) fitted by a (nearly unpenalised) logistic regression, for every row of x;
    the constant rate when y does not vary."""
    if y.min() == y.max():
        return np.full(len(y), float(y.mean()))
    return _regression().fit(x, y).predict_proba(x)[:, 1]


def _regression():  # type: ignore[no-untyped-def]
    """A nearly unpenalised logistic regression; scikit-learn imported here, on first use, not
    with the module (a quarter second of every ``tillage`` command's start)."""
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=1e4, max_iter=1000)


def aipw(
    y: np.ndarray, t: np.ndarray, x: np.ndarray, groups: np.ndarray
) -> tuple[float, float, float]:
    """``(μ₁, μ₀, se of log(μ₁/μ₀))`` by AIPW with account-clustered influence functions (see
    the module docstring). ``y``, ``t`` 0/1; ``x`` covariates (rows); ``groups`` the account."""
    phi1, phi0 = aipw_terms(y, t, x)
    mu1, mu0 = float(phi1.mean()), float(phi0.mean())
    if mu1 <= 0 or mu0 <= 0:
        return mu1, mu0, math.nan
    psi = (phi1 - mu1) / mu1 - (phi0 - mu0) / mu0
    return mu1, mu0, clustered_se(psi, groups)


def clustered_se(psi: np.ndarray, groups: np.ndarray) -> float:
    """``√(Σ_g (Σ_{i∈g} ψᵢ)²) / n``: the standard error of a mean influence function with the
    rows of one group (account) dependent."""
    per_group = pd.Series(psi).groupby(groups).sum().to_numpy()
    return float(np.sqrt(np.sum(per_group**2)) / len(psi))


def aipw_terms(y: np.ndarray, t: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The AIPW terms ``(φ₁ᵢ, φ₀ᵢ)`` whose means are μ₁ and μ₀ (module docstring)."""
    n = len(y)
    e = np.clip(_logistic(x, t), CLIP, 1 - CLIP)
    m = {}
    for arm in (0, 1):
        sel = t == arm  # fitted on the arm, predicted for every decision
        if y[sel].min() == y[sel].max():
            m[arm] = np.full(n, float(y[sel].mean()))
        else:
            model = _regression().fit(x[sel], y[sel])
            m[arm] = model.predict_proba(x)[:, 1]
    phi1 = m[1] + t * (y - m[1]) / e
    phi0 = m[0] + (1 - t) * (y - m[0]) / (1 - e)
    return phi1, phi0


def estimate_effects(
    decisions: pd.DataFrame, strategy: Strategy, *, level: float = 0.95
) -> dict[str, ActionEffect]:
    """Each playbook's :class:`ActionEffect` from :func:`renewal_decisions` (see the module
    docstring), pipeline playbooks and those without data as assumed."""
    settings = strategy.effects
    z = central_z(level)
    actions = [a for a in learnable(strategy) if a in decisions.columns]
    out: dict[str, ActionEffect] = {}
    for play in strategy.playbooks:
        if play.action not in actions:
            out[play.action] = _assumed(play, 0, 0, "no outcome this action can be learned from")
            continue
        rows = decisions if play.basis == "churn" else decisions[decisions["churned"] == 0]
        y = (rows["churned"] if play.basis == "churn" else rows["expanded"]).to_numpy(float)
        t = rows[play.action].to_numpy(dtype=int)
        treated = int(t.sum())
        if treated < settings.min_treated or treated == len(t):
            note = f"{treated} decisions with the action (at least {settings.min_treated} needed)"
            out[play.action] = _assumed(play, len(t), treated, note)
            continue
        others = [a for a in actions if a != play.action]
        cols = ["x_amount", "x_monthly", "x_engagement", "x_terms", *others]
        x = rows[cols].to_numpy(dtype=float)
        x = (x - x.mean(axis=0)) / np.where(x.std(axis=0) > 0, x.std(axis=0), 1.0)
        mu1, mu0, se_log = aipw(y, t, x, rows["account_id"].to_numpy())
        if not math.isfinite(se_log) or mu0 <= 0 or mu1 <= 0:
            note = "no outcome in one of the groups: the effect cannot be estimated"
            out[play.action] = _assumed(play, len(t), treated, note)
            continue
        out[play.action] = _shrunk(play, mu1 / mu0, se_log, z, settings, len(t), treated)
    return out


def _to_effect(basis: str, ratio: float) -> float:
    return 1.0 - ratio if basis == "churn" else ratio - 1.0


def _shrunk(
    play: Playbook,
    ratio: float,
    se_log: float,
    z: float,
    settings: EffectSettings,
    n: int,
    treated: int,
) -> ActionEffect:
    estimate = _to_effect(play.basis, ratio)
    bounds = sorted(_to_effect(play.basis, ratio * math.exp(s * z * se_log)) for s in (-1, 1))
    se = ratio * se_log
    weight = settings.prior_sd**2 / (settings.prior_sd**2 + se**2)
    shrunk = min(max(weight * estimate + (1 - weight) * play.effect, 0.0), 1.0)
    learned = weight >= 0.5
    note = (
        f"estimated from {n} renewal decisions, {treated} with the action"
        if learned
        else f"evidence too thin (standard error {se:.2f} against the prior's {settings.prior_sd})"
    )
    return ActionEffect(
        action=play.action,
        basis=play.basis,
        assumed=play.effect,
        estimate=estimate,
        low=bounds[0],
        high=bounds[1],
        se=se,
        weight=weight,
        effect=shrunk if learned else play.effect,
        source="learned" if learned else "assumed",
        decisions=n,
        treated=treated,
        note=note,
    )


def _assumed(play: Playbook, n: int, treated: int, note: str) -> ActionEffect:
    return ActionEffect(
        action=play.action,
        basis=play.basis,
        assumed=play.effect,
        estimate=None,
        low=None,
        high=None,
        se=None,
        weight=None,
        effect=play.effect,
        source="assumed",
        decisions=n,
        treated=treated,
        note=note,
    )


def learned_effects(
    contracts: pd.DataFrame,
    activities: pd.DataFrame,
    as_of: pd.Timestamp | str,
    strategy: Strategy,
    *,
    level: float = 0.95,
    decisions: pd.DataFrame | None = None,
) -> dict[str, ActionEffect]:
    """:func:`estimate_effects` on the decisions of ``contracts`` and ``activities`` up to
    ``as_of`` (``decisions``: :func:`renewal_decisions` of them, when the caller built them
    already); every effect assumed when the company has no renewal decision."""
    if contracts.empty:
        note = "no renewal decisions on file"
        return {p.action: _assumed(p, 0, 0, note) for p in strategy.playbooks}
    if decisions is None:
        decisions = renewal_decisions(contracts, activities, as_of, strategy)
    return estimate_effects(decisions, strategy, level=level)


def effects_in_use(effects: dict[str, ActionEffect] | None, strategy: Strategy) -> dict[str, float]:
    """The effect size the plans use per action: the learned one where ``effects`` says so and
    ``effects.learn`` is on, else the strategy file's."""
    out = {p.action: p.effect for p in strategy.playbooks}
    if effects and strategy.effects.learn:
        for action, found in effects.items():
            if found.source == "learned" and action in out:
                out[action] = found.effect
    return out


__all__ = [
    "ActionEffect",
    "aipw",
    "aipw_terms",
    "clustered_se",
    "effects_in_use",
    "estimate_effects",
    "learnable",
    "learned_effects",
    "renewal_decisions",
    "tag_activities",
]
