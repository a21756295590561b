"""AccountLTV: each piece against its component model, the interval, cohorts, the contract."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit, logit

from tillage.errors import ConvergenceError, DataValidationError, NotFittedError
from tillage.models.account_ltv import AccountLTV
from tillage.models.gamma_gamma import GammaGammaModel
from tillage.models.ltv import contracts, orders
from tillage.models.ltv.orders import SPEND_PENALIZERS, fit_spend
from tillage.models.simulate import simulate_beta_geo, simulate_gamma_gamma

WEEKS_PER_MONTH = 30.4375 / 7


def _decisions(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    theta = rng.beta(1.0, 6.0, n)
    rows = []
    for account in range(n):
        for _ in range(4):
            x = float(rng.random() < 0.3)
            churned = rng.random() < expit(logit(theta[account]) + 1.0 * x)
            rows.append((account + 1, int(churned), x))
            if churned:
                break
    return pd.DataFrame(rows, columns=["account_id", "churned", "x"])


def _accounts(n: int, seed: int) -> pd.DataFrame:
    frame = simulate_beta_geo(n, r=0.8, alpha=4.0, a=0.8, b=3.0, T=np.full(n, 52.0), seed=seed)
    frame["monetary_value"] = simulate_gamma_gamma(frame["frequency"], p=6, q=4, v=150, seed=seed)
    frame = frame.reset_index(drop=True)
    frame.insert(0, "account_id", np.arange(1, n + 1))
    frame["mrr"] = np.where(frame["account_id"] % 2 == 0, 1000.0, 0.0)
    frame["months_to_renewal"] = 3.0
    frame["term_months"] = 12.0
    frame["x"] = (frame["account_id"] % 3 == 0).astype(float)
    frame["service_hours_per_month"] = 2.0
    return frame


@pytest.fixture(scope="module")
def fitted() -> tuple[AccountLTV, pd.DataFrame, pd.DataFrame]:
    accounts, decisions = _accounts(600, 1), _decisions(600, 2)
    model = AccountLTV(
        covariates=["x"], horizon_months=24, discount_rate=0.0, n_draws=60, hourly_cost=100.0
    ).fit(accounts, decisions)
    return model, accounts, decisions


def test_contract_revenue_follows_renewal_survival(fitted) -> None:  # type: ignore[no-untyped-def]
    model, accounts, decisions = fitted
    out = model.predict(accounts)
    holders = accounts[accounts["mrr"] > 0]
    s1 = model.churn_model_.survival(holders[["account_id", "x"]], 1, decisions).to_numpy()
    s2 = model.churn_model_.survival(holders[["account_id", "x"]], 2, decisions).to_numpy()
    # renewals due at months 3 and 15: 3 months certain, 12 at S(1), 9 at S(2)
    expected = 1000.0 * (3 + 12 * s1 + 9 * s2)
    got = out.loc[holders["account_id"], "expected_contract_revenue"].to_numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-9)
    np.testing.assert_allclose(out.loc[holders["account_id"], "churn_risk"], 1 - s1, rtol=1e-9)
    assert out.loc[accounts.loc[accounts["mrr"] == 0, "account_id"], "churn_risk"].isna().all()


def test_orders_follow_bg_nbd_and_gamma_gamma(fitted) -> None:  # type: ignore[no-untyped-def]
    model, accounts, _ = fitted
    out = model.predict(accounts)
    rfm = accounts[["frequency", "recency", "T"]]
    purchases = model.purchase_model_.conditional_expected_purchases(24 * WEEKS_PER_MONTH, rfm)
    np.testing.assert_allclose(out["expected_orders"], purchases, rtol=1e-4, atol=1e-9)
    spend = model.spend_model_.conditional_expected_average_profit(
        accounts[["frequency", "monetary_value"]]
    )
    np.testing.assert_allclose(
        out["expected_order_revenue"], purchases * spend, rtol=1e-4, atol=1e-6
    )
    alive = model.purchase_model_.conditional_probability_alive(rfm).to_numpy()
    buyers_only = (accounts["mrr"] == 0).to_numpy()
    np.testing.assert_allclose(out["p_alive"].to_numpy()[buyers_only], alive[buyers_only])


def test_ltv_is_margin_minus_cost_to_serve(fitted) -> None:  # type: ignore[no-untyped-def]
    model, accounts, _ = fitted
    out = model.predict(accounts)
    # no discounting here: the present values are plain sums
    np.testing.assert_allclose(out["margin_pv"], 0.6 * out["expected_revenue"], rtol=1e-9)
    np.testing.assert_allclose(
        out["cost_to_serve_pv"], 2.0 * 100.0 * out["expected_lifetime_months"], rtol=1e-9
    )
    np.testing.assert_allclose(out["ltv"], out["margin_pv"] - out["cost_to_serve_pv"])
    curve = model.survival_curve(accounts)
    np.testing.assert_allclose(curve.sum(axis=1), out["expected_lifetime_months"])
    assert (curve.diff(axis=1).iloc[:, 1:] <= 1e-12).all().all()  # never comes back


def test_discounting_lowers_value() -> None:
    accounts, decisions = _accounts(300, 3), _decisions(300, 4)
    plain = AccountLTV(covariates=["x"], discount_rate=0.0, n_draws=0).fit(accounts, decisions)
    discounted = AccountLTV(covariates=["x"], discount_rate=0.2, n_draws=0).fit(accounts, decisions)
    a, b = plain.predict(accounts), discounted.predict(accounts)
    assert (b["margin_pv"] <= a["margin_pv"] + 1e-9).all()
    assert b["margin_pv"].sum() < 0.9 * a["margin_pv"].sum()
    assert (b["ltv"].abs() <= a["ltv"].abs() + 1e-9).all()


def test_interval_brackets_the_estimate_and_narrows_with_data() -> None:
    small = AccountLTV(covariates=["x"], n_draws=80).fit(_accounts(150, 5), _decisions(150, 6))
    large = AccountLTV(covariates=["x"], n_draws=80).fit(_accounts(1500, 5), _decisions(1500, 6))
    probe = _accounts(150, 5)
    a, b = small.predict(probe), large.predict(probe)
    for out in (a, b):
        assert (out["ltv_low"] <= out["ltv"]).all() and (out["ltv"] <= out["ltv_high"]).all()
    width = lambda o: ((o["ltv_high"] - o["ltv_low"]) / o["ltv"].abs().clip(lower=1)).median()  # noqa: E731
    assert width(b) < 0.7 * width(a)


def test_accounts_without_history_get_the_cohort_average(fitted) -> None:  # type: ignore[no-untyped-def]
    model = fitted[0]
    newcomer = pd.DataFrame({"account_id": [10_001], "mrr": [0.0]})
    out = model.predict(newcomer)
    assert out.loc[10_001, "ltv_source"] == "cohort"
    assert out.loc[10_001, "ltv"] == pytest.approx(model.cohort_ltv_["all"])
    assert model.cohort_ltv_["all"] > 0
    # with the cohort's spread as its interval, not a zero-width point
    assert out.loc[10_001, "ltv_low"] < out.loc[10_001, "ltv"] < out.loc[10_001, "ltv_high"]


def test_a_lost_customer_is_worth_a_possible_return_not_the_cohort_average() -> None:
    accounts, decisions = _accounts(300, 3), _decisions(300, 4)
    # account 10_002 had a contract for two years that ended; it never ordered
    lost = pd.DataFrame({"account_id": [10_002], "mrr": [0.0], "contract_tenure_months": [24.0]})
    model = AccountLTV(covariates=["x"], horizon_months=24, n_draws=0, hourly_cost=100.0).fit(
        pd.concat([accounts, lost], ignore_index=True), decisions, returns=(1, 49)
    )
    out = model.predict(pd.concat([lost, pd.DataFrame({"account_id": [10_003]})]))
    assert out.loc[10_002, "ltv_source"] == "lost"
    # 1 of 49 lost customers came back within a year: p = 2 / 51 of a new account's value
    assert out.loc[10_002, "ltv"] == pytest.approx(out.loc[10_003, "ltv"] * 2 / 51)
    assert out.loc[10_002, "ltv_low"] == 0.0
    assert out.loc[10_002, "ltv"] < out.loc[10_002, "ltv_high"] < out.loc[10_003, "ltv_high"]
    assert model.params()["returns"]["came_back_lost"] == [1, 49]


def test_pieces_that_could_not_be_fitted_are_named() -> None:
    few = _accounts(10, 5)  # ten buyers: too few for BG/NBD
    model = AccountLTV(horizon_months=12, n_draws=0).fit(few)
    assert set(model.not_fitted_) == {"renewal_churn", "bg_nbd"}
    assert "10 buyers" in model.params()["not_fitted"]["bg_nbd"]


def test_a_company_without_contracts_is_not_told_of_its_renewal_churn_model() -> None:
    """No running contract and no renewal decision: the churn model has nothing to value, so
    it is no missing piece (a retailer would read it as a fault); with one holder it is."""
    few = _accounts(10, 5).assign(mrr=0.0)
    assert "renewal_churn" not in AccountLTV(horizon_months=12, n_draws=0).fit(few).not_fitted_
    one = few.assign(mrr=[100.0] + [0.0] * (len(few) - 1))
    assert "renewal_churn" in AccountLTV(horizon_months=12, n_draws=0).fit(one).not_fitted_


def test_acquisition_cost_is_reported_not_subtracted(fitted) -> None:  # type: ignore[no-untyped-def]
    model, accounts, _ = fitted
    with_cac = accounts.assign(acquisition_cost=500.0)
    a, b = model.predict(accounts), model.predict(with_cac)
    np.testing.assert_allclose(a["ltv"], b["ltv"])
    positive = b["ltv"] > 0
    np.testing.assert_allclose(b.loc[positive, "ltv_to_cac"], b.loc[positive, "ltv"] / 500.0)
    paid = b["payback_months"].dropna()
    assert ((paid >= 1) & (paid <= 24)).all() and len(paid) > 0
    assert a["payback_months"].isna().all()


def test_estimator_contract() -> None:
    model = AccountLTV(horizon_months=12, covariates=["x"])
    assert model.horizon_months == 12 and model.covariates == ["x"]
    with pytest.raises(NotFittedError):
        model.predict(_accounts(10, 1))
    accounts, decisions = _accounts(200, 7), _decisions(200, 8)
    before = accounts.copy()
    assert model.fit(accounts, decisions) is model
    pd.testing.assert_frame_equal(accounts, before)
    out = model.predict(accounts)
    assert out.index.name == "account_id" and list(out.index) == list(accounts["account_id"])
    with pytest.raises(DataValidationError, match="account_id"):
        model.predict(pd.concat([accounts, accounts]))
    with pytest.raises(DataValidationError, match="horizon"):
        AccountLTV(horizon_months=0).fit(accounts, decisions)


def test_margin_by_family_weights_the_revenue_mix(fitted) -> None:  # type: ignore[no-untyped-def]
    _model, accounts, decisions = fitted
    holders = accounts.loc[accounts["mrr"] > 0, "account_id"]
    mix = pd.DataFrame(
        {"account_id": holders, "stream": "contract", "family": "licence", "amount": 1000.0}
    )
    model = AccountLTV(
        covariates=["x"],
        horizon_months=24,
        discount_rate=0.0,
        n_draws=0,
        margin_by_family={"default": 0.5, "licence": 0.9},
    ).fit(accounts, decisions, mix=mix)
    out = model.predict(accounts)
    margin = 0.9 * out["expected_contract_revenue"] + 0.5 * out["expected_order_revenue"]
    np.testing.assert_allclose(out["expected_margin"], margin, rtol=1e-9)
    assert model.params()["margin_by_family"]["licence"] == 0.9
    # the first 12 of the 24 months
    assert (out["expected_revenue_12m"] < out["expected_revenue"]).all()
    short = AccountLTV(covariates=["x"], horizon_months=12, n_draws=0).fit(accounts, decisions)
    np.testing.assert_allclose(
        short.predict(accounts)["expected_revenue"], out["expected_revenue_12m"], rtol=1e-9
    )


def test_spend_fit_falls_back_to_a_small_penalty_when_p_runs_off(cdnow_spend) -> None:  # type: ignore[no-untyped-def]
    # a demo company's repeat buyers whose plain Gamma-Gamma likelihood rises as p → ∞
    path = Path(__file__).resolve().parents[1] / "data" / "demo_spend" / "seed5_repeat_buyers.csv"
    buyers = pd.read_csv(path)[["frequency", "monetary_value"]].astype(float)
    with pytest.raises(ConvergenceError):
        GammaGammaModel().fit(buyers)
    model = fit_spend(buyers)
    assert model.penalizer == SPEND_PENALIZERS[0]
    assert 1 < model.params_["p"] < 20 and model.params_["q"] > 1
    # the expected spend stays close to what the buyers spent on average
    expected = model.conditional_expected_average_profit(buyers)
    assert expected.sum() == pytest.approx(buyers["monetary_value"].sum(), rel=0.05)
    # data with a proper maximum (CDNOW) are fitted without a penalty
    repeat = cdnow_spend[cdnow_spend["frequency"] > 0][["frequency", "monetary_value"]]
    assert fit_spend(repeat).penalizer == 0.0
    assert fit_spend(repeat).params_ == pytest.approx(GammaGammaModel().fit(repeat).params_)


def test_all_accounts_at_once_equal_each_account_alone(fitted, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The draws are evaluated over all accounts at once, holders grouped by the number of
    renewals they need and in chunks of rows: each account's figures must be those it gets
    when scored alone."""
    model, accounts, _ = fitted
    probe = accounts.iloc[:40].copy()
    rng = np.random.default_rng(8)
    probe["term_months"] = rng.choice([1.0, 3.0, 12.0, 24.0], len(probe))
    probe["months_to_renewal"] = rng.uniform(0.0, 20.0, len(probe))
    probe["p_fixed_term"] = rng.choice([0.0, 0.25], len(probe))
    together = model.predict(probe)
    alone = pd.concat([model.predict(probe.iloc[[i]]) for i in range(len(probe))])
    numeric = together.select_dtypes("number").columns
    np.testing.assert_allclose(
        together[numeric].to_numpy(float), alone[numeric].to_numpy(float), rtol=1e-9, atol=1e-9
    )
    assert (together["ltv_high"] > together["ltv_low"]).sum() > 30  # the draws did move
    monkeypatch.setattr(contracts, "CHUNK_ROWS", 3)
    monkeypatch.setattr(orders, "CHUNK_ROWS", 7)
    chunked = model.predict(probe)
    np.testing.assert_allclose(
        chunked[numeric].to_numpy(float), alone[numeric].to_numpy(float), rtol=1e-9, atol=1e-9
    )
    assert set(probe["term_months"]) == {1.0, 3.0, 12.0, 24.0}
