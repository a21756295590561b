"""Calibrated win probability of open opportunities, shrunk towards stage win rates.

The model is a penalised logistic regression with the deal's *stage rate* as offset::

    logit P(win) = logit(r[stage]) + β₀ + x·β,     penalty λ/2 ‖β‖²

``r[stage]`` is the win rate of deals that were in that stage on a snapshot date (a Beta-binomial
estimate shrunk towards the overall rate with ``prior_strength`` pseudo-deals), ``x`` the deal and
account features standardised. The regression (and the stage rates in its offset) is fitted on
the earlier snapshot dates; the penalty is chosen and the calibrator (isotonic with enough
held-out deals, Platt scaling otherwise) fitted on the latest dates held out
(``holdout_share``), and that very model is the one used: calibrating one model and predicting
with another (refitted on every date) inflated every probability on a funnel whose win rate
drifted. A feature that on its own nearly determines the outcome (AUC >= 0.98, e.g. an amount
that is zero on every lost deal) is refused: left out, named in :attr:`notes_` and
:attr:`refused_features_`. If the model does not beat the stage-rate baseline on the held-out
dates, the predictions are the stage rates calibrated there (:attr:`fallback_`), and
:attr:`notes_` says so.
A large penalty keeps the predictions at the stage rates: with thin data (fewer than
``min_deals`` labelled deals) the regression is skipped altogether and the model *is* the stage
rate baseline, which :attr:`WinProbabilityModel.notes_` says.

The input is the frame of :func:`tillage.features.deals.deal_history` restricted to deals whose
outcome is known (``label_won`` 0/1): one row per deal and snapshot date, with a ``weight``
column (1 / the number of snapshots of the deal, so each deal counts once) when a deal appears on
several dates. :func:`time_split` builds the training and test frames of a time-based backtest.
"""

from __future__ import annotations

import datetime as dt
from typing import Self

import numpy as np
import pandas as pd
from scipy.special import logit

from tillage.errors import DataValidationError, NotFittedError
from tillage.models._logistic import (
    EPS,
    binary_labels,
    fit_calibrated,
    require_columns,
    time_holdout,
    weights_of,
)
from tillage.models._settings import EstimatorSettings

__all__ = ["DEAL_FEATURES", "WinProbabilityModel", "deal_weights", "time_split"]

#: Numeric features read by default (columns of ``tillage.features.deals.deal_features``).
DEAL_FEATURES: tuple[str, ...] = (
    "age_days",
    "log_amount",
    "amount_vs_account",
    "competitor",
    "activities_before_created",
    "prior_won_same_type",
    "prior_lost_same_type",
    "log_employees",
    "tenure_months",
    "mrr",
    "revenue_365d",
    "orders_365d",
    "active_contracts",
    "days_to_next_renewal",
    "activities_90d",
    "days_since_last_meeting",
    "distinct_contacts_180d",
    "distinct_reps_180d",
    "open_tickets",
    "tickets_unresolved_30d",
    "satisfaction_avg",
    "nps_latest",
    "usage_active_users_trend",
    "usage_logins_trend",
    "won_upsell_count",
    "lost_upsell_count",
    "won_cross_sell_count",
    "lost_cross_sell_count",
)


