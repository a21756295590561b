"""Expansion propensity and expected expansion value per account.

**Propensity**: the probability that an account wins at least one upsell or cross-sell deal in the
horizon after the as-of date, a penalised logistic regression on the account features with the
base rate as offset (so a strong penalty shrinks towards the base rate), the penalty chosen and
the calibrator (isotonic with enough held-out accounts, Platt otherwise) fitted on the latest
as-of dates held out — the same machinery as :mod:`tillage.models.win_probability`.

**Amount**: for the accounts that expanded, the log of the won amount is a ridge regression on the
same standardised features, ``log A = γ₀ + x·γ + ε``, ``ε ~ N(0, σ²)``; the expected amount given
an expansion is ``exp(γ₀ + x·γ + σ²/2)`` (the lognormal mean).

**Expected expansion value** = propensity × expected amount.

The input is :func:`tillage.features.deals.expansion_frame` on one or more as-of dates (stacked,
with an ``as_of`` column), with the labels ``label_expansion`` (0/1) and
``label_expansion_amount``.
"""

from __future__ import annotations

from typing import Self

import numpy as np
import pandas as pd
from scipy.special import logit

from tillage.errors import DataValidationError, NotFittedError
from tillage.models._logistic import (
    EPS,
    Design,
    binary_labels,
    fit_calibrated,
    require_columns,
    weights_of,
)
from tillage.models._settings import EstimatorSettings

__all__ = ["ACCOUNT_FEATURES", "ExpansionModel"]

#: Account features read by default (columns of ``docs/features.md``).
ACCOUNT_FEATURES: tuple[str, ...] = (
    "tenure_months",
    "log_employees",
    "revenue_365d",
    "orders_365d",
    "mrr",
    "active_contracts",
    "expansions",
    "contractions",
    "open_pipeline_upsell",
    "open_pipeline_cross_sell",
    "won_upsell_count",
    "won_upsell_amount",
    "lost_upsell_count",
    "won_cross_sell_count",
    "won_cross_sell_amount",
    "lost_cross_sell_count",
    "activities_90d",
    "days_since_last_meeting",
    "distinct_contacts_180d",
    "open_tickets",
    "tickets_unresolved_30d",
    "nps_latest",
    "usage_active_users_trend",
    "usage_logins_trend",
)


