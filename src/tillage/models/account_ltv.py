r"""Account lifetime value: contractual retention + repeat purchasing, margin, cost to serve.

For account *i*, months ``t = 1 … H`` after the as-of date (``H`` = ``horizon_months``) and the
monthly discount factor :math:`v_t = (1 + d)^{-t/12}` (``d`` = annual ``discount_rate``):

.. math::

   \mathrm{LTV}_i = \sum_{t=1}^{H} v_t \Big[ m^c_i\, \mathrm{MRR}_i\, S^c_i(t)
        + m^o_i\, E[Z_i]\, \big(C_i(t) - C_i(t-1)\big)
        - h_i\, w_i\, A_i(t) \Big]

* **Contracts** (:class:`~tillage.models.renewal_churn.RenewalChurnModel`): the current MRR
  continues to the next renewal (``months_to_renewal``), then the account survives renewal by
  renewal, every ``term_months``: :math:`S^c_i(t) = E[(1 - p_i(\theta))^{k_i(t)} \mid
  \text{history}]`, ``k(t)`` = renewals due by the middle of month ``t``, the expectation over
  the account's posterior of its churn propensity θ, covariates held at their current values.
* **Orders** (BG/NBD, Fader, Hardie & Lee 2005, with parameters ``r, alpha, a, b``; spend per
  order by Gamma-Gamma, ``p, q, v``): given alive, ``λ | x ~ Gamma(r + x, α + T)`` and
  ``p | x ~ Beta(a, b + x)``, independent; the probability to be still alive after ``s`` more
  periods is :math:`E_p[(1 + p s/(α + T))^{-(r + x)}]` and the expected purchases
  :math:`C(s) = P(\text{alive})\, E_p[(1 - (1 + p s/(α + T))^{-(r + x)}) / p]` (the integral of
  ``λ e^{-λ p u}``), both by Gauss–Jacobi quadrature over ``p``. ``E[Z]`` is the Gamma-Gamma
  conditional mean spend.
* **Margin**: ``m^c`` and ``m^o`` are margin rates (columns ``contract_margin_rate`` and
  ``order_margin_rate``, e.g. from product families; default ``margin_rate``).
* **Cost to serve**: ``h`` rep hours per month (``service_hours_per_month``, from recent
  activity durations) × ``w`` the hourly cost, for as long as the account stays:
  :math:`A(t) = 1 - (1 - S^c(t))(1 - S^o(t))` (either relationship alive, taken independent).

Acquisition cost is not subtracted; where known it is reported beside the LTV (LTV/CAC and the
payback month, when the cumulative discounted margin minus cost to serve first reaches it).

**Intervals** come from a parametric bootstrap over the fitted parameters' sampling
distribution: ``n_draws`` parameter vectors are drawn from the asymptotic normal law of the
maximum-likelihood estimates (log scale for the positive parameters, inverse observed
information as covariance — the Laplace approximation of each model), the LTV is recomputed
for every draw, and the interval is the central ``interval`` share of the draws. It describes
the uncertainty of the *expected* LTV due to estimation, not the spread of one account's
realised value (an account renews or not). Drawing is preferred to a delta-method interval
because the LTV is strongly non-linear in the parameters (powers of survival, hypergeometric
tails) and must stay on the right side of zero; refitting on resampled accounts would cost
``n_draws`` fits.

Accounts with no history at all (no contract, no order, no renewal decision) get the
**cohort average**: the mean LTV of the accounts of their ``segment`` (if given) with a
tenure of at most ``cohort_months``, marked ``ltv_source = "cohort"``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Self

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy.special import expit, roots_genlaguerre, roots_jacobi

from tillage.errors import DataValidationError, NotFittedError
from tillage.models.beta_geo import BetaGeoModel
from tillage.models.gamma_gamma import GammaGammaModel
from tillage.models.renewal_churn import RenewalChurnModel

__all__ = ["DEFAULT_COVARIATES", "AccountLTV"]

DEFAULT_COVARIATES: tuple[str, ...] = (
    "usage_decline",
    "unresolved_tickets",
    "detractor",
    "silence",
    "single_threaded",
    "monthly_term",
)
DAYS_PER_MONTH = 30.4375
_P_NODES = 16
_MIN_BUYERS = 20


def _num(frame: pd.DataFrame, column: str, default: float) -> NDArray[np.float64]:
    if column not in frame.columns:
        return np.full(len(frame), default, dtype=float)
    values = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)
    return np.where(np.isfinite(values), values, default)


class AccountLTV:
    """Per-account LTV with intervals (see the module docstring for the formula).

    Parameters
    ----------
    horizon_months:
        Months after the as-of date that the LTV covers.
    discount_rate:
        Annual discount rate, applied monthly as ``(1 + d) ** (-t / 12)``.
    margin_rate:
        Margin rate used when a frame has no ``contract_margin_rate`` / ``order_margin_rate``.
        0.6 is a typical blended gross margin of software with services.
    hourly_cost:
        Cost of one rep hour when the frame has no ``hourly_cost`` column (currency).
    covariates:
        Renewal covariate columns of the churn model.
    period_days:
        Length of the RFM time unit (7: ``frequency``, ``recency``, ``T`` in weeks).
    churn_penalizer, purchase_penalizer:
        L2 penalties of the churn and BG/NBD fits (shrinkage when data are thin).
    n_draws, interval, random_state:
        Parametric bootstrap: number of parameter draws, central coverage of the interval and
        the seed.
    cohort_months:
        Tenure (months) of the accounts whose mean LTV stands in for accounts without history.
    """

    def __init__(
        self,
        *,
        horizon_months: int = 60,
        discount_rate: float = 0.08,
        margin_rate: float = 0.6,
        hourly_cost: float = 6000.0,
        covariates: Sequence[str] = DEFAULT_COVARIATES,
        period_days: float = 7.0,
        churn_penalizer: float = 0.0,
        purchase_penalizer: float = 0.0,
        n_draws: int = 200,
        interval: float = 0.9,
        random_state: int = 0,
        cohort_months: float = 12.0,
    ) -> None:
        self.horizon_months = horizon_months
        self.discount_rate = discount_rate
        self.margin_rate = margin_rate
        self.hourly_cost = hourly_cost
        self.covariates = covariates
        self.period_days = period_days
        self.churn_penalizer = churn_penalizer
        self.purchase_penalizer = purchase_penalizer
        self.n_draws = n_draws
        self.interval = interval
        self.random_state = random_state
        self.cohort_months = cohort_months

    # ------------------------------------------------------------------ fit

    def _check_settings(self) -> None:
        if int(self.horizon_months) != self.horizon_months or self.horizon_months < 1:
            raise DataValidationError(
                f"AccountLTV: horizon_months must be a whole number >= 1, got "
                f"{self.horizon_months!r}"
            )
        if self.discount_rate <= -1:
            raise DataValidationError("AccountLTV: discount_rate must be above -100 %")
        if not 0 < self.interval < 1:
            raise DataValidationError("AccountLTV: interval must lie in (0, 1), e.g. 0.9")

    @staticmethod
    def _frame(frame: object) -> pd.DataFrame:
        if not isinstance(frame, pd.DataFrame):
            raise DataValidationError(
                f"AccountLTV: expected a pandas DataFrame of accounts, got {type(frame).__name__}"
            )
        if "account_id" not in frame.columns:
            raise DataValidationError(
                "AccountLTV: the accounts frame needs an 'account_id' column (one row per account)"
            )
        if frame["account_id"].duplicated().any():
            raise DataValidationError("AccountLTV: 'account_id' repeats; give one row per account")
        return frame.reset_index(drop=True)

    @staticmethod
    def _buyers(frame: pd.DataFrame) -> pd.DataFrame:
        cols = ["frequency", "recency", "T"]
        if not set(cols) <= set(frame.columns):
            return frame.iloc[:0]
        ok = frame[cols].notna().all(axis=1) & (pd.to_numeric(frame["T"], errors="coerce") > 0)
        return frame[ok]

    def fit(self, accounts: pd.DataFrame, decisions: pd.DataFrame | None = None) -> Self:
        """Fit the component models; returns ``self``.

        ``accounts`` has one row per account: ``account_id`` and, for buyers, the RFM columns
        ``frequency``, ``recency``, ``T`` (``period_days`` units) and ``monetary_value``
        (others NaN). ``decisions`` has one row per past renewal decision (``account_id``,
        ``churned`` and the covariates); it is also each account's history at prediction.
        Sets ``churn_model_``, ``purchase_model_``, ``spend_model_`` (each None when there is
        nothing to fit it on) and ``cohort_ltv_``.
        """
        self._check_settings()
        accounts = self._frame(accounts)
        self.churn_model_: RenewalChurnModel | None = None
        self.history_ = None
        if decisions is not None and len(decisions):
            self.churn_model_ = RenewalChurnModel(
                covariates=list(self.covariates), penalizer=self.churn_penalizer
            ).fit(decisions)
            self.history_ = decisions
        buyers = self._buyers(accounts)
        self.purchase_model_: BetaGeoModel | None = None
        self.__dict__.pop("_node_cache", None)
        self.spend_model_: GammaGammaModel | None = None
        if len(buyers) >= _MIN_BUYERS and (buyers["frequency"] > 0).sum() >= _MIN_BUYERS:
            rfm = buyers[["frequency", "recency", "T"]].astype(float)
            self.purchase_model_ = BetaGeoModel(penalizer=self.purchase_penalizer).fit(rfm)
            repeat = buyers[(buyers["frequency"] > 0) & (buyers["monetary_value"] > 0)]
            if len(repeat) >= _MIN_BUYERS:
                self.spend_model_ = GammaGammaModel().fit(
                    repeat[["frequency", "monetary_value"]].astype(float)
                )
        self.n_accounts_ = len(accounts)
        self.cohort_ltv_ = pd.Series(dtype=float)  # filled by the first predict on the fit frame
        point = self._evaluate(accounts, self._point_params(), self._history(None))
        self.cohort_ltv_ = self._cohorts(accounts, point["ltv"])
        return self

    # ------------------------------------------------------------------ parameters

    def _check_fitted(self) -> None:
        if not hasattr(self, "n_accounts_"):
            raise NotFittedError("AccountLTV is not fitted yet: call fit(accounts, decisions)")

    def _point_params(self) -> dict[str, NDArray[np.float64] | None]:
        out: dict[str, NDArray[np.float64] | None] = {"churn": None, "bg": None, "gg": None}
        if self.churn_model_ is not None:
            m = self.churn_model_
            out["churn"] = np.r_[m.params_["gamma"], m.params_["delta"], m.coef_.to_numpy()]
        if self.purchase_model_ is not None:
            out["bg"] = np.array(
                [self.purchase_model_.params_[k] for k in ("r", "alpha", "a", "b")]
            )
        if self.spend_model_ is not None:
            out["gg"] = np.array([self.spend_model_.params_[k] for k in ("p", "q", "v")])
        return out

    def _draws(self) -> list[dict[str, NDArray[np.float64] | None]]:
        """Parameter vectors from the estimates' asymptotic normal law (log scale if > 0)."""
        rng = np.random.default_rng(self.random_state)
        point = self._point_params()
        samples: dict[str, NDArray[np.float64] | None] = {}
        models = {"churn": self.churn_model_, "bg": self.purchase_model_, "gg": self.spend_model_}
        for key, model in models.items():
            value = point[key]
            if value is None or model is None:
                samples[key] = None
                continue
            cov = np.asarray(model.covariance_, dtype=float)
            positive = np.ones(len(value), dtype=bool)
            if key == "churn":
                positive[2:] = False  # beta is on the real line
            scale = np.where(positive, value, 1.0)
            centre = np.where(positive, np.log(np.where(positive, value, 1.0)), value)
            cov_u = cov / np.outer(scale, scale)
            if not np.all(np.isfinite(cov_u)):
                samples[key] = np.tile(value, (self.n_draws, 1))
                continue
            # symmetric square root, negative eigenvalues (numerical noise) set to zero
            values, vectors = np.linalg.eigh((cov_u + cov_u.T) / 2.0)
            root = vectors * np.sqrt(np.clip(values, 0.0, None))
            u = centre + rng.standard_normal((self.n_draws, len(centre))) @ root.T
            samples[key] = np.where(positive, np.exp(u), u)
        return [
            {k: (None if v is None else v[i]) for k, v in samples.items()}
            for i in range(self.n_draws)
        ]

    # ------------------------------------------------------------------ components

    def _history(self, history: pd.DataFrame | None) -> pd.DataFrame | None:
        return self.history_ if history is None else history

    def _months(self) -> NDArray[np.float64]:
        return np.arange(1, int(self.horizon_months) + 1, dtype=float)

    def _contract_survival(
        self,
        frame: pd.DataFrame,
        params: NDArray[np.float64] | None,
        history: pd.DataFrame | None,
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """S^c(t) per account and month (0 without an active contract), P(churn at next)."""
        n, months = len(frame), self._months()
        survival = np.zeros((n, len(months)))
        churn = np.full(n, np.nan)
        mrr = _num(frame, "mrr", 0.0)
        holders = np.flatnonzero(mrr > 0)
        model = self.churn_model_
        if params is None or model is None or not len(holders):
            return survival, churn
        gamma, delta, beta = float(params[0]), float(params[1]), params[2:]
        sub = frame.iloc[holders]
        x = np.column_stack([_num(sub, c, 0.0) for c in self.covariates]).reshape(len(sub), -1)
        current = pd.DataFrame(x, columns=list(self.covariates))
        current[model.account] = sub["account_id"].to_numpy()
        log_post, theta = model.posterior_log_weights(
            pd.Index(current[model.account]), history, gamma=gamma, delta=delta, beta=beta
        )
        eta = np.log(theta)[None, :] - np.log1p(-theta)[None, :] + (x @ beta)[:, None]
        log_stay = -np.logaddexp(0.0, eta)  # (holders, nodes)
        to_renewal = np.clip(_num(sub, "months_to_renewal", 0.0), 0.0, None)
        term = np.clip(_num(sub, "term_months", 12.0), 1.0, None)
        # renewals due by the middle of month t
        due = np.floor((months[None, :] - 0.5 - to_renewal[:, None]) / term[:, None]) + 1.0
        due = np.clip(due, 0.0, None)
        kmax = int(due.max()) if due.size else 0
        weights = np.exp(log_post)
        counts = np.arange(kmax + 2, dtype=float)
        s_k = np.einsum("ij,ijk->ik", weights, np.exp(log_stay[:, :, None] * counts))
        survival[holders] = np.take_along_axis(s_k, due.astype(np.int64), axis=1)
        churn[holders] = 1.0 - s_k[:, 1]
        return survival, churn

    def _order_paths(
        self, frame: pd.DataFrame, params: NDArray[np.float64] | None
    ) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
        """Cumulative expected purchases C(t), alive probability S^o(t), P(alive now)."""
        n, months = len(frame), self._months()
        cumulative = np.zeros((n, len(months)))
        alive = np.zeros((n, len(months)))
        alive_now = np.zeros(n)
        self._p_buy = np.full(n, np.nan)
        if params is None:
            return cumulative, alive, alive_now
        r, alpha, a, b = map(float, params)
        x_all = _num(frame, "frequency", np.nan)
        tx_all = _num(frame, "recency", np.nan)
        t_all = _num(frame, "T", np.nan)
        ok = np.flatnonzero(np.isfinite(x_all) & np.isfinite(tx_all) & (t_all > 0))
        if not len(ok):
            return cumulative, alive, alive_now
        x, tx, big_t = x_all[ok], tx_all[ok], t_all[ok]
        pos = x > 0
        bx1 = np.where(pos, b + x - 1.0, 1.0)
        log_odds = np.log(a) - np.log(bx1) + (r + x) * (np.log(alpha + big_t) - np.log(alpha + tx))
        p_alive = np.where(pos, expit(-log_odds), 1.0)
        s = months * DAYS_PER_MONTH / self.period_days  # periods
        values, inverse = np.unique(x, return_inverse=True)
        nodes = [self._p_nodes(float(v)) for v in values]
        p = np.stack([node[0] for node in nodes])[inverse]  # (accounts, nodes)
        log_w = np.stack([node[1] for node in nodes])[inverse]
        # nodes of the point estimate's Beta(a0, b0 + x), reweighted to Beta(a, b + x)
        a0, b0 = self._ab
        log_w = log_w + (a - a0) * np.log(p) + (b - b0) * np.log1p(-p)
        w = np.exp(log_w - log_w.max(axis=1, keepdims=True))
        w = w / w.sum(axis=1, keepdims=True)
        ratio = p[:, :, None] * s[None, None, :] / (alpha + big_t)[:, None, None]
        log_stay = -(r + x)[:, None, None] * np.log1p(ratio)  # (accounts, nodes, months)
        surv = np.einsum("ij,ijk->ik", w, np.exp(log_stay))
        # (1 - stay) / p, whose limit is (r + x) s / (alpha + T) as p -> 0
        cum = np.einsum("ij,ijk->ik", w / p, -np.expm1(log_stay))
        cumulative[ok] = cum * p_alive[:, None]
        alive[ok] = surv * p_alive[:, None]
        alive_now[ok] = p_alive
        # P(a purchase in the horizon) = P(alive) (1 - E[exp(-lambda s)]), lambda | alive as above
        self._p_buy = np.full(n, np.nan)
        self._p_buy[ok] = p_alive * -np.expm1(-(r + x) * np.log1p(s[-1] / (alpha + big_t)))
        return cumulative, alive, alive_now

    @property
    def _ab(self) -> tuple[float, float]:
        params = self.purchase_model_.params_  # type: ignore[union-attr]
        return float(params["a"]), float(params["b"])

    def _p_nodes(self, x: float) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Gauss–Jacobi nodes and log-weights for p ~ Beta(a0, b0 + x) at the point estimate
        (cached: the bootstrap draws reweight them instead of recomputing)."""
        cache = self.__dict__.setdefault("_node_cache", {})
        if x not in cache:
            a0, b0 = self._ab
            if b0 + x < 500:
                z, w = roots_jacobi(_P_NODES, b0 + x - 1.0, a0 - 1.0)
                p = (1.0 + z) / 2.0
            else:  # Beta(a, B) with B large is Gamma(a, rate B) to O(1/B): Gauss-Laguerre
                y, w = roots_genlaguerre(_P_NODES, a0 - 1.0)
                p = y / (b0 + x)
            p = np.clip(p, 1e-300, 1.0 - 1e-16)
            cache[x] = (p, np.log(np.clip(w, 1e-300, None)) - np.log(w.sum()))
        return cache[x]

    def _spend(self, frame: pd.DataFrame, params: NDArray[np.float64] | None) -> NDArray:
        x = _num(frame, "frequency", 0.0)
        m = _num(frame, "monetary_value", 0.0)
        if params is None:
            # no spend model: the account's own mean, else the mean over repeat buyers
            fallback = float(np.mean(m[x > 0])) if (x > 0).any() else 0.0
            return np.where(x > 0, m, fallback)
        p, q, v = map(float, params)
        denominator = p * x + q - 1.0
        if q <= 1.0:
            return np.where(x > 0, m, 0.0)
        return p * (v + x * m) / np.where(denominator > 0, denominator, 1.0)

    def _evaluate(
        self,
        frame: pd.DataFrame,
        params: dict[str, NDArray[np.float64] | None],
        history: pd.DataFrame | None,
        *,
        full: bool = True,
    ) -> dict[str, NDArray[np.float64]]:
        months = self._months()
        discount = (1.0 + self.discount_rate) ** (-months / 12.0)
        s_contract, churn = self._contract_survival(frame, params["churn"], history)
        cumulative, s_orders, alive_now = self._order_paths(frame, params["bg"])
        spend = self._spend(frame, params["gg"])
        mrr = np.clip(_num(frame, "mrr", 0.0), 0.0, None)
        m_c = _num(frame, "contract_margin_rate", self.margin_rate)
        m_o = _num(frame, "order_margin_rate", self.margin_rate)
        hours = np.clip(_num(frame, "service_hours_per_month", 0.0), 0.0, None)
        wage = _num(frame, "hourly_cost", self.hourly_cost)
        per_month_orders = np.diff(np.c_[np.zeros(len(frame)), cumulative], axis=1)
        contract_rev = mrr[:, None] * s_contract
        order_rev = spend[:, None] * per_month_orders
        active = 1.0 - (1.0 - s_contract) * (1.0 - s_orders)
        margin = m_c[:, None] * contract_rev + m_o[:, None] * order_rev
        cost = (hours * wage)[:, None] * active
        net_pv = (margin - cost) * discount[None, :]
        out = {"ltv": net_pv.sum(axis=1)}
        if not full:
            return out
        holder = mrr > 0
        out.update(
            churn_risk=churn,
            p_churn_horizon=np.where(holder, 1.0 - s_contract[:, -1], np.nan),
            p_order_in_horizon=self._p_buy.copy(),
            p_alive_orders=alive_now,
            p_active=1.0 - (1.0 - (mrr > 0)) * (1.0 - alive_now),
            expected_lifetime_months=active.sum(axis=1),
            expected_orders=cumulative[:, -1],
            expected_contract_revenue=contract_rev.sum(axis=1),
            expected_order_revenue=order_rev.sum(axis=1),
            expected_margin=margin.sum(axis=1),
            margin_pv=(margin * discount[None, :]).sum(axis=1),
            cost_to_serve_pv=(cost * discount[None, :]).sum(axis=1),
            cumulative_net_pv=np.cumsum(net_pv, axis=1),
            active=active,
        )
        return out

    def _cohorts(self, frame: pd.DataFrame, ltv: NDArray[np.float64]) -> pd.Series:
        tenure = _num(frame, "tenure_months", math.inf)
        has = self._has_history(frame)
        new = has & (tenure <= self.cohort_months)
        if not new.any():
            new = has
        segment = (
            frame["segment"].astype(str).to_numpy()
            if "segment" in frame.columns
            else np.full(len(frame), "all")
        )
        table = pd.Series(ltv[new]).groupby(segment[new]).mean()
        table.loc["all"] = float(np.mean(ltv[new])) if new.any() else 0.0
        return table.rename("cohort_ltv")

    def _has_history(self, frame: pd.DataFrame) -> NDArray[np.bool_]:
        has = (_num(frame, "mrr", 0.0) > 0) | np.isfinite(_num(frame, "T", np.nan))
        if self.history_ is not None and len(self.history_):
            has |= frame["account_id"].isin(self.history_["account_id"]).to_numpy()
        return has

    # ------------------------------------------------------------------ predict

    def predict(self, accounts: pd.DataFrame, history: pd.DataFrame | None = None) -> pd.DataFrame:
        """Per-account value, indexed by ``account_id``. Amounts in the currency of ``mrr`` and
        ``monetary_value``; *expected* sums are undiscounted over the horizon, *_pv* discounted.

        Columns: ``ltv`` (discounted margin − cost to serve), ``ltv_low`` / ``ltv_high`` (the
        bootstrap interval), ``ltv_source`` ("account" or "cohort"), ``churn_risk`` (P(churn at
        the next renewal); NaN without an active contract), ``p_churn_horizon`` (P(no contract
        left at the end of the horizon), for contract holders), ``p_order_in_horizon`` (P(at
        least one order in the horizon), for buyers), ``p_alive`` (P(the account is a
        customer now): 1 with an active contract, else the BG/NBD P(alive)),
        ``expected_lifetime_months`` (expected months as a customer within the horizon),
        ``expected_orders``, ``expected_contract_revenue``, ``expected_order_revenue``,
        ``expected_revenue``, ``expected_margin``, ``margin_pv``, ``cost_to_serve_pv``,
        ``acquisition_cost``, ``ltv_to_cac`` and ``payback_months`` (first month whose cumulative
        discounted margin − cost to serve reaches the acquisition cost; NaN if none within the
        horizon or unknown CAC).
        """
        self._check_fitted()
        frame = self._frame(accounts)
        history = self._history(history)
        point = self._evaluate(frame, self._point_params(), history)
        draws = np.array(
            [self._evaluate(frame, p, history, full=False)["ltv"] for p in self._draws()]
        )
        tail = (1.0 - self.interval) / 2.0
        if len(draws):
            low, high = np.quantile(draws, [tail, 1.0 - tail], axis=0)
        else:
            low = high = point["ltv"]
        ltv = point["ltv"].copy()
        source = np.full(len(frame), "account", dtype=object)
        thin = ~self._has_history(frame)
        if thin.any():
            segment = (
                frame["segment"].astype(str).to_numpy()
                if "segment" in frame.columns
                else np.full(len(frame), "all")
            )
            fill = (
                pd.Series(segment[thin])
                .map(self.cohort_ltv_)
                .fillna(self.cohort_ltv_.get("all", 0.0))
            )
            ltv[thin] = low[thin] = high[thin] = fill.to_numpy()
            source[thin] = "cohort"
        low, high = np.minimum(low, ltv), np.maximum(high, ltv)
        cac = _num(frame, "acquisition_cost", np.nan)
        reached = point["cumulative_net_pv"] >= cac[:, None]
        payback = np.where(reached.any(axis=1), reached.argmax(axis=1) + 1.0, np.nan)
        payback = np.where(np.isfinite(cac) & (cac > 0), payback, np.nan)
        out = pd.DataFrame(
            {
                "ltv": ltv,
                "ltv_low": low,
                "ltv_high": high,
                "ltv_source": source,
                "churn_risk": point["churn_risk"],
                "p_churn_horizon": point["p_churn_horizon"],
                "p_order_in_horizon": point["p_order_in_horizon"],
                "p_alive": point["p_active"],
                "expected_lifetime_months": point["expected_lifetime_months"],
                "expected_orders": point["expected_orders"],
                "expected_contract_revenue": point["expected_contract_revenue"],
                "expected_order_revenue": point["expected_order_revenue"],
                "expected_revenue": point["expected_contract_revenue"]
                + point["expected_order_revenue"],
                "expected_margin": point["expected_margin"],
                "margin_pv": point["margin_pv"],
                "cost_to_serve_pv": point["cost_to_serve_pv"],
                "acquisition_cost": cac,
                "ltv_to_cac": np.where(cac > 0, ltv / np.where(cac > 0, cac, 1.0), np.nan),
                "payback_months": payback,
            },
            index=pd.Index(frame["account_id"].to_numpy(), name="account_id"),
        )
        return out

    def survival_curve(
        self, accounts: pd.DataFrame, history: pd.DataFrame | None = None
    ) -> pd.DataFrame:
        """P(still a customer at the end of month t), accounts × months 1 … horizon."""
        self._check_fitted()
        frame = self._frame(accounts)
        point = self._evaluate(frame, self._point_params(), self._history(history))
        return pd.DataFrame(
            point["active"],
            index=pd.Index(frame["account_id"].to_numpy(), name="account_id"),
            columns=pd.Index(self._months().astype(int), name="month"),
        )

    def params(self) -> dict[str, object]:
        """Fitted parameters and settings, JSON-able, for the snapshot record."""
        self._check_fitted()
        out: dict[str, object] = {
            "horizon_months": int(self.horizon_months),
            "discount_rate": self.discount_rate,
            "margin_rate": self.margin_rate,
            "n_draws": self.n_draws,
            "interval": self.interval,
        }
        if self.churn_model_ is not None:
            out["renewal_churn"] = {
                **self.churn_model_.params_,
                **{k: float(v) for k, v in self.churn_model_.coef_.items()},
            }
        if self.purchase_model_ is not None:
            out["bg_nbd"] = dict(self.purchase_model_.params_)
        if self.spend_model_ is not None:
            out["gamma_gamma"] = dict(self.spend_model_.params_)
        return out
