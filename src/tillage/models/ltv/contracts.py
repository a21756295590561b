r"""Recurring revenue of an account's active contract: renewals, fixed terms, expansion.

For an account with recurring amount ``MRR`` (currency / month), next contract end ``τ`` months
after the as-of date (``months_to_renewal``) and term ``L`` months (``term_months``), the
renewal decisions fall at ``τ, τ + L, τ + 2L, …``. Let ``k(u)`` be the number due by time
``u`` (months): :math:`k(u) = \max(0, \lfloor (u - τ)/L \rfloor + 1)`.

* **Renewable contracts** survive each decision with the posterior probability of
  :class:`~tillage.models.renewal_churn.RenewalChurnModel`:
  :math:`S_k = E[\prod_{j \le k} (1 - p(θ, \hat x_j)) \mid \text{history}]`. The covariates
  at the ``j``-th decision, ``u_j = τ + (j - 1)L`` months away, are predicted from today's by
  reversion to the mean (:func:`covariate_drift`):
  :math:`\hat x_j = \bar x + ρ^{u_j} (x - \bar x)`, per covariate — a bad quarter today is
  partly over by a renewal a year away. Without drift estimates they are held as now (ρ = 1).
* **Fixed-term contracts** (project contracts that simply end: ``status = 'expired'`` once over)
  have no renewal decision: their revenue stops at ``τ``. Whether a running contract is one is
  not recorded while it runs, so the accounts frame gives ``p_fixed_term`` = φ, the probability
  that it is (e.g. the share of past terms of the same kind that expired); default 0.
* **Expansion at renewal**: a renewed term's recurring amount is the old one × ``(1 + g)``, with
  ``g`` the observed average uplift of the segment (:func:`renewal_uplift`), taken independent of
  the renewal decision itself. Contraction is part of the average (g may be negative).

Month ``t`` (``t = 1 … H``) is billed at its middle, so with ``k_t = k(t - ½)``:

.. math::

   E[\text{recurring revenue in month } t] = \mathrm{MRR}\,\big[φ\,1\{k_t = 0\}
        + (1 - φ)\,(1 + g)^{k_t}\,S_{k_t}\big]

and P(the contract still runs in month t) is the same bracket without ``(1 + g)^{k_t}``. The
churn probabilities count a decision on the horizon's last day as inside it
(``k_H = k(H + ε)``, ε = 1.5 days, which absorbs calendar months of 28–31 days):

.. math::

   P(\text{churn at the next end}) = φ + (1 - φ)(1 - S_1), \qquad
   P(\text{no contract at } H) = φ\,1\{k_H \ge 1\} + (1 - φ)(1 - S_{k_H}).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from tillage.models.ltv._columns import DAYS_PER_MONTH, column
from tillage.models.renewal_churn import History, RenewalChurnModel

__all__ = [
    "ContractInputs",
    "ContractPaths",
    "contract_inputs",
    "contract_paths",
    "covariate_drift",
    "renewal_uplift",
]

#: Renewals a segment needs before its own uplift outweighs the pooled one (credibility weight).
UPLIFT_PRIOR_RENEWALS = 30.0
#: Tolerance of "on or before the horizon end", in months (1.5 days).
END_TOLERANCE = 1.5 / DAYS_PER_MONTH
#: Holders evaluated at once (bounds the memory of the node × decision arrays of a draw).
CHUNK_ROWS = 4096


def renewal_uplift(
    decisions: pd.DataFrame | None,
    *,
    by: str = "term_months",
    prior_renewals: float = UPLIFT_PRIOR_RENEWALS,
) -> pd.Series:
    r"""Average uplift of the recurring amount at renewal, per segment and overall (``"all"``).

    Over the renewed decisions whose successor's amount is known (columns
    ``recurring_amount`` and ``renewed_amount``, currency / month), the pooled uplift is the
    ratio of sums :math:`\hat g = \sum \text{renewed} / \sum \text{recurring} - 1` (amount
    weighted, so it scales expected revenue without bias). A segment (``by``, e.g. the term in
    months: monthly renewals expand little per renewal) with ``n`` renewals gets the
    credibility-weighted :math:`g_s = (n\,\hat g_s + n_0\,\hat g) / (n + n_0)`, ``n_0`` =
    ``prior_renewals``. Without usable rows every uplift is 0.
    """
    empty = pd.Series({"all": 0.0}, name="uplift", dtype=float)
    needed = {"churned", "recurring_amount", "renewed_amount"}
    if decisions is None or not len(decisions) or not needed <= set(decisions.columns):
        return empty
    old = pd.to_numeric(decisions["recurring_amount"], errors="coerce")
    new = pd.to_numeric(decisions["renewed_amount"], errors="coerce")
    ok = (decisions["churned"] == 0) & (old > 0) & np.isfinite(new) & (new >= 0)
    if not ok.any():
        return empty
    pooled = float(new[ok].sum() / old[ok].sum() - 1.0)
    out = {"all": pooled}
    if by in decisions.columns:
        groups = pd.DataFrame({"key": decisions.loc[ok, by], "old": old[ok], "new": new[ok]})
        for key, part in groups.groupby("key"):
            own = float(part["new"].sum() / part["old"].sum() - 1.0)
            n = float(len(part))
            out[str(key)] = (n * own + prior_renewals * pooled) / (n + prior_renewals)
    return pd.Series(out, name="uplift", dtype=float)


def covariate_drift(
    decisions: pd.DataFrame | None,
    covariates: Sequence[str],
    *,
    account: str = "account_id",
    date: str = "decision_date",
    min_pairs: int = 30,
) -> pd.DataFrame:
    r"""Mean ``x̄`` and monthly persistence ``ρ`` of each covariate, from consecutive decisions.

    Treating each covariate as a stationary first-order Markov process in months,
    :math:`E[x_{t+Δ} \mid x_t] = \bar x + ρ^{Δ} (x_t - \bar x)`. For the pairs of consecutive
    decisions of an account ``Δ`` months apart (``Δ`` rounded to whole months), the regression
    slope of the later value on the earlier is an estimate of :math:`ρ^Δ`; ``ρ`` is the
    pair-weighted mean of ``slope^{1/Δ}`` over the lags with at least ``min_pairs`` pairs
    (slopes clipped to [0, 1]). ``x̄`` is the mean over all decisions. A covariate without
    usable pairs (or constant within accounts, like the term) gets ``ρ = 1``: held as now.
    """
    names = list(covariates)
    out = pd.DataFrame({"mean": 0.0, "rho": 1.0}, index=pd.Index(names, name="covariate"))
    if decisions is None or not len(decisions) or date not in decisions.columns:
        return out
    frame = decisions.sort_values([account, date])
    earlier = frame.groupby(account, sort=False)[[date, *names]].shift(1)
    lag = ((frame[date] - earlier[date]).dt.days / DAYS_PER_MONTH).round()
    ok = (lag > 0).to_numpy()
    for name in names:
        out.loc[name, "mean"] = float(frame[name].mean())
        x0, x1, gap = earlier[name].to_numpy()[ok], frame[name].to_numpy()[ok], lag.to_numpy()[ok]
        weights, values = [], []
        for months in np.unique(gap):
            pick = gap == months
            spread = float(np.var(x0[pick]))
            if pick.sum() < min_pairs or spread <= 0:
                continue
            slope = float(np.cov(x0[pick], x1[pick], bias=True)[0, 1]) / spread
            weights.append(float(pick.sum()))
            values.append(float(np.clip(slope, 0.0, 1.0)) ** (1.0 / months))
        if weights:
            out.loc[name, "rho"] = float(np.average(values, weights=weights))
    return out


def _segment_uplift(frame: pd.DataFrame, uplift: pd.Series, by: str) -> NDArray[np.float64]:
    default = float(uplift.get("all", 0.0))
    if by not in frame.columns:
        return np.full(len(frame), default)
    keys = pd.to_numeric(frame[by], errors="coerce")
    labels = keys.map(lambda v: str(int(v)) if np.isfinite(v) and v == int(v) else str(v))
    return labels.map(uplift).fillna(default).to_numpy(dtype=float)


@dataclass
class ContractPaths:
    """Per account (rows) and month ``t = 1 … H`` (columns): ``survival`` = P(a contract still
    runs), ``revenue`` = expected recurring revenue (currency); per account ``churn_next`` =
    P(churn at the next end) and ``churn_horizon`` = P(no contract at the horizon end), NaN
    without an active contract."""

    survival: NDArray[np.float64]
    revenue: NDArray[np.float64]
    churn_next: NDArray[np.float64]
    churn_horizon: NDArray[np.float64]


@dataclass
class ContractInputs:
    """What :func:`contract_paths` reads from the frame, prepared once for many parameter
    draws: the contract holders (rows of the frame), their terms and decision counts, the
    covariates expected at each decision and the past decisions of the churn model."""

    n: int
    months: int
    holders: NDArray[np.int64]
    mrr: NDArray[np.float64]
    fixed: NDArray[np.float64]
    growth: NDArray[np.float64]
    k_mid: NDArray[np.int64]  # (holders, months): decisions due by mid-month
    k_end: NDArray[np.int64]  # decisions due by the horizon end
    history: History | None
    #: what does not change between draws, (holders, months): 1 while the first term runs
    #: (``k_t = 0``) and the amount's growth ``(1 + g)^{k_t}``
    still_first: NDArray[np.float64]
    grown: NDArray[np.float64]
    #: holders needing up to 1, 2, 4 … decisions: their rows among the holders and the
    #: covariates expected at each of those decisions (rows, decisions, covariates)
    groups: list[tuple[NDArray[np.int64], NDArray[np.float64]]]


def contract_inputs(
    frame: pd.DataFrame,
    model: RenewalChurnModel | None,
    history: pd.DataFrame | None,
    *,
    covariates: Sequence[str],
    horizon_months: int,
    uplift: pd.Series | None = None,
    uplift_by: str = "term_months",
    drift: pd.DataFrame | None = None,
) -> ContractInputs:
    """What :func:`contract_paths` needs of every row of ``frame``, prepared once for the
    point estimate and every bootstrap draw (see the module docstring).

    ``frame`` columns read: ``account_id``, ``mrr``, ``months_to_renewal``, ``term_months``
    (default 12), ``p_fixed_term`` (default 0) and the covariates (missing ones count as 0).
    ``history``: the past decisions ``model`` updates each account's churn propensity with.
    ``drift`` (from :func:`covariate_drift`) moves the covariates of later decisions towards
    their means; ``uplift`` (from :func:`renewal_uplift`, by ``uplift_by``) grows the amount.
    """
    n = len(frame)
    months = np.arange(1, int(horizon_months) + 1, dtype=float)
    mrr = column(frame, "mrr", 0.0)
    holders = np.flatnonzero(mrr > 0)
    sub = frame.iloc[holders]
    to_end = np.clip(column(sub, "months_to_renewal", 0.0), 0.0, None)
    term = np.clip(column(sub, "term_months", 12.0), 1.0, None)

    def due(at: NDArray[np.float64]) -> NDArray[np.int64]:
        count = np.floor((at[None, :] - to_end[:, None]) / term[:, None]) + 1.0
        return np.clip(count, 0.0, None).astype(np.int64)

    k_mid = due(months - 0.5)  # (holders, months)
    k_end = due(np.array([horizon_months + END_TOLERANCE]))[:, 0]
    # decisions each holder needs: S_k for k <= its own largest k (and k = 1 for churn_next)
    need = np.maximum(np.maximum(k_mid.max(axis=1, initial=0), k_end), 1)
    width = 2 ** np.ceil(np.log2(need)).astype(np.int64)
    x = np.column_stack([column(sub, c, 0.0) for c in covariates] or [np.zeros((len(sub), 0))])
    if drift is not None:
        mean = drift["mean"].reindex(list(covariates)).fillna(0.0).to_numpy()
        rho = drift["rho"].reindex(list(covariates)).fillna(1.0).to_numpy()
    else:
        mean, rho = np.zeros(len(covariates)), np.ones(len(covariates))
    groups = []
    for w in np.unique(width):
        same = np.flatnonzero(width == w)
        for rows in np.split(same, range(CHUNK_ROWS, len(same), CHUNK_ROWS)):
            # covariates expected at the j-th decision, u_j = tau + (j - 1) L months away
            u = to_end[rows, None] + term[rows, None] * np.arange(w)[None, :]  # (rows, decisions)
            shrink = rho[None, None, :] ** u[:, :, None]  # (rows, decisions, covariates)
            groups.append((rows, mean + shrink * (x[rows, None, :] - mean)))
    growth = 1.0 + (_segment_uplift(sub, uplift, uplift_by) if uplift is not None else 0.0)
    growth = np.broadcast_to(np.asarray(growth, dtype=float), (len(holders),))
    past = None
    if model is not None and len(holders):
        past = model.history(pd.Index(sub["account_id"].to_numpy()), history)
    return ContractInputs(
        n=n,
        months=len(months),
        holders=holders,
        mrr=mrr[holders],
        fixed=np.clip(column(sub, "p_fixed_term", 0.0), 0.0, 1.0),
        growth=growth,
        k_mid=k_mid,
        k_end=k_end,
        history=past,
        still_first=(k_mid == 0).astype(float),
        grown=growth[:, None] ** k_mid,
        groups=groups,
    )


def _renewal_survival(
    inputs: ContractInputs, model: RenewalChurnModel, params: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    r"""Per holder: :math:`S_{k_t}` by month, :math:`S_1` and :math:`S_{k_H}`.

    :math:`S_k = \sum_n w_n \prod_{j \le k} 1 / (1 + o_n e^{\hat x_j^\top β})` with
    ``w_n`` the posterior node weights and ``o_n = θ_n / (1 - θ_n)`` the node odds (the
    logistic model's ``1 - p`` written as a product of the node's odds and the covariates').
    Holders are evaluated in groups by the number of decisions they need (rounded up to a
    power of two), so a monthly term's 60 decisions do not cost every annual one as much, and
    at most :data:`CHUNK_ROWS` at a time.
    """
    gamma, delta, beta = float(params[0]), float(params[1]), params[2:]
    assert inputs.history is not None
    log_post, theta = model.posterior_log_weights(
        pd.RangeIndex(len(inputs.holders)), inputs.history, gamma=gamma, delta=delta, beta=beta
    )
    odds = theta / (1.0 - theta)
    renewable = np.empty(inputs.k_mid.shape)
    first, at_end = np.empty(len(inputs.holders)), np.empty(len(inputs.holders))
    for rows, x_hat in inputs.groups:
        width = x_hat.shape[1]
        xb = np.clip(x_hat @ beta, -700.0, 700.0)  # (rows, decisions)
        stay = 1.0 / (1.0 + odds[None, :, None] * np.exp(xb)[:, None, :])
        s_k = np.empty((len(rows), width + 1))
        s_k[:, 0] = 1.0
        s_k[:, 1:] = np.einsum("ij,ijk->ik", np.exp(log_post[rows]), np.cumprod(stay, axis=2))
        renewable[rows] = np.take_along_axis(s_k, inputs.k_mid[rows], axis=1)
        first[rows] = s_k[:, 1]
        at_end[rows] = s_k[np.arange(len(rows)), inputs.k_end[rows]]
    return renewable, first, at_end


def contract_paths(
    inputs: ContractInputs, model: RenewalChurnModel | None, params: NDArray[np.float64] | None
) -> ContractPaths:
    """The contract piece (see the module docstring) for every row of the frame of ``inputs``.

    ``params`` = ``(gamma, delta, beta…)`` of ``model`` (the fitted ones or a bootstrap draw).
    Without a churn model (no renewal history) only the current term's revenue counts and the
    churn probabilities are NaN.
    """
    n, holders = inputs.n, inputs.holders
    survival = np.zeros((n, inputs.months))
    revenue = np.zeros((n, inputs.months))
    churn_next = np.full(n, np.nan)
    churn_horizon = np.full(n, np.nan)
    if not len(holders):
        return ContractPaths(survival, revenue, churn_next, churn_horizon)
    known = model is not None and params is not None
    k_mid, fixed = inputs.k_mid, inputs.fixed
    if model is not None and params is not None:
        renewable, s_1, at_end = _renewal_survival(inputs, model, params)
    else:  # no renewal history to fit on: only the contracted term counts
        renewable = (k_mid == 0).astype(float)
    still_first = inputs.still_first
    phi = fixed[:, None]
    survival[holders] = phi * still_first + (1.0 - phi) * renewable
    revenue[holders] = inputs.mrr[:, None] * (
        phi * still_first + (1.0 - phi) * inputs.grown * renewable
    )
    if known:
        churn_next[holders] = fixed + (1.0 - fixed) * (1.0 - s_1)
        k_end = inputs.k_end
        churn_horizon[holders] = fixed * (k_end >= 1) + (1.0 - fixed) * (1.0 - at_end)
    return ContractPaths(survival, revenue, churn_next, churn_horizon)
