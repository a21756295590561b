"""A naive account LTV: last year's revenue, a population retention rate and a discount rate.

This is the walking skeleton's first LTV and, later, the baseline every real model is compared
against. With ``R`` the account's revenue over the last 12 months (currency), ``m`` the gross
margin rate, ``r`` the population's annual logo retention and ``d`` the annual discount rate::

    LTV = m · R · Σ_{k=1..H} (r / (1 + d))^k        (H = horizon in years)

``r`` is estimated in :meth:`NaiveLTV.fit` as the share of accounts with revenue in the prior
12-month window that still have revenue in the latest one.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from tillage.errors import DataValidationError, NotFittedError, Problem
from tillage.models._settings import EstimatorSettings


class NaiveLTV(EstimatorSettings):
    """Naive LTV from trailing revenue and a population retention rate (see module docstring)."""

    def __init__(
        self, *, margin_rate: float = 0.6, discount_rate: float = 0.08, horizon_years: int = 5
    ) -> None:
        self.margin_rate = margin_rate
        self.discount_rate = discount_rate
        self.horizon_years = horizon_years

    def fit(self, frame: pd.DataFrame) -> NaiveLTV:
        """Estimate retention from columns ``revenue_12m`` and ``revenue_prior_12m``."""
        _require(frame, ["revenue_12m", "revenue_prior_12m"])
        prior = frame["revenue_prior_12m"] > 0
        if not prior.any():
            raise DataValidationError(
                "no account has revenue in the prior 12 months: the history is too short "
                "to estimate retention; import at least two years of data"
            )
        retained = (frame["revenue_12m"] > 0) & prior
        self.retention_ = float(retained.sum() / prior.sum())
        self.n_accounts_ = int(prior.sum())
        return self

    @property
    def multiplier_(self) -> float:
        """Σ_{k=1..H} (r/(1+d))^k: years of discounted, retention-weighted revenue."""
        if not hasattr(self, "retention_"):
            raise NotFittedError("NaiveLTV is not fitted yet: call fit() first")
        q = self.retention_ / (1.0 + self.discount_rate)
        return float(sum(q**k for k in range(1, self.horizon_years + 1)))

    def predict(self, frame: pd.DataFrame) -> pd.Series:
        """LTV per row of ``frame`` (column ``revenue_12m``), in the revenue's currency."""
        _require(frame, ["revenue_12m"])
        revenue = frame["revenue_12m"].to_numpy(dtype=float)
        values = self.margin_rate * np.clip(revenue, 0.0, None) * self.multiplier_
        return pd.Series(values, index=frame.index, name="ltv")

    @property
    def params_(self) -> dict[str, float]:
        """The fitted parameters (the estimator contract's name for :meth:`params`)."""
        if not hasattr(self, "retention_"):
            raise NotFittedError("NaiveLTV is not fitted yet: call fit() first")
        return self.params()

    def params(self) -> dict[str, float]:
        """The fitted and configured parameters, for the snapshot record."""
        return {
            "retention": self.retention_,
            "margin_rate": self.margin_rate,
            "discount_rate": self.discount_rate,
            "horizon_years": float(self.horizon_years),
        }


def _require(frame: pd.DataFrame, columns: list[str]) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataValidationError(
            "the account summary lacks required columns",
            [Problem("account summary", None, c, None, "column missing") for c in missing],
        )
