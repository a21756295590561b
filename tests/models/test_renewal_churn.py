"""The beta-logistic renewal churn model: the sBG as its special case, recovery of planted
covariate effects (simulated and from the demo company's truth), predictions."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.special import betaln, expit, logit, logsumexp

from tillage.demo import DemoConfig, generate
from tillage.errors import DataValidationError, NotFittedError
from tillage.models.renewal_churn import RenewalChurnModel, _beta_nodes

DATA = Path(__file__).resolve().parents[1] / "data" / "fader_hardie_sbg"


def _sbg_decisions(cohort: str) -> pd.DataFrame:
    """Fader & Hardie (2007) cohorts as renewal decisions: years 1..7, churn in the last one."""
    customers = pd.read_csv(DATA / "sbg_paper.csv")
    customers = customers[customers["cohorts"] == cohort]
    rows = []
    for cid, recency in zip(customers["customer_id"], customers["recency"], strict=True):
        years = min(int(recency), 7)
        churned_at = int(recency) if recency < 8 else None
        rows += [(cid, int(year == churned_at)) for year in range(1, years + 1)]
    return pd.DataFrame(rows, columns=["account_id", "churned"])


@pytest.mark.parametrize(
    ("cohort", "gamma", "delta"), [("regular", 0.704, 1.182), ("highend", 0.668, 3.806)]
)
def test_without_covariates_it_is_the_sbg(cohort: str, gamma: float, delta: float) -> None:
    """Published sBG estimates, Fader & Hardie (2007), Table 1 / the shared data README."""
    model = RenewalChurnModel().fit(_sbg_decisions(cohort))
    assert model.params_["gamma"] == pytest.approx(gamma, abs=0.0015)
    assert model.params_["delta"] == pytest.approx(delta, abs=0.004)
    g, d = model.params_["gamma"], model.params_["delta"]
    # survival after n renewals has the sBG closed form B(g, d + n) / B(g, d)
    current = pd.DataFrame({"account_id": [1]})
    for n in (1, 3, 7):
        expected = np.exp(betaln(g, d + n) - betaln(g, d))
        assert model.survival(current, n).iloc[0] == pytest.approx(expected, rel=1e-9)


def _simulate(n_accounts: int, gamma: float, delta: float, beta: np.ndarray, seed: int):
    rng = np.random.default_rng(seed)
    theta = rng.beta(gamma, delta, n_accounts)
    tendency = rng.uniform(0.1, 0.6, size=(n_accounts, len(beta)))  # account-level exposure
    rows, covs = [], []
    alive = np.ones(n_accounts, dtype=bool)
    for _decision in range(6):  # at most six renewal decisions, stop at churn
        x = (rng.random((n_accounts, len(beta))) < tendency).astype(float)
        p = expit(logit(theta) + x @ beta)
        churn = rng.random(n_accounts) < p
        idx = np.flatnonzero(alive)
        rows.append(np.c_[idx, churn[idx]])
        covs.append(x[idx])
        alive &= ~churn
    frame = pd.DataFrame(np.vstack(rows), columns=["account_id", "churned"])
    names = [f"x{k}" for k in range(len(beta))]
    return pd.concat([frame, pd.DataFrame(np.vstack(covs), columns=names)], axis=1), names


@pytest.mark.slow
def test_recovers_planted_parameters_from_simulated_decisions() -> None:
    truth = np.array([0.9, -0.6, 1.4])
    frame, names = _simulate(12_000, 0.9, 6.0, truth, seed=11)
    model = RenewalChurnModel(covariates=names).fit(frame)
    se = model.standard_errors_
    for name, value in zip(names, truth, strict=True):
        assert abs(model.coef_[name] - value) < 4 * se[name], (name, model.coef_[name])
        assert model.coef_[name] == pytest.approx(value, abs=0.15)
    assert model.params_["gamma"] == pytest.approx(0.9, rel=0.25)
    assert model.params_["delta"] == pytest.approx(6.0, rel=0.3)
    assert model.log_likelihood_ < 0 and model.n_accounts_ == 12_000


def test_recovers_the_demo_companys_planted_churn_drivers() -> None:
    company = generate(DemoConfig(n_accounts=4000, seed=5))
    renewals = company.truth["renewals"]
    planted = company.params["contracts"]["beta"]
    names = list(planted)
    model = RenewalChurnModel(covariates=names).fit(renewals)
    table = model.summary()
    for name in names:
        estimate, se = table.loc[name, "estimate"], table.loc[name, "se"]
        assert abs(estimate - planted[name]) < 3.5 * se, (name, estimate, se, planted[name])
    gamma, delta = company.params["contracts"]["gamma"], company.params["contracts"]["delta"]
    mean = model.params_["gamma"] / (model.params_["gamma"] + model.params_["delta"])
    assert mean == pytest.approx(gamma / (gamma + delta), abs=0.04)


def test_predictions_follow_covariates_and_history() -> None:
    frame, names = _simulate(3000, 1.0, 5.0, np.array([1.0]), seed=3)
    model = RenewalChurnModel(covariates=names).fit(frame)
    current = pd.DataFrame({"account_id": [1, 2], "x0": [0.0, 1.0]})
    p = model.churn_probability(current)
    assert 0 < p.iloc[0] < p.iloc[1] < 1
    # an account that renewed five times is believed less churn-prone than a new one
    history = pd.DataFrame({"account_id": [1] * 5, "churned": 0, "x0": 0.0})
    same_now = pd.DataFrame({"account_id": [1, 99], "x0": [0.0, 0.0]})
    posterior = model.churn_probability(same_now, history)
    assert posterior.iloc[0] < posterior.iloc[1]
    survival = [model.survival(current, n).iloc[0] for n in (1, 2, 5)]
    assert survival[0] > survival[1] > survival[2] > 0
    renewals = model.expected_renewals(current, discount=0.08)
    assert renewals.iloc[0] > renewals.iloc[1] > 0
    undiscounted = model.expected_renewals(current.iloc[:1], max_renewals=400).iloc[0]
    direct = sum(model.survival(current.iloc[:1], n).iloc[0] for n in range(1, 401))
    assert undiscounted == pytest.approx(direct, rel=1e-6)


def test_contract() -> None:
    frame = _sbg_decisions("regular")
    before = frame.copy()
    model = RenewalChurnModel()
    with pytest.raises(NotFittedError):
        model.churn_probability(pd.DataFrame({"account_id": [1]}))
    assert model.fit(frame) is model
    pd.testing.assert_frame_equal(frame, before)
    again = RenewalChurnModel().fit(frame)
    assert again.params_ == pytest.approx(model.params_)
    with pytest.raises(DataValidationError, match="usage"):
        RenewalChurnModel(covariates=["usage"]).fit(frame)
    with pytest.raises(DataValidationError, match="0/1"):
        RenewalChurnModel().fit(frame.assign(churned=2))


def test_analytic_gradient_matches_finite_differences() -> None:
    from tillage.models.renewal_churn import _Decisions

    frame, names = _simulate(800, 0.8, 4.0, np.array([0.7, -0.4]), seed=2)
    model = RenewalChurnModel(covariates=names)
    decisions = _Decisions(frame, "account_id", names)
    u = np.array([np.log(0.7), np.log(3.0), 0.5, -0.2])
    _value, gradient = model._negloglik(u, decisions)
    for i in range(len(u)):
        step = np.zeros_like(u)
        step[i] = 1e-5
        numeric = (
            model._negloglik(u + step, decisions)[0] - model._negloglik(u - step, decisions)[0]
        ) / 2e-5
        assert gradient[i] == pytest.approx(numeric, rel=2e-3, abs=1e-6), i


@pytest.mark.parametrize(
    ("gamma", "delta"), [(1e-49, 1e36), (1e36, 1e-49), (1e-49, 5.0), (1e-30, 1e-30), (40.0, 600.0)]
)
def test_quadrature_survives_the_bootstraps_extreme_draws(gamma: float, delta: float) -> None:
    # draws of a weakly identified concentration (the 300-account demo of seed 42) reach
    # 1e-49 and 1e36; the Jacobi nodes once failed there ("alpha and beta must be > -1")
    theta, log_w = _beta_nodes(gamma, delta, 48)
    assert np.all((theta > 0) & (theta < 1)) and np.all(np.isfinite(log_w))
    assert logsumexp(log_w) == pytest.approx(0.0, abs=1e-9)
    # the quadrature keeps the law's mean (to the floor's precision at the extremes)
    mean = float(np.exp(log_w) @ theta)
    assert mean == pytest.approx(gamma / (gamma + delta), abs=1e-4)
