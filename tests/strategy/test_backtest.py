"""The backtest on the demo company: against the store's holdout and the generator's truth."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from tillage.demo import DemoCompany, DemoConfig, generate
from tillage.features.engine import VALUE_COLUMNS, duckdb_backend
from tillage.models.account_ltv import AccountLTV
from tillage.models.evaluation import reliability_table, top_decile_capture
from tillage.models.forecast_text import candidate_label
from tillage.strategy.backtest import MODELS, backtest
from tillage.strategy.value import account_values


def _backend(company: DemoCompany):  # type: ignore[no-untyped-def]
    arrow = {
        name: pa.Table.from_pandas(company.tables[name][list(cols)], preserve_index=False)
        for name, cols in VALUE_COLUMNS.items()
    }
    return duckdb_backend(arrow)


def _true_futures(company: DemoCompany) -> pd.DataFrame:
    truth = company.truth["accounts"].set_index("account_id")
    at_risk = truth["is_contractual"] & ~truth["churned_before_as_of"]
    return pd.DataFrame(
        {
            "revenue": truth["future_revenue"],
            "orders": truth["future_orders"],
            "ordered": (truth["future_orders"] > 0).astype(float),
            "churned": np.where(at_risk, truth["churned_in_horizon"].astype(float), np.nan),
        }
    )


def test_store_holdout_metrics_side_by_side_with_baselines() -> None:
    company = generate(DemoConfig(n_accounts=500, seed=3))
    con = _backend(company)
    result = backtest(con, "2025-09-30", 12)
    con.disconnect()
    assert list(result.metrics.columns) == list(MODELS)
    for row in ("revenue_mae", "revenue_rmse", "orders_mae", "p_churn_brier", "p_order_brier"):
        assert result.metrics.loc[row].notna().all(), row
    assert result.metrics.loc["revenue_total_actual"].nunique() == 1
    assert set(result.reliability) >= {"p_churn/model", "p_order/last_period"}
    assert result.settings["holdout_end"] == "2026-09-30"
    # the model beats carrying the last period forward on per-account revenue error
    assert (
        result.metrics.loc["revenue_mae", "model"]
        < result.metrics.loc["revenue_mae", "last_period"]
    )
    # tillage's forecast carries an interval over outcomes that covers 75-85 % (issue 16's
    # band; Mondrian by history depth, tillage.models.forecast_interval)
    frame = result.accounts
    assert {"model_revenue_low", "model_revenue_high", "fitted_revenue"} <= set(frame.columns)
    assert (frame["model_revenue_low"] <= frame["model_revenue"] + 1e-9).all()
    assert (frame["model_revenue"] <= frame["model_revenue_high"] + 1e-9).all()
    assert 0.75 <= result.metrics.loc["revenue_interval_coverage", "model"] <= 0.85
    # chosen by the folds inside the calibration data: never worse than the run rate there
    forecast = result.settings["forecast"]
    for stream in ("contract_revenue", "order_revenue"):
        choice = forecast[stream]
        assert choice["folds"] >= 1 and choice["reason"].startswith(
            candidate_label(choice["forecast"], str)
        )
        scores = choice["scores"]
        assert scores[choice["forecast"]]["mae"] <= scores["naive"]["mae"]
        naive_error = abs(scores["naive"]["total_error"])
        assert abs(scores[choice["forecast"]]["total_error"]) <= naive_error + 1e-12
    # churn: the model's P(churn) or the renewal rate's, whichever won out of time in the folds
    churn = forecast["churn"]
    assert churn["folds"] >= 1 and churn["forecast"] in ("model", "renewal rate")
    model, base = churn["scores"]["model"], churn["scores"]["renewal rate"]
    won = model["brier"] < base["brier"] and model["log_loss"] < base["log_loss"]
    assert churn["forecast"] == ("model" if won else "renewal rate")
    if churn["forecast"] == "renewal rate":
        held = frame["last_period_p_churn"].notna()
        assert np.allclose(frame.loc[held, "model_p_churn"], frame.loc[held, "last_period_p_churn"])


def test_done_when_on_a_small_demo_company_against_the_generators_truth() -> None:
    company = generate(DemoConfig(n_accounts=800, seed=1))
    con = _backend(company)
    values, model, inputs = account_values(
        con, company.config.as_of, model=AccountLTV(n_draws=0, horizon_months=12)
    )
    con.disconnect()
    truth = company.truth["accounts"].set_index("account_id").reindex(values.index)
    # the LTV ranking captures more realised value (margin) than last year's revenue does
    accounts = inputs.accounts.set_index("account_id").reindex(values.index)
    last_year = accounts["revenue_365d"].fillna(0.0) + accounts["contract_revenue_365d"].fillna(0.0)
    assert top_decile_capture(values["ltv"], truth["future_margin"]) > top_decile_capture(
        last_year, truth["future_margin"]
    )
    # P(churn at the next renewal) against the generator's own probability of that decision
    renewals = company.truth["renewals"]
    first = renewals[renewals["in_horizon"]].sort_values("decision_date")
    first = first.drop_duplicates("account_id").set_index("account_id")
    pair = values[["churn_risk"]].join(first["churn_probability"], how="inner").dropna()
    assert len(pair) > 300
    decile = pd.qcut(pair["churn_risk"].rank(method="first"), 10, labels=False)
    table = pair.groupby(decile).mean()
    gap = (table["churn_probability"] - table["churn_risk"]).abs()
    assert gap.mean() < 0.04 and gap.max() < 0.10, table
    # the 12-month forecast in the scoring frame against the true futures
    assert values["expected_revenue"].sum() == pytest.approx(
        truth["future_revenue"].sum(), rel=0.10
    )
    assert values["p_alive"].between(0, 1).all()
    assert model.uplift_["12"] > 0  # annual renewals expand on average in the demo


@pytest.mark.slow
def test_done_when_on_the_demo_company_against_the_truth() -> None:
    company = generate(DemoConfig(n_accounts=2000, seed=42))
    con = _backend(company)
    result = backtest(con, company.config.as_of, 12, actuals=_true_futures(company))
    con.disconnect()
    frame = result.accounts
    truth = company.truth["accounts"].set_index("account_id").reindex(frame.index)
    # the LTV ranking captures more of the realised value than last year's revenue does
    value = truth["future_margin"]
    assert top_decile_capture(frame["model_ltv"], value) > top_decile_capture(
        frame["last_period_revenue"], value
    )
    assert (
        result.metrics.loc["top_decile_capture", "model"]
        > result.metrics.loc["top_decile_capture", "last_period"]
    )
    # churn probabilities are calibrated within a few points per decile (about 75 accounts each,
    # so one decile's observed rate has a standard error of 3-5 points)
    table = reliability_table(frame["model_p_churn"], frame["actual_churned"])
    assert table["gap"].abs().mean() < 0.04
    assert table["gap"].abs().max() < 0.12
    assert abs(frame["model_p_churn"].mean() - frame["actual_churned"].mean()) < 0.03
    orders = result.reliability["p_order/model"]
    assert orders["gap"].abs().max() < 0.08
    # issue 16's rule against the truth: no worse than the run rate on per-account MAE and on
    # total error (the revenue's sum, not only each stream), the 80 % interval covering 75-85 %
    m = result.metrics
    assert abs(m.loc["revenue_total_error", "model"]) <= abs(
        m.loc["revenue_total_error", "last_period"]
    )
    assert m.loc["revenue_mae", "model"] <= m.loc["revenue_mae", "last_period"]
    assert 0.75 <= m.loc["revenue_interval_coverage", "model"] <= 0.85
