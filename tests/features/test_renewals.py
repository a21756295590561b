"""Renewal decisions from the store: the design agrees with the demo generator's truth, and the
churn model fitted on store-derived decisions before a cutoff recovers the planted effects and
predicts the decisions after it."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from tillage.demo import DemoCompany, DemoConfig, generate
from tillage.features.engine import VALUE_COLUMNS, duckdb_backend, feature_backend
from tillage.features.renewals import (
    COVARIATES,
    current_renewal_covariates,
    renewal_decisions,
)
from tillage.models.renewal_churn import RenewalChurnModel

DOC = Path(__file__).resolve().parents[2] / "docs" / "features.md"
RAW = ("usage_trend", "unresolved_tickets_raw", "latest_nps", "days_since_meeting")


def _backend(company: DemoCompany):  # type: ignore[no-untyped-def]
    arrow = {
        name: pa.Table.from_pandas(company.tables[name][list(cols)], preserve_index=False)
        for name, cols in VALUE_COLUMNS.items()
    }
    return duckdb_backend(arrow)


@pytest.fixture(scope="module")
def company() -> DemoCompany:
    return generate(DemoConfig(n_accounts=400, seed=7))


def _compare(decisions: pd.DataFrame, company: DemoCompany) -> None:
    truth = company.truth["renewals"]
    truth = truth[~truth["in_horizon"]]
    assert len(decisions) == len(truth)
    both = truth.merge(decisions, on="contract_id", suffixes=("_truth", ""), validate="1:1")
    assert len(both) == len(truth)
    assert (both["account_id_truth"] == both["account_id"]).all()
    assert (pd.to_datetime(both["decision_date_truth"]) == both["decision_date"]).all()
    for name in (*COVARIATES, "churned", "term_months"):
        expected = both[f"{name}_truth"].astype(float).to_numpy()
        assert np.array_equal(expected, both[name].to_numpy(dtype=float)), name
    for name in RAW:
        expected = both[f"{name}_truth"].astype(float).to_numpy()
        if name == "days_since_meeting":  # the generator writes 10,000 for "never"
            expected = np.where(expected >= 10_000, np.nan, expected)
        np.testing.assert_allclose(both[name].to_numpy(dtype=float), expected, rtol=1e-12)


def test_store_design_equals_the_generators_truth(company: DemoCompany) -> None:
    con = _backend(company)
    decisions = renewal_decisions(con, company.config.as_of)
    con.disconnect()
    _compare(decisions, company)


def test_through_a_sqlite_store(company: DemoCompany, store_factory) -> None:  # type: ignore[no-untyped-def]
    url = store_factory("sqlite", company.tables)
    with feature_backend(url, "duckdb", tables=VALUE_COLUMNS) as con:
        decisions = renewal_decisions(con, company.config.as_of)
        current = current_renewal_covariates(con, company.config.as_of)
    _compare(decisions, company)
    contracts = company.tables["contracts"]
    as_of = pd.Timestamp(company.config.as_of)
    active = contracts[
        (pd.to_datetime(contracts["start_date"]) <= as_of)
        & (pd.to_datetime(contracts["end_date"]) > as_of)
    ]
    assert set(current["account_id"]) == set(active["account_id"])
    assert current["account_id"].is_unique
    assert (current["next_renewal"] > as_of).all()


def test_nothing_after_as_of_is_read(company: DemoCompany) -> None:
    """Decisions as of an earlier date are exactly the earlier rows of today's decisions: a term
    whose last day is ``as_of`` is not decided yet (its successor would start the day after),
    and every decided term's successor has started, so its amount is known."""
    con = _backend(company)
    early = dt.date(2025, 9, 30)
    before = renewal_decisions(con, early)
    now = renewal_decisions(con, company.config.as_of)
    con.disconnect()
    expected = now[now["decision_date"] < pd.Timestamp(early)].reset_index(drop=True)
    assert (now["decision_date"] == pd.Timestamp(early)).any()  # the boundary is exercised
    pd.testing.assert_frame_equal(before, expected)
    known = before["renewed_amount"].notna().to_numpy()
    assert (known == (expected["churned"] == 0).to_numpy()).all()


@pytest.mark.slow
def test_time_split_recovers_planted_effects_and_predicts_later_decisions() -> None:
    company = generate(DemoConfig(n_accounts=4000, seed=5))
    con = _backend(company)
    cutoff = dt.date(2025, 12, 31)
    decisions = renewal_decisions(con, company.config.as_of)
    con.disconnect()
    train = decisions[decisions["decision_date"] <= pd.Timestamp(cutoff)]
    test = decisions[decisions["decision_date"] > pd.Timestamp(cutoff)]
    model = RenewalChurnModel(covariates=COVARIATES).fit(train)
    planted = company.params["contracts"]["beta"]
    table = model.summary()
    for name, value in planted.items():
        estimate, se = table.loc[name, "estimate"], table.loc[name, "se"]
        assert abs(estimate - value) < 3 * se, (name, estimate, se, value)
    # out of time: each later decision predicted from its covariates and the account's history
    # before the cutoff (a pseudo-account per decision carries that history)
    current = test[["account_id", *COVARIATES]].copy()
    current["account_id"] = np.arange(len(test))  # one pseudo-account per decision
    history = train.merge(test[["account_id"]].assign(pseudo=np.arange(len(test))), on="account_id")
    history["account_id"] = history["pseudo"]
    p = model.churn_probability(current, history).to_numpy()
    y = test["churned"].to_numpy(dtype=float)
    assert abs(p.mean() - y.mean()) < 0.02
    brier = float(np.mean((p - y) ** 2))
    base = float(np.mean((y.mean() - y) ** 2))
    assert brier < 0.93 * base


def test_decision_columns_are_documented(company: DemoCompany) -> None:
    names = re.findall(r"^\| `([a-z0-9_]+)` \|", DOC.read_text(encoding="utf-8"), re.M)
    con = _backend(company)
    columns = set(renewal_decisions(con, company.config.as_of).columns)
    columns |= set(current_renewal_covariates(con, company.config.as_of).columns)
    con.disconnect()
    assert columns <= set(names)
