"""Marginal realism and the planted latent effects are visible in the generated data."""

from __future__ import annotations

import re

import numpy as np

from tillage.demo import DemoCompany

JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")


def test_shares_of_contractual_and_ordering_accounts(big_company: DemoCompany) -> None:
    truth = big_company.truth["accounts"]
    assert 0.65 <= truth["is_contractual"].mean() <= 0.75
    assert 0.55 <= truth["is_orderer"].mean() <= 0.65
    assert (truth["is_contractual"] | truth["is_orderer"]).all()


def test_annual_churn_is_plausible(big_company: DemoCompany) -> None:
    renewals = big_company.truth["renewals"]
    annual = renewals[(renewals["term_months"] == 12) & ~renewals["in_horizon"]]
    assert 0.05 <= annual["churned"].mean() <= 0.35


def test_order_lines_per_account(big_company: DemoCompany) -> None:
    per_account = len(big_company.tables["orders"]) / big_company.config.n_accounts
    assert 60 <= per_account <= 140
    lines = big_company.tables["orders"].groupby("order_number").size()
    assert lines.between(1, 5).all()


def test_amounts_are_b2b_sized(big_company: DemoCompany) -> None:
    mrr = big_company.tables["contracts"]["recurring_amount"]
    assert mrr.between(50_000, 5_000_000).all()
    assert mrr.quantile(0.99) > 4 * mrr.median()  # heavy tail by company size
    orders = big_company.tables["orders"]
    assert (orders["margin"] < orders["amount"]).all()


def test_japanese_names(company: DemoCompany) -> None:
    for table, column in (("accounts", "name"), ("contacts", "name"), ("reps", "name")):
        assert company.tables[table][column].str.contains(JAPANESE).all(), table
    names = company.tables["accounts"]["name"]
    assert names.str.contains("株式会社").mean() > 0.5


def test_planted_churn_effects_are_visible(big_company: DemoCompany) -> None:
    renewals = big_company.truth["renewals"]
    renewals = renewals[renewals["term_months"] > 1]
    for covariate in ("unresolved_tickets", "detractor", "silence", "usage_decline"):
        with_it = renewals.loc[renewals[covariate] > 0, "churned"].mean()
        without = renewals.loc[renewals[covariate] == 0, "churned"].mean()
        assert with_it > 1.3 * without, covariate


def test_renewal_probability_is_the_recorded_design(big_company: DemoCompany) -> None:
    renewals = big_company.truth["renewals"]
    beta = big_company.params["contracts"]["beta"]
    theta = renewals["theta"].to_numpy()
    eta = np.log(theta / (1 - theta)) + sum(b * renewals[k].to_numpy() for k, b in beta.items())
    # the playbook actions taken before the decision scale it by Π (1 − effect)
    factor = np.ones(len(renewals))
    for action, spec in big_company.params["playbooks"]["effects"].items():
        if spec["basis"] == "churn":
            factor *= 1 - spec["effect"] * renewals["taken_" + action].to_numpy()
    assert (factor < 1).any()
    np.testing.assert_allclose(factor / (1 + np.exp(-eta)), renewals["churn_probability"])


def test_covariates_match_the_observable_tables(company: DemoCompany) -> None:
    """Recompute detractor and unresolved tickets from the tables for past renewals."""
    renewals = company.truth["renewals"]
    renewals = renewals[~renewals["in_horizon"]].head(200)
    nps = company.tables["nps_responses"].sort_values(["responded_on", "contact_id"])
    tickets = company.tables["tickets"]
    for row in renewals.itertuples():
        d = row.decision_date
        answers = nps[(nps["account_id"] == row.account_id) & (nps["responded_on"] <= d)]
        expected = bool(len(answers)) and answers["score"].iloc[-1] <= 6
        assert bool(row.detractor) == expected
        t = tickets[tickets["account_id"] == row.account_id]
        opened = t["opened_at"].dt.normalize() <= d - np.timedelta64(30, "D")
        closed_later = t["closed_at"].isna() | (t["closed_at"].dt.normalize() > d)
        assert row.unresolved_tickets == min(3, int((opened & closed_later).sum()))


def test_bg_nbd_rate_mean_matches_r_over_alpha(big_company: DemoCompany) -> None:
    truth = big_company.truth["accounts"]
    ordering = big_company.params["ordering"]
    lam = truth.loc[truth["is_orderer"], "lambda_"]
    expected = ordering["r"] / ordering["alpha"]
    standard_error = np.sqrt(ordering["r"]) / ordering["alpha"] / np.sqrt(len(lam))
    assert abs(lam.mean() - expected) < 4 * standard_error
    p = truth.loc[truth["is_orderer"], "p_dropout"]
    assert abs(p.mean() - ordering["a"] / (ordering["a"] + ordering["b"])) < 0.005


def test_win_probability_separates_outcomes(big_company: DemoCompany) -> None:
    truth = big_company.truth["opportunities_truth"]
    expand = truth[truth["type"].isin(["upsell", "cross_sell"])]
    high = expand["true_win_probability"] > expand["true_win_probability"].median()
    assert expand.loc[high, "won"].mean() > expand.loc[~high, "won"].mean() + 0.1


def test_future_value_truth(big_company: DemoCompany) -> None:
    truth = big_company.truth["accounts"]
    assert (truth["future_revenue"] >= 0).all()
    churned_before = truth["churned_before_as_of"] & ~truth["is_orderer"]
    assert (truth.loc[churned_before, "future_revenue"] == 0).all()
    alive_rev = truth.loc[truth["alive_at_as_of"], "future_order_revenue"].mean()
    dead_rev = truth.loc[truth["is_orderer"] & ~truth["alive_at_as_of"], "future_order_revenue"]
    assert (dead_rev == 0).all() and alive_rev > 0
