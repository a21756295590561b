"""Churn at renewal with covariates and heterogeneity: the beta-logistic renewal model.

Each account *i* has a latent baseline churn probability ``theta_i ~ Beta(gamma, delta)``, as in
the shifted-beta-geometric model (Fader & Hardie 2007, "How to Project Customer Retention").
At its renewal decision *j* the account churns with probability

.. math:: p_{ij} = \\operatorname{expit}(\\operatorname{logit}\\theta_i + x_{ij}^\\top\\beta)

where ``x_ij`` are covariates observed as of the decision date (usage trend, unresolved tickets,
detractor NPS, silence, single-threaded relationship, contract term …). The account's likelihood
integrates its decision history over the heterogeneity:

.. math:: L_i = \\int_0^1 \\prod_j p_{ij}^{c_{ij}} (1 - p_{ij})^{1 - c_{ij}}
          \\,\\mathrm{Beta}(\\theta; \\gamma, \\delta)\\, d\\theta

With ``beta = 0`` the integrand is ``theta^churns (1 - theta)^renewals`` and ``L_i`` is exactly
the sBG likelihood ``B(gamma + churns, delta + renewals) / B(gamma, delta)``: the model is a
discrete-time hazard model with the sBG as its no-covariate special case, so it degrades to the
cohort sBG when covariates are missing (pass none) and shrinks towards it when data are thin
(``penalizer`` puts an L2 penalty on ``beta``).

Why hand-written: lifelines and statsmodels offer survival regressions (Cox, Weibull AFT) and
logistic regressions, but none integrates a Beta-distributed random intercept over an account's
renewal sequence, which is what keeps the sBG as the special case and gives each account a
posterior over its own churn propensity. The integral is computed by Gauss–Jacobi quadrature
against the Beta weight (exact for the sBG case, since the integrand is then a polynomial in
theta), vectorised over all decisions; the gradient is analytic (in ``beta`` directly, in
``gamma`` and ``delta`` through the score identity of the Beta law).

Units: one row per renewal decision; ``churned`` is 1 if the account left at that decision.
Predictions are per decision (per renewal), not per month.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Self

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy.special import digamma, expit, logsumexp, roots_jacobi

from tillage.errors import ConvergenceError, DataValidationError, NotFittedError, Problem
from tillage.models._settings import EstimatorSettings

__all__ = ["History", "RenewalChurnModel"]

_LOG_BOUND = 12.0  # bounds on log(gamma), log(delta)


def _decision_log_terms(
    logit_theta: NDArray[np.float64], xb: NDArray[np.float64], churned: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Per (decision, node): ``log p`` where the account churned, else ``log(1 - p)``, with
    ``p = expit(logit θ_n + x_i'β)``; that is ``-log(1 + exp(s (logit θ_n + x_i'β)))``,
    ``s = 1 - 2 churned``.

    Hand-written because a bootstrap evaluates it for every parameter draw over every past
    decision and quadrature node (millions of terms on 100,000 accounts): as
    ``-log1p(exp(s logit θ_n) · exp(s x_i'β))`` it takes one exponential per node and one per
    decision, and a product per term, instead of ``logaddexp``'s exponential per term. The two
    agree to a few units in the last place; where a product leaves the floating range (a linear
    predictor beyond about ±700) every term is ``logaddexp``'s."""
    sign = 1.0 - 2.0 * churned
    with np.errstate(over="ignore", under="ignore"):
        by_node = np.exp(np.stack([logit_theta, -logit_theta]))  # exp(±logit θ)
        terms = np.exp(sign * xb)[:, None] * by_node[(churned > 0).astype(np.intp)]
    if np.all(np.isfinite(terms)) and np.all(terms > 0):
        return -np.log1p(terms, out=terms)
    eta = logit_theta[None, :] + xb[:, None]
    return -np.logaddexp(0.0, sign[:, None] * eta)