class WinProbabilityModel(EstimatorSettings):
    """Calibrated win probability of open deals (see the module docstring for the model).

    Parameters
    ----------
    features:
        Numeric columns used as covariates (default :data:`DEAL_FEATURES`); ``type`` is always
        added as a categorical covariate and ``stage_as_of`` gives the offset.
    penalty:
        The L2 penalty λ; ``None`` (default) chooses it on the held-out dates.
    calibration:
        ``"auto"`` (isotonic with at least 1,000 held-out deals, Platt with at least 50, none
        below), ``"isotonic"``, ``"platt"`` or ``"none"``.
    holdout_share:
        Share of the rows, taken from the latest snapshot dates, held out to choose the penalty
        and fit the calibrator.
    min_deals:
        Below this many labelled deals the regression is skipped: predictions are stage rates.
    prior_strength:
        Pseudo-deals at the overall win rate added to every stage's rate.
    """

    def __init__(
        self,
        *,
        features: tuple[str, ...] = DEAL_FEATURES,
        penalty: float | None = None,
        calibration: str = "auto",
        holdout_share: float = 0.25,
        min_deals: int = 200,
        prior_strength: float = 20.0,
    ) -> None:
        self.features = features
        self.penalty = penalty
        self.calibration = calibration
        self.holdout_share = holdout_share
        self.min_deals = min_deals
        self.prior_strength = prior_strength

    # ------------------------------------------------------------------ fitting

    def _columns(self) -> list[str]:
        return [*self.features, "type", "stage_as_of"]

    def fit(self, frame: pd.DataFrame) -> Self:
        """Fit on deals with a known outcome (``label_won``); returns ``self``."""
        name = type(self).__name__
        require_columns(frame, [*self._columns(), "label_won"], name)
        if len(frame) == 0:
            raise DataValidationError(f"{name}: no deals to fit on")
        y = binary_labels(frame, "label_won", name)
        w = weights_of(frame, name)
        self.overall_rate_, self.stage_rates_ = self._stage_rates(frame, y, w)
        # the regression's offset uses the rates of the earlier dates only, so that on the
        # held-out latest dates the model (offset included) is scored and calibrated out of time
        early = ~time_holdout(frame, self.holdout_share)
        self.offset_rates_ = self.stage_rates_
        if early.any() and not early.all():
            self.offset_rates_ = self._stage_rates(frame[early], y[early], w[early])[1]
        self.n_deals_ = float(w.sum())
        self.notes_: list[str] = []
        self.refused_features_: dict[str, float] = {}
        self.fallback_ = False
        offset = self._offset(frame)
        self.thin_data_ = self.n_deals_ < self.min_deals
        if self.thin_data_:
            self.fit_ = None
            self.notes_.append(
                f"thin data: {self.n_deals_:.0f} deals with a known outcome (fewer than "
                f"{self.min_deals}); the predictions are the stage win rates"
            )
            return self
        self.fit_ = fit_calibrated(
            frame,
            y,
            w,
            offset,
            numeric=self.features,
            categorical=("type",),
            penalty=self.penalty,
            calibration=self.calibration,
            holdout_share=self.holdout_share,
        )
        self.notes_.extend(self.fit_.notes)
        self.refused_features_ = dict(self.fit_.refused)
        self.fallback_ = self.fit_.fallback
        self.penalty_ = self.fit_.penalty
        self.calibration_ = self.fit_.calibrator.kind
        self.coef_ = pd.Series(self.fit_.coef, index=self.fit_.design.names, name="coef")
        self.intercept_ = self.fit_.intercept
        return self

    @property
    def params_(self) -> dict[str, object]:
        """The fitted parameters: the overall and per-stage win rates and, when the regression
        was fitted, its penalty, calibration, intercept and coefficients (standardised)."""
        self._check_fitted()
        out: dict[str, object] = {
            "overall_rate": self.overall_rate_,
            "stage_rates": {str(k): float(v) for k, v in self.stage_rates_.items()},
        }
        if self.fit_ is not None:
            out.update(
                penalty=self.penalty_,
                calibration=self.calibration_,
                intercept=float(self.intercept_),
                coef={str(k): float(v) for k, v in self.coef_.items()},
            )
        return out

    def _stage_rates(
        self, frame: pd.DataFrame, y: np.ndarray, w: np.ndarray
    ) -> tuple[float, pd.Series]:
        """The overall win rate and each stage's, shrunk towards it with ``prior_strength``
        pseudo-deals (a Beta-binomial estimate)."""
        stages = frame["stage_as_of"].to_numpy()
        overall = float(np.sum(w * y) / max(w.sum(), EPS))
        rates = {}
        for stage in np.unique(stages):
            m = stages == stage
            won, n = float(np.sum(w[m] * y[m])), float(w[m].sum())
            rates[stage] = (won + self.prior_strength * overall) / (n + self.prior_strength)
        return overall, pd.Series(rates, name="win_rate").rename_axis("stage_as_of")

    def _offset(self, frame: pd.DataFrame) -> np.ndarray:
        table = getattr(self, "offset_rates_", self.stage_rates_)
        rates = table.reindex(frame["stage_as_of"].to_numpy()).to_numpy(dtype=float)
        rates = np.where(np.isfinite(rates), rates, self.overall_rate_)
        return logit(np.clip(rates, EPS, 1 - EPS))

    def _check_fitted(self) -> None:
        if not hasattr(self, "stage_rates_"):
            raise NotFittedError(
                f"{type(self).__name__} is not fitted yet: call fit(frame) with closed deals first"
            )

    # ------------------------------------------------------------------ predictions

    def predict_proba(self, frame: pd.DataFrame) -> pd.Series:
        """Calibrated win probability of each deal, indexed like ``frame``."""
        self._check_fitted()
        require_columns(frame, self._columns(), type(self).__name__)
        if self.fit_ is None:
            return self.predict_stage_rate(frame).rename("win_probability")
        p = self.fit_.predict(frame, self._offset(frame))
        return pd.Series(p, index=frame.index, name="win_probability")

    def predict_stage_rate(self, frame: pd.DataFrame) -> pd.Series:
        """The stage-rate baseline: each deal's stage win rate, indexed like ``frame``."""
        self._check_fitted()
        require_columns(frame, ["stage_as_of"], type(self).__name__)
        rates = self.stage_rates_.reindex(frame["stage_as_of"].to_numpy()).to_numpy(dtype=float)
        rates = np.where(np.isfinite(rates), rates, self.overall_rate_)
        return pd.Series(rates, index=frame.index, name="stage_rate")

    def summary(self) -> pd.DataFrame:
        """Coefficients per standardised covariate (empty when the data were thin)."""
        self._check_fitted()
        if self.fit_ is None:
            return pd.DataFrame({"coef": []}, index=pd.Index([], name="covariate"))
        out = self.coef_.to_frame()
        out.index.name = "covariate"
        out.attrs.update(penalty=self.penalty_, calibration=self.calibration_)
        return out.sort_values("coef", key=np.abs, ascending=False)


