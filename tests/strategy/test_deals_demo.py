"""Done-when tests on the demo company, whose generator knows the true win probabilities.

Time-based: the model is trained on deals closed by the cutoff a year before the demo's as-of
date and tested on the deals open from the cutoff on. New-business deals are left out: the demo
repeats them until one is won, so their outcomes are not draws from their stated probability.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pyarrow as pa
import pytest

from tillage.demo import DemoConfig, generate
from tillage.features.deals import deal_history
from tillage.features.engine import STORE_COLUMNS, duckdb_backend, typed_arrow
from tillage.models.calibration import compare_probabilities
from tillage.strategy.deals import (
    expansion_backtest,
    month_ends,
    score_open_deals,
    suggest_products,
    win_probability_backtest,
)

AS_OF = dt.date(2026, 9, 30)
TYPES = ("upsell", "cross_sell", "renewal")
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def company():  # type: ignore[no-untyped-def]
    return generate(DemoConfig(n_accounts=2500, seed=21, as_of=AS_OF))


@pytest.fixture(scope="module")
def con(company):  # type: ignore[no-untyped-def]
    tables = {
        name: typed_arrow(name, pa.Table.from_pandas(company.tables[name][list(cols)]))
        for name, cols in STORE_COLUMNS.items()
    }
    backend = duckdb_backend(tables)
    yield backend
    backend.disconnect()


@pytest.fixture(scope="module")
def history(con):  # type: ignore[no-untyped-def]
    frame = deal_history(con, month_ends(AS_OF, 24))
    return frame[frame["type"].isin(TYPES)]


def test_win_probability_beats_stage_rates_and_is_calibrated(con, history, company) -> None:  # type: ignore[no-untyped-def]
    result = win_probability_backtest(con, AS_OF, cutoff=dt.date(2025, 9, 30), history=history)
    m = result.metrics
    assert m.loc["model", "brier"] < m.loc["stage_rate", "brier"]
    assert m.loc["model", "auc"] > m.loc["stage_rate", "auc"] + 0.1
    assert m.loc["model", "n"] > 1500
    table = result.reliability
    assert (table["gap"].abs() < 0.04 + 2 * table["standard_error"]).all(), table
    # the truth is better still (the model sees health only through its traces)
    truth = company.truth["opportunities_truth"].set_index("opportunity_id")
    p = result.predictions
    scores = compare_probabilities(
        p["label_won"],
        {
            "model": p["win_probability"],
            "truth": truth.loc[p["opportunity_id"], "true_win_probability"].to_numpy(),
        },
        weights=p["weight"],
    )
    assert scores.loc["truth", "brier"] <= scores.loc["model", "brier"]


def test_open_deals_beat_the_crm_probability(con, history, company) -> None:  # type: ignore[no-untyped-def]
    current = deal_history(con, [AS_OF])
    current = current[current["type"].isin(TYPES)]
    scored, _ = score_open_deals(con, AS_OF, history=pd.concat([history, current]))
    future = company.truth["future_opportunities"].set_index("id")
    outcome = future.loc[scored["opportunity_id"]]
    closed = outcome["is_closed"].to_numpy(bool)
    y = outcome["is_won"].astype(float).to_numpy()[closed]
    s = scored[closed]
    scores = compare_probabilities(
        y,
        {
            "model": s["win_probability"],
            "stage_rate": s["stage_rate"],
            "crm": s["crm_probability"],
        },
    )
    assert scores.loc["model", "brier"] < scores.loc["stage_rate", "brier"]
    assert scores.loc["model", "brier"] < scores.loc["crm", "brier"]


def test_expansion_propensity_beats_the_base_rate(con) -> None:  # type: ignore[no-untyped-def]
    result = expansion_backtest(con, AS_OF, horizon_days=180, train_dates=4)
    m = result.metrics
    assert m.loc["model", "brier"] < m.loc["base_rate", "brier"]
    assert m.loc["model", "brier"] < m.loc["past_expansion", "brier"]
    assert m.loc["model", "auc"] > 0.7
    assert 0.6 < m.loc["model", "predicted_value"] / m.loc["model", "actual_value"] < 1.5


def test_suggestions_follow_the_catalog_affinities(con) -> None:  # type: ignore[no-untyped-def]
    suggestions, model = suggest_products(con, AS_OF)
    assert len(suggestions) > 0
    assert (model.rules_["lift"] >= 1.2).all()
    # the first-generation gateway (20) has a successor (19): its users are offered 19
    successors = suggestions[suggestions["kind"] == "successor"]
    assert set(successors["because_of"]) <= {4, 20}
    assert (successors.loc[successors["because_of"] == 20, "product_id"] == 19).all()