def _beta_nodes(gamma: float, delta: float, n: int) -> tuple[NDArray, NDArray]:
    """Quadrature nodes in (0, 1) and log-weights summing to one for the Beta(gamma, delta) law.

    Above a concentration gamma + delta of 900 SciPy's weights overflow; the law is then a near
    point mass and is evaluated at concentration 900 with the same mean (the optimiser's line
    search and the bootstrap of :class:`~tillage.models.account_ltv.AccountLTV` may probe there).

    Below, each parameter is kept at or above exp(−12), the smallest value the fit itself can
    reach (``_LOG_BOUND``). When the heterogeneity is weakly identified (gamma and delta large
    with a standard error 30 times the estimate, as on the 300-account demo of seed 42) the
    bootstrap's log-normal draws span 1e-49 to 1e36, and the shrink above makes the small one
    smaller still: ``gamma - 1`` then rounds to −1.0, where the Jacobi nodes do not exist. The
    law there is a near point mass at 0 or 1 whichever the floor; the floor only keeps it
    computable.
    """
    if gamma + delta > 900.0:
        shrink = 900.0 / (gamma + delta)
        gamma, delta = gamma * shrink, delta * shrink
    floor = math.exp(-_LOG_BOUND)
    gamma, delta = max(gamma, floor), max(delta, floor)
    x, w = roots_jacobi(n, delta - 1.0, gamma - 1.0)
    theta = np.clip((1.0 + x) / 2.0, 1e-300, 1.0 - 1e-16)
    w = np.clip(w, 1e-300, None)
    log_w = np.log(w) - np.log(w.sum())
    return theta, log_w


class _Decisions:
    """Renewal decisions sorted by account, with the index arrays the likelihood reuses."""

    def __init__(self, frame: pd.DataFrame, account: str, covariates: Sequence[str]) -> None:
        ordered = frame.sort_values(account, kind="stable")
        codes, uniques = pd.factorize(ordered[account], sort=False)
        self.accounts = pd.Index(uniques)
        self.group = codes.astype(np.int64)
        self.starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])
        self.churned = ordered["churned"].to_numpy(dtype=float)
        self.x = ordered[list(covariates)].to_numpy(dtype=float).reshape(len(ordered), -1)
        churns = np.add.reduceat(self.churned, self.starts)
        counts = np.diff(np.r_[self.starts, len(self.churned)])
        self.never_churned = (churns == 0).astype(float)
        self.always_churned = (churns == counts).astype(float)


@dataclass
class History:
    """Past renewal decisions prepared for the posterior: the sorted decisions (None without
    any) and, per account among them, its row in the accounts the posterior is asked for."""

    decisions: _Decisions | None
    rows: NDArray[np.int64]