def deal_weights(frame: pd.DataFrame) -> pd.Series:
    """1 / the number of snapshot rows of each deal, so every deal weighs 1 in total."""
    counts = frame.groupby("opportunity_id")["opportunity_id"].transform("size")
    return (1.0 / counts).rename("weight")


def time_split(
    history: pd.DataFrame, cutoff: dt.date | str | pd.Timestamp
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Training and test frames of a time-based backtest at ``cutoff``.

    Train: snapshot rows dated before ``cutoff`` of deals that closed on or before it (their
    outcome was known on ``cutoff``). Test: snapshot rows dated on or after ``cutoff`` whose
    outcome is known now; each frame weighted by :func:`deal_weights` so every deal counts once.
    Test rows use features as of their own date and the model as trained on ``cutoff``.
    """
    require_columns(history, ["opportunity_id", "as_of", "close_date", "label_won"], "time_split")
    cut = pd.Timestamp(cutoff)
    as_of = pd.to_datetime(history["as_of"])
    close = pd.to_datetime(history["close_date"])
    known = history["label_won"].notna()
    train = history[(as_of < cut) & known & (close <= cut)].copy()
    train["weight"] = deal_weights(train)
    test = history[(as_of >= cut) & known].copy()
    if test.empty:
        raise DataValidationError(
            f"time_split: no deal open on or after {cut.date()} has a known outcome; "
            "pick an earlier cutoff"
        )
    test["weight"] = deal_weights(test)
    return train, test