class ExpansionModel(EstimatorSettings):
    """Upsell/cross-sell propensity over a horizon and the expected expansion value.

    Parameters
    ----------
    features:
        Numeric account features (default :data:`ACCOUNT_FEATURES`).
    penalty:
        L2 penalty of the propensity regression; ``None`` chooses it on the held-out dates.
    amount_penalty:
        L2 penalty of the amount regression.
    calibration:
        ``"auto"``, ``"isotonic"``, ``"platt"`` or ``"none"`` (as in the win-probability model).
    holdout_share:
        Share of rows, from the latest as-of dates, held out for the penalty and calibration.
    min_positives:
        Below this many accounts that expanded, the propensity is the base rate and the amount
        the mean amount (thin data, said in :attr:`notes_`).
    """

    def __init__(
        self,
        *,
        features: tuple[str, ...] = ACCOUNT_FEATURES,
        penalty: float | None = None,
        amount_penalty: float = 10.0,
        calibration: str = "auto",
        holdout_share: float = 0.25,
        min_positives: int = 30,
    ) -> None:
        self.features = features
        self.penalty = penalty
        self.amount_penalty = amount_penalty
        self.calibration = calibration
        self.holdout_share = holdout_share
        self.min_positives = min_positives

    def fit(self, frame: pd.DataFrame) -> Self:
        """Fit on accounts with labels over the horizon; returns ``self``."""
        name = type(self).__name__
        require_columns(frame, [*self.features, "label_expansion", "label_expansion_amount"], name)
        if len(frame) == 0:
            raise DataValidationError(f"{name}: no accounts to fit on")
        y = binary_labels(frame, "label_expansion", name)
        w = weights_of(frame, name)
        amount = pd.to_numeric(frame["label_expansion_amount"], errors="coerce").to_numpy(float)
        positive = (y == 1) & (amount > 0)
        self.base_rate_ = float(np.sum(w * y) / max(w.sum(), EPS))
        self.n_accounts_ = float(w.sum())
        self.n_positive_ = int(positive.sum())
        self.notes_: list[str] = []
        self.mean_amount_ = float(amount[positive].mean()) if positive.any() else 0.0
        self.thin_data_ = self.n_positive_ < self.min_positives
        if self.thin_data_:
            self.fit_ = None
            self.amount_design_ = None
            self.notes_.append(
                f"thin data: {self.n_positive_} accounts expanded (fewer than "
                f"{self.min_positives}); the propensity is the base rate and the amount the mean"
            )
            return self
        offset = np.full(len(frame), logit(np.clip(self.base_rate_, EPS, 1 - EPS)))
        self.fit_ = fit_calibrated(
            frame,
            y,
            w,
            offset,
            numeric=self.features,
            categorical=(),
            penalty=self.penalty,
            calibration=self.calibration,
            holdout_share=self.holdout_share,
        )
        self.notes_.extend(self.fit_.notes)
        self.penalty_ = self.fit_.penalty
        self.calibration_ = self.fit_.calibrator.kind
        self.coef_ = pd.Series(self.fit_.coef, index=self.fit_.design.names, name="coef")

        pos = frame[positive]
        design = Design(tuple(self.features)).fit(pos)
        X = np.column_stack([np.ones(len(pos)), design.transform(pos)])
        target = np.log(amount[positive])
        ridge = np.full(X.shape[1], float(self.amount_penalty))
        ridge[0] = 0.0
        gamma = np.linalg.solve(X.T @ X + np.diag(ridge), X.T @ target)
        resid = target - X @ gamma
        self.amount_design_ = design
        self.amount_coef_ = gamma
        self.amount_sigma_ = float(np.sqrt(np.mean(resid**2)))
        return self

    @property
    def params_(self) -> dict[str, object]:
        """The fitted parameters: base rate and mean amount and, when the regressions were
        fitted, the penalty, calibration and coefficients (standardised covariates)."""
        self._check_fitted()
        out: dict[str, object] = {
            "base_rate": self.base_rate_,
            "mean_amount": self.mean_amount_,
        }
        if self.fit_ is not None:
            out.update(
                penalty=self.penalty_,
                calibration=self.calibration_,
                coef={str(k): float(v) for k, v in self.coef_.items()},
            )
        return out

    def _check_fitted(self) -> None:
        if not hasattr(self, "base_rate_"):
            raise NotFittedError(
                f"{type(self).__name__} is not fitted yet: call fit(frame) with labelled accounts"
            )

    def predict_proba(self, frame: pd.DataFrame) -> pd.Series:
        """Calibrated probability of a won upsell/cross-sell in the horizon, per account."""
        self._check_fitted()
        require_columns(frame, self.features, type(self).__name__)
        if self.fit_ is None:
            p = np.full(len(frame), self.base_rate_)
        else:
            offset = np.full(len(frame), logit(np.clip(self.base_rate_, EPS, 1 - EPS)))
            p = self.fit_.predict(frame, offset)
        return pd.Series(p, index=frame.index, name="expansion_probability")

    def predict_amount(self, frame: pd.DataFrame) -> pd.Series:
        """Expected won expansion amount over the horizon given that the account expands."""
        self._check_fitted()
        require_columns(frame, self.features, type(self).__name__)
        if self.amount_design_ is None:
            a = np.full(len(frame), self.mean_amount_)
        else:
            X = np.column_stack([np.ones(len(frame)), self.amount_design_.transform(frame)])
            a = np.exp(X @ self.amount_coef_ + 0.5 * self.amount_sigma_**2)
        return pd.Series(a, index=frame.index, name="expected_amount")

    def predict(self, frame: pd.DataFrame) -> pd.DataFrame:
        """``expansion_probability``, ``expected_amount`` and ``expected_value`` (their
        product), indexed like ``frame``."""
        p = self.predict_proba(frame)
        a = self.predict_amount(frame)
        return pd.DataFrame(
            {"expansion_probability": p, "expected_amount": a, "expected_value": p * a}
        )