class RenewalChurnModel(EstimatorSettings):
    """Beta-logistic renewal churn model (see the module docstring for the math).

    Parameters
    ----------
    covariates:
        Names of the covariate columns (no constant: the Beta intercept plays that role).
        Empty gives the sBG.
    account:
        Column identifying the account a decision belongs to.
    nodes:
        Gauss–Jacobi quadrature nodes for the integral over ``theta``.
    penalizer:
        L2 penalty ``penalizer * sum(beta**2)`` on the mean negative log-likelihood; shrinks
        covariate effects towards zero (the sBG) when data are thin.
    max_iter, tol:
        Optimiser limits (L-BFGS-B).
    """

    def __init__(
        self,
        *,
        covariates: Sequence[str] = (),
        account: str = "account_id",
        nodes: int = 48,
        penalizer: float = 0.0,
        max_iter: int = 500,
        tol: float = 1e-9,
    ) -> None:
        self.covariates = covariates
        self.account = account
        self.nodes = nodes
        self.penalizer = penalizer
        self.max_iter = max_iter
        self.tol = tol

    # ------------------------------------------------------------------ validation

    def _validate(self, frame: object, *, need_churned: bool) -> pd.DataFrame:
        if not isinstance(frame, pd.DataFrame):
            raise DataValidationError(
                f"RenewalChurnModel: expected a pandas DataFrame, got {type(frame).__name__}"
            )
        needed = [self.account, *(["churned"] if need_churned else []), *self.covariates]
        missing = [c for c in needed if c not in frame.columns]
        if missing:
            raise DataValidationError(
                f"RenewalChurnModel: the decisions frame lacks column(s) {missing}; it needs "
                f"one row per renewal decision with {needed}",
                [Problem("decisions", None, c, None, "column missing") for c in missing],
            )
        problems = []
        for column in [*(["churned"] if need_churned else []), *self.covariates]:
            values = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)
            bad = ~np.isfinite(values)
            if column == "churned":
                bad |= ~np.isin(values, (0.0, 1.0))
            if bad.any():
                first = int(np.flatnonzero(bad)[0])
                problems.append(
                    Problem(
                        "decisions",
                        None,
                        column,
                        frame[column].iloc[first],
                        f"{int(bad.sum())} value(s) are not "
                        + ("0/1" if column == "churned" else "finite numbers")
                        + f"; first at index {frame.index[first]!r}",
                    )
                )
        if problems:
            raise DataValidationError("RenewalChurnModel: invalid decisions", problems)
        return frame

    # ------------------------------------------------------------------ likelihood

    def _log_terms(
        self, d: _Decisions, gamma: float, delta: float, beta: NDArray
    ) -> tuple[NDArray, NDArray, NDArray, NDArray]:
        """Per-account log-likelihood, per (account, node) log joint, node log-weights, p."""
        theta, log_w = _beta_nodes(gamma, delta, self.nodes)
        eta = np.log(theta)[None, :] - np.log1p(-theta)[None, :] + (d.x @ beta)[:, None]
        log_p = -np.logaddexp(0.0, -eta)
        # log q = log(1 - p) = log p - eta: one logaddexp over (decisions, nodes), not two
        per_decision = log_p - (1.0 - d.churned[:, None]) * eta
        per_account = np.add.reduceat(per_decision, d.starts, axis=0)  # (accounts, nodes)
        joint = per_account + log_w[None, :]
        return logsumexp(joint, axis=1), joint, log_w, np.exp(log_p)

    def _negloglik(
        self, u: NDArray, d: _Decisions, penalizer: float | None = None
    ) -> tuple[float, NDArray]:
        penalizer = self.penalizer if penalizer is None else penalizer
        k = len(self.covariates)
        gamma, delta, beta = float(np.exp(u[0])), float(np.exp(u[1])), u[2:]
        n = len(d.accounts)
        theta, log_w = _beta_nodes(gamma, delta, self.nodes)
        prior = np.exp(log_w)
        ll, joint, _log_w, p = self._log_terms(d, gamma, delta, beta)
        total = float(ll.sum())
        posterior = np.exp(joint - ll[:, None])  # (accounts, nodes), rows sum to one
        grad = np.zeros(2 + k)
        # Score identity: d/dgamma log E_Beta[f] = E_post[log theta] - (psi(gamma) - psi(g + d))
        # and likewise for delta with log(1 - theta); times gamma (delta) for the log scale.
        # log(theta) is singular at 0, where Gauss-Jacobi is inaccurate, so the singularity is
        # subtracted: f(0) (1 if the account never churned, else 0) times log(theta) has the
        # exact expectation f(0) (psi(gamma) - psi(gamma + delta)); likewise f(1) at theta = 1.
        common = digamma(gamma + delta)
        ratio = 1.0 / np.exp(ll)  # 1 / E_prior[f] per account
        for i, (log_x, at_edge, exact, scale) in enumerate(
            (
                (np.log(theta), d.never_churned, digamma(gamma) - common, gamma),
                (np.log1p(-theta), d.always_churned, digamma(delta) - common, delta),
            )
        ):
            quad_prior = float(prior @ log_x)
            score = posterior @ log_x - exact - at_edge * ratio * (quad_prior - exact)
            grad[i] = scale * float(score.sum())
        if k:
            residual = (posterior[d.group] * (d.churned[:, None] - p)).sum(axis=1)
            grad[2:] = residual @ d.x
        objective = -total / n + penalizer * float(beta @ beta)
        gradient = -grad / n
        gradient[2:] += 2 * penalizer * beta
        return objective, gradient

    # ------------------------------------------------------------------ fit

    def fit(self, frame: pd.DataFrame) -> Self:
        """Maximum-likelihood fit on one row per renewal decision; returns ``self``.

        Sets ``params_`` ({"gamma", "delta"}), ``coef_`` (beta by covariate),
        ``standard_errors_``, ``log_likelihood_`` and ``n_accounts_`` / ``n_decisions_``.
        """
        frame = self._validate(frame, need_churned=True)
        d = _Decisions(frame, self.account, self.covariates)
        if len(d.churned) == 0:
            raise DataValidationError("RenewalChurnModel: no renewal decisions to fit on")
        k = len(self.covariates)
        rate = float(np.clip(d.churned.mean(), 0.02, 0.9))
        start = np.r_[np.log(1.0), np.log((1.0 - rate) / rate), np.zeros(k)]
        bounds = [(-_LOG_BOUND, _LOG_BOUND)] * 2 + [(None, None)] * k
        from scipy.optimize import minimize  # here: 0.3-0.5 s of every command's start

        result = minimize(
            self._negloglik,
            start,
            args=(d,),
            jac=True,
            method="L-BFGS-B",
            bounds=bounds,
            options={"maxiter": self.max_iter, "ftol": self.tol * 1e-3, "gtol": self.tol},
        )
        if not np.all(np.isfinite(result.x)) or np.any(np.abs(result.x[:2]) >= _LOG_BOUND - 1e-6):
            raise ConvergenceError(
                "RenewalChurnModel: no interior maximum (the heterogeneity runs off to a bound); "
                "there may be too few renewal decisions or no churn at all — "
                f"{len(d.churned)} decisions, {int(d.churned.sum())} churns"
            )
        self._u = result.x
        self.params_ = {"gamma": float(np.exp(result.x[0])), "delta": float(np.exp(result.x[1]))}
        self.coef_ = pd.Series(result.x[2:], index=list(self.covariates), name="coef", dtype=float)
        ll, *_ = self._log_terms(d, self.params_["gamma"], self.params_["delta"], result.x[2:])
        self.log_likelihood_ = float(ll.sum())
        self.n_accounts_ = len(d.accounts)
        self.n_decisions_ = len(d.churned)
        self.standard_errors_ = self._standard_errors(d)
        return self

    def _standard_errors(self, d: _Decisions) -> pd.Series:
        """From the observed information: finite differences of the gradient, natural scale."""
        u = self._u
        n = len(d.accounts)
        size = len(u)
        hessian = np.empty((size, size))
        for i in range(size):
            step = 1e-4 * max(1.0, abs(u[i]))
            up, down = u.copy(), u.copy()
            up[i] += step
            down[i] -= step
            change = self._negloglik(up, d, 0.0)[1] - self._negloglik(down, d, 0.0)[1]
            hessian[:, i] = change * n / (2 * step)
        hessian = (hessian + hessian.T) / 2
        names = ["gamma", "delta", *self.covariates]
        try:
            cov = np.linalg.inv(hessian)
        except np.linalg.LinAlgError:
            self.covariance_ = pd.DataFrame(np.nan, index=names, columns=names)
            return pd.Series(np.nan, index=names, name="se")
        jac = np.r_[np.exp(u[:2]), np.ones(size - 2)]  # delta method for the log parameters
        cov = (cov + cov.T) / 2
        # asymptotic covariance of (gamma, delta, beta), natural scale (delta method)
        self.covariance_ = pd.DataFrame(cov * np.outer(jac, jac), index=names, columns=names)
        variances = np.diag(cov) * jac**2
        return pd.Series(np.sqrt(np.clip(variances, 0.0, None)), index=names, name="se")

    # ------------------------------------------------------------------ predictions

    def _check_fitted(self) -> None:
        if not hasattr(self, "params_"):
            raise NotFittedError("RenewalChurnModel is not fitted yet: call fit() first")

    def _posterior_log_weights(self, accounts: pd.Index, history: pd.DataFrame | None) -> NDArray:
        """log posterior weight of each node for each account given its past decisions."""
        return self.posterior_log_weights(accounts, history)[0]

    def posterior_log_weights(
        self,
        accounts: pd.Index,
        history: pd.DataFrame | History | None,
        *,
        gamma: float | None = None,
        delta: float | None = None,
        beta: NDArray | None = None,
    ) -> tuple[NDArray, NDArray]:
        """Quadrature nodes ``theta`` and, per account, the log posterior weight of each node
        given its past decisions (prior weights without history): ``(log_w[accounts, nodes],
        theta[nodes])``. The parameters default to the fitted ones (others serve bootstraps).
        ``history`` may be given as :meth:`history` of the same ``accounts``, which a bootstrap
        evaluating many parameter draws prepares once."""
        self._check_fitted()
        gamma = self.params_["gamma"] if gamma is None else gamma
        delta = self.params_["delta"] if delta is None else delta
        beta = self.coef_.to_numpy() if beta is None else np.asarray(beta, dtype=float)
        theta, log_w = _beta_nodes(gamma, delta, self.nodes)
        out = np.tile(log_w, (len(accounts), 1))
        prepared = history if isinstance(history, History) else self.history(accounts, history)
        if prepared.decisions is not None:
            d = prepared.decisions
            per_decision = _decision_log_terms(
                np.log(theta) - np.log1p(-theta), d.x @ beta, d.churned
            )
            joint = np.add.reduceat(per_decision, d.starts, axis=0) + log_w[None, :]
            out[prepared.rows] = joint - logsumexp(joint, axis=1, keepdims=True)
        return out, theta

    def history(self, accounts: pd.Index, history: pd.DataFrame | None) -> History:
        """The past decisions of ``accounts`` (validated and sorted once) and the row of
        ``accounts`` each of their accounts takes, for :meth:`posterior_log_weights`."""
        if history is not None and len(history):
            history = history[history[self.account].isin(accounts)]
        if history is None or not len(history):
            return History(None, np.zeros(0, dtype=np.int64))
        history = self._validate(history, need_churned=True)
        d = _Decisions(history, self.account, self.covariates)
        return History(d, accounts.get_indexer(d.accounts))

    def churn_probability(
        self, current: pd.DataFrame, history: pd.DataFrame | None = None
    ) -> pd.Series:
        """P(churn at the next renewal) per row of ``current`` (account and covariates as of now).

        ``history`` (past decisions with ``churned``) updates each account's churn propensity:
        the result is ``E[p(theta, x) | history]`` under the posterior of ``theta``.
        """
        return self.survival(current, 1, history).rsub(1.0).rename("churn_probability")

    def predict_proba(
        self, current: pd.DataFrame, history: pd.DataFrame | None = None
    ) -> pd.Series:
        """The estimator contract's name for :meth:`churn_probability`."""
        return self.churn_probability(current, history)

    def survival(
        self, current: pd.DataFrame, renewals: int, history: pd.DataFrame | None = None
    ) -> pd.Series:
        """P(the account renews ``renewals`` more times in a row), covariates held as now."""
        self._check_fitted()
        current = self._validate(current, need_churned=False)
        accounts = pd.Index(current[self.account].unique())
        log_post = self._posterior_log_weights(accounts, history)
        rows = accounts.get_indexer(current[self.account])
        theta, _ = _beta_nodes(self.params_["gamma"], self.params_["delta"], self.nodes)
        x = current[list(self.covariates)].to_numpy(dtype=float).reshape(len(current), -1)
        eta = (
            np.log(theta)[None, :]
            - np.log1p(-theta)[None, :]
            + (x @ self.coef_.to_numpy())[:, None]
        )
        log_stay = -np.logaddexp(0.0, eta) * renewals
        values = np.exp(logsumexp(log_post[rows] + log_stay, axis=1))
        return pd.Series(values, index=current.index, name="survival")

    def expected_renewals(
        self,
        current: pd.DataFrame,
        history: pd.DataFrame | None = None,
        *,
        discount: float = 0.0,
        max_renewals: int = 200,
    ) -> pd.Series:
        """Discounted expected number of further terms: ``sum_{n>=1} S(n) / (1 + discount)^n``.

        ``discount`` is the discount rate per contract term (e.g. 0.08 for annual terms at 8%
        a year). Multiply by the value of one term to get the residual value (cf. DERL).
        """
        self._check_fitted()
        current = self._validate(current, need_churned=False)
        accounts = pd.Index(current[self.account].unique())
        log_post = self._posterior_log_weights(accounts, history)
        rows = accounts.get_indexer(current[self.account])
        theta, _ = _beta_nodes(self.params_["gamma"], self.params_["delta"], self.nodes)
        x = current[list(self.covariates)].to_numpy(dtype=float).reshape(len(current), -1)
        stay = expit(
            -(
                np.log(theta)[None, :]
                - np.log1p(-theta)[None, :]
                + (x @ self.coef_.to_numpy())[:, None]
            )
        )
        factor = stay / (1.0 + discount)
        # sum_{n=1..N} f^n = f (1 - f^N) / (1 - f), per node, then averaged over the posterior
        geometric = np.where(
            factor < 1.0 - 1e-12,
            factor * (1.0 - factor**max_renewals) / np.clip(1.0 - factor, 1e-12, None),
            float(max_renewals),
        )
        values = (np.exp(log_post[rows]) * geometric).sum(axis=1)
        return pd.Series(values, index=current.index, name="expected_renewals")

    def summary(self) -> pd.DataFrame:
        """Estimates with standard errors and z-scores (beta) in the natural parametrisation."""
        self._check_fitted()
        estimates = pd.Series({**self.params_, **self.coef_.to_dict()}, name="estimate")
        table = pd.concat([estimates, self.standard_errors_.rename("se")], axis=1)
        table["z"] = table["estimate"] / table["se"]
        table.loc[["gamma", "delta"], "z"] = np.nan
        return table
