"""sBG against Fader & Hardie (2007), "How to Project Customer Retention", Journal of Interactive
Marketing 21(1), fitted on years 1–7: regular gamma = 0.704, delta = 1.182; high end
gamma = 0.668, delta = 3.806."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tillage.errors import DataValidationError
from tillage.models import ShiftedBetaGeoModel, cohort_frame

PUBLISHED = {"regular": (0.704, 1.182), "highend": (0.668, 3.806)}
# Fader & Hardie (2007), Table 1: % of each cohort still active after years 0..7
SURVIVORS = {
    "regular": [1000, 631, 468, 382, 326, 289, 262, 241],
    "highend": [1000, 869, 743, 653, 593, 551, 517, 491],
}


@pytest.mark.parametrize("cohort", ["regular", "highend"])
def test_paper_parameters(cohort: str, sbg_cohorts: dict[str, pd.DataFrame]) -> None:
    model = ShiftedBetaGeoModel().fit(sbg_cohorts[cohort])
    gamma, delta = PUBLISHED[cohort]
    assert model.params_["gamma"] == pytest.approx(gamma, abs=5e-4)
    assert model.params_["delta"] == pytest.approx(delta, abs=5e-4)


@pytest.mark.parametrize("cohort", ["regular", "highend"])
def test_cohort_table_gives_the_same_fit(cohort: str, sbg_cohorts: dict[str, pd.DataFrame]) -> None:
    per_customer = ShiftedBetaGeoModel().fit(sbg_cohorts[cohort])
    table = ShiftedBetaGeoModel().fit_cohort(SURVIVORS[cohort])
    for name in ("gamma", "delta"):
        assert table.params_[name] == pytest.approx(per_customer.params_[name], rel=1e-6)
    assert table.log_likelihood_ == pytest.approx(per_customer.log_likelihood_, rel=1e-9)


def test_survival_and_retention_curves() -> None:
    model = ShiftedBetaGeoModel().fit_cohort(SURVIVORS["regular"])
    survival = model.survival_function(range(8))
    assert survival.iloc[0] == 1.0
    assert (np.diff(survival.to_numpy()) < 0).all()
    # fitted curve tracks the observed one within 1.5 points (FH 2007, Figure 3)
    observed = np.array(SURVIVORS["regular"]) / 1000
    np.testing.assert_allclose(survival.to_numpy(), observed, atol=0.015)
    retention = model.retention_rate(range(1, 8))
    np.testing.assert_allclose(
        retention.to_numpy(), survival.to_numpy()[1:] / survival.to_numpy()[:-1], rtol=1e-12
    )
    assert (np.diff(retention.to_numpy()) > 0).all()  # heterogeneity: retention rises


def test_derl_equals_its_series() -> None:
    model = ShiftedBetaGeoModel().fit_cohort(SURVIVORS["highend"])
    d = 0.1
    frame = pd.DataFrame({"recency": [3, 2], "T": [3, 3], "alive": [1, 0]})
    derl = model.discounted_expected_residual_lifetime(frame, discount_rate=d)
    k = np.arange(0, 4000)
    survival = model.survival_function(np.arange(3, 4004)).to_numpy()
    series = np.sum(survival[1:] / survival[0] * (1 + d) ** -k)
    assert derl.iloc[0] == pytest.approx(series, rel=1e-8)
    assert derl.iloc[1] == 0.0
    # DEL counts the first payment at acquisition, then the discounted survivors
    s = model.survival_function(np.arange(0, 4000)).to_numpy()
    assert model.discounted_expected_lifetime(discount_rate=d) == pytest.approx(
        np.sum(s * (1 + d) ** -np.arange(0, 4000)), rel=1e-8
    )


def test_bad_cohort_table() -> None:
    with pytest.raises(DataValidationError, match="survivors"):
        cohort_frame([100, 120, 80])


def test_alive_must_be_binary() -> None:
    frame = pd.DataFrame({"recency": [1, 2], "T": [3, 3], "alive": [0, 2]})
    with pytest.raises(DataValidationError, match="alive"):
        ShiftedBetaGeoModel().fit(frame)
