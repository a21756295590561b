"""The contract piece: renewal survival, fixed-term contracts, expansion at renewal."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit, logit

from tillage.models.ltv.contracts import contract_inputs, contract_paths, renewal_uplift
from tillage.models.renewal_churn import RenewalChurnModel


@pytest.fixture(scope="module")
def churn() -> tuple[RenewalChurnModel, pd.DataFrame]:
    rng = np.random.default_rng(11)
    theta = rng.beta(1.0, 6.0, 800)
    rows = []
    for account in range(800):
        for _ in range(3):
            x = float(rng.random() < 0.3)
            churned = rng.random() < expit(logit(theta[account]) + 0.8 * x)
            rows.append((account + 1, int(churned), x))
            if churned:
                break
    decisions = pd.DataFrame(rows, columns=["account_id", "churned", "x"])
    return RenewalChurnModel(covariates=["x"]).fit(decisions), decisions


def _holders(p_fixed: float) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "account_id": [1, 2, 3],
            "mrr": [1000.0, 2000.0, 0.0],
            "months_to_renewal": [2.0, 5.0, np.nan],
            "term_months": [12.0, 12.0, np.nan],
            "x": [0.0, 1.0, 0.0],
            "p_fixed_term": p_fixed,
        }
    )


def _paths(model, decisions, frame, uplift=None, horizon=24):  # type: ignore[no-untyped-def]
    params = np.r_[model.params_["gamma"], model.params_["delta"], model.coef_.to_numpy()]
    inputs = contract_inputs(
        frame, model, decisions, covariates=["x"], horizon_months=horizon, uplift=uplift
    )
    return contract_paths(inputs, model, params)


def test_renewable_contract_revenue_and_churn(churn) -> None:  # type: ignore[no-untyped-def]
    model, decisions = churn
    frame = _holders(0.0)
    out = _paths(model, decisions, frame)
    s = {
        k: model.survival(frame.iloc[:2][["account_id", "x"]], k, decisions).to_numpy()
        for k in (1, 2)
    }
    # account 1: decisions at months 2 and 14 -> months 1-2 certain, 3-14 at S1, 15-24 at S2
    expected = 1000.0 * np.r_[np.ones(2), np.full(12, s[1][0]), np.full(10, s[2][0])]
    np.testing.assert_allclose(out.revenue[0], expected, rtol=1e-9)
    np.testing.assert_allclose(out.churn_next[:2], 1.0 - s[1], rtol=1e-9)
    np.testing.assert_allclose(out.churn_horizon[:2], 1.0 - s[2], rtol=1e-9)
    assert np.isnan(out.churn_next[2]) and not out.revenue[2].any()


def test_fixed_term_contract_ends_without_a_decision(churn) -> None:  # type: ignore[no-untyped-def]
    model, decisions = churn
    fixed = _paths(model, decisions, _holders(1.0))
    assert fixed.revenue[0].sum() == pytest.approx(2 * 1000.0)  # to its end in month 2 only
    assert fixed.revenue[1].sum() == pytest.approx(5 * 2000.0)
    np.testing.assert_allclose(fixed.churn_next[:2], 1.0)
    np.testing.assert_allclose(fixed.churn_horizon[:2], 1.0)
    # a probability in between mixes the two laws linearly
    renewable, half = (
        _paths(model, decisions, _holders(0.0)),
        _paths(model, decisions, _holders(0.3)),
    )
    np.testing.assert_allclose(half.revenue, 0.3 * fixed.revenue + 0.7 * renewable.revenue)
    np.testing.assert_allclose(
        half.churn_next[:2], 0.3 + 0.7 * renewable.churn_next[:2], rtol=1e-12
    )


def test_expansion_grows_the_amount_at_each_renewal(churn) -> None:  # type: ignore[no-untyped-def]
    model, decisions = churn
    frame = _holders(0.0)
    flat = _paths(model, decisions, frame)
    uplift = pd.Series({"all": 0.02, "12": 0.10})
    grown = _paths(model, decisions, frame, uplift=uplift)
    factor = np.r_[np.ones(2), np.full(12, 1.10), np.full(10, 1.10**2)]
    np.testing.assert_allclose(grown.revenue[0], flat.revenue[0] * factor, rtol=1e-12)
    np.testing.assert_allclose(grown.churn_horizon, flat.churn_horizon, equal_nan=True)
    other = _paths(model, decisions, frame.assign(term_months=24.0), uplift=uplift)
    assert other.revenue[0, -1] == pytest.approx(
        _paths(model, decisions, frame.assign(term_months=24.0)).revenue[0, -1] * 1.02
    )


def test_uplift_is_the_ratio_of_sums_pooled_by_credibility() -> None:
    decisions = pd.DataFrame(
        {
            "churned": [0] * 40 + [1, 0],
            "term_months": [12] * 30 + [1] * 10 + [12, 12],
            "recurring_amount": [100.0] * 30 + [50.0] * 10 + [100.0, 100.0],
            "renewed_amount": [120.0] * 30 + [50.0] * 10 + [np.nan, np.nan],
        }
    )
    uplift = renewal_uplift(decisions, prior_renewals=30.0)
    pooled = (30 * 120 + 10 * 50) / (30 * 100 + 10 * 50) - 1.0
    assert uplift["all"] == pytest.approx(pooled)
    assert uplift["12"] == pytest.approx((30 * 0.2 + 30 * pooled) / 60)
    assert uplift["1"] == pytest.approx((10 * 0.0 + 30 * pooled) / 40)
    assert renewal_uplift(decisions.drop(columns="renewed_amount"))["all"] == 0.0
