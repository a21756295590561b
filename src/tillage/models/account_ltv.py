r"""Account lifetime value: contractual retention + repeat purchasing, margin, cost to serve.

For account *i*, months ``t = 1 … H`` after the as-of date (``H`` = ``horizon_months``) and the
monthly discount factor :math:`v_t = (1 + d)^{-t/12}` (``d`` = annual ``discount_rate``):

.. math::

   \mathrm{LTV}_i = \sum_{t=1}^{H} v_t \Big[ m^c_i\, R^c_i(t)
        + m^o_i\, E[Z_i]\, \big(C_i(t) - C_i(t-1)\big)
        - h_i\, w_i\, A_i(t) \Big]

* **Contracts** (:mod:`tillage.models.ltv.contracts`): ``R^c(t)`` is the expected recurring
  revenue of month ``t`` — the MRR to the end of the current term, then renewal by renewal with
  the posterior survival of :class:`~tillage.models.renewal_churn.RenewalChurnModel`, the
  amount growing by the segment's observed uplift at each renewal; a fixed-term contract (with
  probability ``p_fixed_term``) simply ends. ``S^c(t)`` = P(a contract still runs).
* **Orders** (:mod:`tillage.models.ltv.orders`): ``C(t)`` expected purchases by BG/NBD given
  the account's frequency, recency and age; ``E[Z]`` the Gamma-Gamma mean spend per order;
  ``S^o(t)`` the probability to be still alive.
* **Margin** (:mod:`tillage.models.ltv.margins`): ``m^c``, ``m^o`` revenue-weighted margin
  rates of the account's product families (``margin_by_family``), or observed rates.
* **Cost to serve**: ``h`` rep hours per month (``service_hours_per_month``) × ``w`` the hourly
  cost, for as long as the account stays: :math:`A(t) = 1 - (1 - S^c(t))(1 - S^o(t))` (either
  relationship alive, taken independent).

Acquisition cost is not subtracted; where known it is reported beside the LTV (LTV/CAC and the
payback month, when the cumulative discounted margin minus cost to serve first reaches it).
The interval is a parametric bootstrap (:mod:`tillage.models.ltv.interval`). Accounts with no
history at all (no contract, no order, no renewal decision) get the **cohort average**: the
mean LTV of the accounts of their ``segment`` (if given) with a tenure of at most
``cohort_months``, marked ``ltv_source = "cohort"``, with their spread as its interval; lost
customers are worth a possible return (``"lost"``; :mod:`tillage.models.ltv.cohorts`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Self

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from tillage.errors import DataValidationError, NotFittedError
from tillage.models._settings import EstimatorSettings
from tillage.models.beta_geo import BetaGeoModel
from tillage.models.gamma_gamma import GammaGammaModel
from tillage.models.ltv._columns import column
from tillage.models.ltv.cohorts import CohortValues, cohort_values, lost_values, p_return
from tillage.models.ltv.contracts import contract_paths, covariate_drift, renewal_uplift
from tillage.models.ltv.interval import Estimate, Params, central_interval, draw_values
from tillage.models.ltv.orders import BetaNodes, expected_spend, fit_orders, order_paths
from tillage.models.ltv.pieces import not_fitted
from tillage.models.ltv.prepared import Prepared, prepare
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
_MIN_BUYERS = 20
#: Months of the short-range revenue forecast (``expected_revenue_12m``).
NEAR_MONTHS = 12


class AccountLTV(EstimatorSettings):
    """Per-account LTV with intervals (see the module docstring for the formula).

    Parameters
    ----------
    horizon_months:
        Months after the as-of date that the LTV covers.
    discount_rate:
        Annual discount rate, applied monthly as ``(1 + d) ** (-t / 12)``.
    margin_rate:
        Margin rate when neither ``margin_by_family`` (its ``"default"``) nor an observed rate
        applies. 0.6 is a typical blended gross margin of software with services.
    margin_by_family:
        Gross margin (fraction of revenue) by product family, with an optional ``"default"``
        for families not listed; applied to the revenue mix given to :meth:`fit` / :meth:`predict`.
    hourly_cost:
        Cost of one rep hour when the frame has no ``hourly_cost`` column (currency).
    covariates:
        Renewal covariate columns of the churn model.
    expansion:
        Grow the recurring amount at each renewal by the observed average uplift
        (:func:`~tillage.models.ltv.contracts.renewal_uplift`, by ``uplift_by``); False holds it.
    uplift_by:
        Column of the decisions and accounts frames that segments the uplift.
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
        margin_by_family: Mapping[str, float] | None = None,
        hourly_cost: float = 6000.0,
        covariates: Sequence[str] = DEFAULT_COVARIATES,
        expansion: bool = True,
        uplift_by: str = "term_months",
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
        self.margin_by_family = margin_by_family
        self.hourly_cost = hourly_cost
        self.covariates = covariates
        self.expansion = expansion
        self.uplift_by = uplift_by
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
        bad = {k: v for k, v in (self.margin_by_family or {}).items() if not 0 <= v <= 1}
        if bad:
            raise DataValidationError(
                f"AccountLTV: margin_by_family rates must be fractions in [0, 1], got {bad}"
            )

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

    def fit(
        self,
        accounts: pd.DataFrame,
        decisions: pd.DataFrame | None = None,
        *,
        mix: pd.DataFrame | None = None,
        returns: tuple[int, int] = (0, 0),
    ) -> Self:
        """Fit the component models; returns ``self``.

        ``accounts`` has one row per account: ``account_id`` and, for buyers, the RFM columns
        ``frequency``, ``recency``, ``T`` (``period_days`` units) and ``monetary_value``
        (others NaN). ``decisions`` has one row per past renewal decision (``account_id``,
        ``churned`` and the covariates; ``recurring_amount`` and ``renewed_amount`` for the
        uplift); it is also each account's history at prediction. ``mix`` is the revenue mix by
        product family (``account_id``, ``stream``, ``family``, ``amount``) that
        ``margin_by_family`` applies to; it is also the default mix at prediction. Sets
        ``churn_model_``, ``purchase_model_``, ``spend_model_`` (each None when there is nothing
        to fit it on), ``uplift_`` (by segment, ``"all"`` pooled), ``drift_`` (mean and monthly
        persistence of each covariate), ``cohort_ltv_`` and ``not_fitted_`` (piece → why).
        ``returns`` = (lost customers who came back within a year, lost customers).
        """
        self._check_settings()
        accounts = self._frame(accounts)
        self.churn_model_: RenewalChurnModel | None = None
        self.history_ = None
        self.mix_ = mix
        if decisions is not None and len(decisions):
            self.churn_model_ = RenewalChurnModel(
                covariates=list(self.covariates), penalizer=self.churn_penalizer
            ).fit(decisions)
            self.history_ = decisions
        self.drift_ = covariate_drift(decisions, self.covariates)
        self.uplift_ = (
            renewal_uplift(decisions, by=self.uplift_by)
            if self.expansion
            else pd.Series({"all": 0.0}, name="uplift")
        )
        buyers = self._buyers(accounts)
        self.purchase_model_: BetaGeoModel | None
        self.spend_model_: GammaGammaModel | None
        self._nodes: BetaNodes | None
        fitted = fit_orders(buyers, self.purchase_penalizer, _MIN_BUYERS)
        self.purchase_model_, self.spend_model_, self._nodes, failure = fitted
        self.n_accounts_ = len(accounts)
        came_back, lost = (int(v) for v in returns)
        self.returns_ = (came_back, lost)
        models = (self.churn_model_, self.purchase_model_, self.spend_model_)
        self.not_fitted_ = not_fitted(*models, buyers, _MIN_BUYERS, failure, accounts)
        point = self._evaluate(self._prepare(accounts, self.history_, mix), self._point())
        self.cohort_ = self._cohorts(accounts, point["ltv"])
        self.cohort_ltv_ = self.cohort_.mean
        return self

    # ------------------------------------------------------------------ parameters

    def _check_fitted(self) -> None:
        if not hasattr(self, "n_accounts_"):
            raise NotFittedError("AccountLTV is not fitted yet: call fit(accounts, decisions)")

    def _point(self) -> Params:
        """The fitted parameter vectors."""
        return {k: (None if v is None else v.value) for k, v in self._estimates().items()}

    def _estimates(self) -> dict[str, Estimate | None]:
        """The fitted parameter vectors with their asymptotic laws."""
        out: dict[str, Estimate | None] = {"churn": None, "bg": None, "gg": None}
        if self.churn_model_ is not None:
            m = self.churn_model_
            value = np.r_[m.params_["gamma"], m.params_["delta"], m.coef_.to_numpy()]
            positive = np.arange(len(value)) < 2  # beta is on the real line
            out["churn"] = Estimate(value, np.asarray(m.covariance_, dtype=float), positive)
        for key, model, names in (
            ("bg", self.purchase_model_, ("r", "alpha", "a", "b")),
            ("gg", self.spend_model_, ("p", "q", "v")),
        ):
            if model is not None:
                value = np.array([model.params_[k] for k in names], dtype=float)
                cov = np.array(model.covariance_, dtype=float)
                edge = [names.index(k) for k in getattr(model, "boundary_", []) if k in names]
                cov[edge, :] = cov[:, edge] = 0.0  # at the edge: kept at the estimate
                out[key] = Estimate(value, cov, np.ones(len(value), dtype=bool))
        return out

    # ------------------------------------------------------------------ value

    def _months(self) -> NDArray[np.float64]:
        return np.arange(1, int(self.horizon_months) + 1, dtype=float)

    def _prepare(
        self, frame: pd.DataFrame, history: pd.DataFrame | None, mix: pd.DataFrame | None
    ) -> Prepared:
        """Everything of :meth:`_evaluate` that does not depend on the parameters."""
        return prepare(
            frame,
            history,
            mix,
            churn_model=self.churn_model_,
            nodes=self._nodes,
            covariates=self.covariates,
            horizon_months=int(self.horizon_months),
            uplift=self.uplift_,
            uplift_by=self.uplift_by,
            drift=self.drift_,
            period_days=self.period_days,
            margin_by_family=self.margin_by_family,
            margin_rate=self.margin_rate,
            hourly_cost=self.hourly_cost,
        )

    def _evaluate(
        self, prep: Prepared, params: Params, *, full: bool = True
    ) -> dict[str, NDArray[np.float64]]:
        months = self._months()
        discount = (1.0 + self.discount_rate) ** (-months / 12.0)
        contracts = contract_paths(prep.contracts, self.churn_model_, params["churn"])
        orders = order_paths(prep.orders, params["bg"])
        spend = expected_spend(prep.frame, params["gg"])
        rates = prep.rates
        per_month_orders = np.diff(orders.cumulative, axis=1, prepend=0.0)
        contract_rev = contracts.revenue
        order_rev = spend[:, None] * per_month_orders
        active = 1.0 - (1.0 - contracts.survival) * (1.0 - orders.alive)
        margin = rates["contract"][:, None] * contract_rev + rates["order"][:, None] * order_rev
        cost = prep.cost[:, None] * active
        net_pv = (margin - cost) * discount[None, :]
        out = {"ltv": net_pv.sum(axis=1)}
        if not full:
            return out
        near = min(NEAR_MONTHS, len(months))
        out.update(
            churn_risk=contracts.churn_next,
            p_churn_horizon=contracts.churn_horizon,
            p_order_in_horizon=orders.p_buy,
            p_active=np.where(prep.holder, 1.0, orders.alive_now),
            expected_lifetime_months=active.sum(axis=1),
            expected_orders=orders.cumulative[:, -1],
            expected_contract_revenue=contract_rev.sum(axis=1),
            expected_order_revenue=order_rev.sum(axis=1),
            expected_revenue_12m=(contract_rev[:, :near] + order_rev[:, :near]).sum(axis=1),
            expected_margin=margin.sum(axis=1),
            margin_pv=(margin * discount[None, :]).sum(axis=1),
            cost_to_serve_pv=(cost * discount[None, :]).sum(axis=1),
            cumulative_net_pv=np.cumsum(net_pv, axis=1),
            active=active,
        )
        return out

    def _segments(self, frame: pd.DataFrame) -> NDArray:
        if "segment" in frame.columns:
            return frame["segment"].astype(str).to_numpy()
        return np.full(len(frame), "all")

    def _cohorts(self, frame: pd.DataFrame, ltv: NDArray[np.float64]) -> CohortValues:
        """The young accounts' (tenure <= ``cohort_months``) values per segment."""
        tenure = column(frame, "tenure_months", math.inf)
        has = self._has_history(frame) & ~self._lapsed(frame)
        young = has & (tenure <= self.cohort_months)
        return cohort_values(
            ltv, young if young.any() else has, self._segments(frame), self.interval
        )

    def _had_contract(self, frame: pd.DataFrame) -> NDArray[np.bool_]:
        had = column(frame, "contract_tenure_months", 0.0) > 0
        if self.history_ is not None and len(self.history_):
            had |= frame["account_id"].isin(self.history_["account_id"]).to_numpy()
        return had

    def _has_history(self, frame: pd.DataFrame) -> NDArray[np.bool_]:
        current = (column(frame, "mrr", 0.0) > 0) | np.isfinite(column(frame, "T", np.nan))
        return current | self._had_contract(frame)

    def _lapsed(self, frame: pd.DataFrame) -> NDArray[np.bool_]:
        """Lost customers: a contract once, none now, no order ever (buyers: BG/NBD's)."""
        current = (column(frame, "mrr", 0.0) > 0) | np.isfinite(column(frame, "T", np.nan))
        return self._had_contract(frame) & ~current

    # ------------------------------------------------------------------ predict

    def predict(
        self,
        accounts: pd.DataFrame,
        history: pd.DataFrame | None = None,
        *,
        mix: pd.DataFrame | None = None,
    ) -> pd.DataFrame:
        """Per-account value, indexed by ``account_id``. Amounts in the currency of ``mrr`` and
        ``monetary_value``; *expected* sums are undiscounted over the horizon, *_pv* discounted.
        ``history`` and ``mix`` default to those given to :meth:`fit`.

        Columns: ``ltv`` (discounted margin − cost to serve), ``ltv_low`` / ``ltv_high`` (the
        bootstrap interval), ``ltv_source`` ("account", "cohort" or "lost"), ``churn_risk`` (P(the
        contract ends at its next end date: churn, or a fixed term running out); NaN without an
        active contract or renewal history), ``p_churn_horizon`` (P(no contract left at the end
        of the horizon), for contract holders), ``p_order_in_horizon`` (P(at least one order in
        the horizon), for buyers), ``p_alive`` (P(the account is a customer now): 1 with an
        active contract, else the BG/NBD P(alive)), ``expected_lifetime_months`` (expected
        months as a customer within the horizon), ``expected_orders``,
        ``expected_contract_revenue``, ``expected_order_revenue``, ``expected_revenue``,
        ``expected_revenue_12m`` (the first 12 months of it, or the horizon if shorter),
        ``expected_margin``, ``margin_pv``, ``cost_to_serve_pv``, ``acquisition_cost``,
        ``ltv_to_cac`` and ``payback_months`` (first month whose cumulative discounted margin −
        cost to serve reaches the acquisition cost; NaN if none within the horizon or unknown
        CAC).
        """
        self._check_fitted()
        frame = self._frame(accounts)
        history = self.history_ if history is None else history
        mix = self.mix_ if mix is None else mix
        prep = self._prepare(frame, history, mix)
        point = self._evaluate(prep, self._point())
        draws = draw_values(
            lambda p: self._evaluate(prep, p, full=False)["ltv"],
            self._estimates(),
            self.n_draws,
            self.random_state,
        )
        low, high = central_interval(draws, point["ltv"], self.interval)
        ltv = point["ltv"].copy()
        source = np.full(len(frame), "account", dtype=object)
        segments = self._segments(frame)
        thin = ~self._has_history(frame)
        if thin.any():
            ltv[thin], low[thin], high[thin] = self.cohort_.lookup(segments[thin])
            source[thin] = "cohort"
        lapsed = self._lapsed(frame)
        if lapsed.any():
            ltv[lapsed], low[lapsed], high[lapsed] = lost_values(
                self.cohort_, segments[lapsed], self.returns_, self.interval
            )
            source[lapsed] = "lost"
        cac = column(frame, "acquisition_cost", np.nan)
        reached = point["cumulative_net_pv"] >= cac[:, None]
        payback = np.where(reached.any(axis=1), reached.argmax(axis=1) + 1.0, np.nan)
        payback = np.where(np.isfinite(cac) & (cac > 0), payback, np.nan)
        return pd.DataFrame(
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
                "expected_revenue_12m": point["expected_revenue_12m"],
                "expected_margin": point["expected_margin"],
                "margin_pv": point["margin_pv"],
                "cost_to_serve_pv": point["cost_to_serve_pv"],
                "acquisition_cost": cac,
                "ltv_to_cac": np.where(cac > 0, ltv / np.where(cac > 0, cac, 1.0), np.nan),
                "payback_months": payback,
            },
            index=pd.Index(frame["account_id"].to_numpy(), name="account_id"),
        )

    def survival_curve(
        self,
        accounts: pd.DataFrame,
        history: pd.DataFrame | None = None,
        *,
        mix: pd.DataFrame | None = None,
    ) -> pd.DataFrame:
        """P(still a customer at the end of month t), accounts × months 1 … horizon."""
        self._check_fitted()
        frame = self._frame(accounts)
        history = self.history_ if history is None else history
        mix = self.mix_ if mix is None else mix
        point = self._evaluate(self._prepare(frame, history, mix), self._point())
        return pd.DataFrame(
            point["active"],
            index=pd.Index(frame["account_id"].to_numpy(), name="account_id"),
            columns=pd.Index(self._months().astype(int), name="month"),
        )

    @property
    def params_(self) -> dict[str, object]:
        """The fitted parameters (the estimator contract's name for :meth:`params`)."""
        return self.params()

    def params(self) -> dict[str, object]:
        """Fitted parameters and settings, JSON-able, for the snapshot record."""
        self._check_fitted()
        out: dict[str, object] = {
            "horizon_months": int(self.horizon_months),
            "discount_rate": self.discount_rate,
            "margin_rate": self.margin_rate,
            "margin_by_family": dict(self.margin_by_family or {}),
            "n_draws": self.n_draws,
            "interval": self.interval,
            "not_fitted": dict(self.not_fitted_),
            "returns": {"came_back_lost": list(self.returns_), "p": p_return(self.returns_)},
            "renewal_uplift": {str(k): float(v) for k, v in self.uplift_.items()},
            "covariate_drift": {
                str(k): {"mean": float(r["mean"]), "rho": float(r["rho"])}
                for k, r in self.drift_.iterrows()
            },
        }
        if self.churn_model_ is not None:
            out["renewal_churn"] = {
                **self.churn_model_.params_,
                **{k: float(v) for k, v in self.churn_model_.coef_.items()},
            }
        if self.purchase_model_ is not None:
            out["bg_nbd"] = dict(self.purchase_model_.params_)
            if getattr(self.purchase_model_, "boundary_", None):  # the no-drop-out edge
                out["bg_nbd_boundary"] = list(self.purchase_model_.boundary_)
        if self.spend_model_ is not None:
            out["gamma_gamma"] = dict(self.spend_model_.params_)
            if self.spend_model_.penalizer:
                out["gamma_gamma_penalizer"] = float(self.spend_model_.penalizer)
        return out
