"""The scoring run: account summary → AccountLTV (with interval and churn risk) → zones → snapshot.

Each later stage replaces a piece (priority, portfolio), but the shape stays: read the store as of
a date, score every account, write one immutable snapshot. :class:`NaiveLTV` (last year's revenue
× margin × a population retention) is kept as the baseline the backtest compares against, and
is the fallback when the history holds neither renewals nor repeat purchases to fit on.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
from sqlalchemy import Engine

from tillage.errors import ConvergenceError, DataValidationError
from tillage.features.account_summary import account_summary
from tillage.features.engine import VALUE_COLUMNS, feature_backend
from tillage.models.account_ltv import AccountLTV
from tillage.models.baseline import NaiveLTV
from tillage.store.snapshots import write_snapshot
from tillage.strategy.config import Strategy
from tillage.strategy.value import account_values, ltv_model
from tillage.strategy.zones import assign_zones

#: Bootstrap draws of the scoring run's LTV intervals (enough for 5 % / 95 % quantiles).
SCORING_DRAWS = 100


def score_accounts(
    database_url: str,
    as_of: dt.date,
    *,
    model: AccountLTV | None = None,
    strategy: Strategy | None = None,
) -> tuple[pd.DataFrame, dict]:
    """Per-account scores as of ``as_of``: revenue_12m, tenure_months, ltv, ltv_low, ltv_high,
    churn_risk, p_alive, expected_revenue (next 12 months), zone; and the models' record for the
    snapshot. The LTV uses the strategy's horizon, discount rate and margins by product family."""
    # the embedded engine for a SQLite store; inside the database for PostgreSQL
    engine = "postgres" if database_url.startswith("postgresql") else "duckdb"
    with feature_backend(database_url, engine, tables=VALUE_COLUMNS) as con:
        current = account_summary(con, as_of)
        prior = account_summary(con, as_of - dt.timedelta(days=365))
        try:
            values, fitted, _inputs = account_values(
                con, as_of, model=model or ltv_model(strategy, n_draws=SCORING_DRAWS)
            )
        except (ConvergenceError, DataValidationError):
            values = None
    frame = current.merge(
        prior[["account_id", "revenue_12m"]].rename(columns={"revenue_12m": "revenue_prior_12m"}),
        on="account_id",
        how="left",
    )
    frame["revenue_prior_12m"] = frame["revenue_prior_12m"].fillna(0.0)
    naive = NaiveLTV().fit(frame)
    frame["ltv_naive"] = naive.predict(frame)
    record: dict = {"baseline": {"model": "NaiveLTV", "params": naive.params()}}
    if values is None:  # nothing to fit the account models on: the baseline is the value
        frame["ltv"] = frame["ltv_naive"]
        record["ltv"] = record["baseline"]
    else:
        columns = ["ltv", "ltv_low", "ltv_high", "churn_risk", "p_alive", "expected_revenue"]
        frame = frame.merge(values[columns], left_on="account_id", right_index=True, how="left")
        frame["ltv"] = frame["ltv"].fillna(0.0)
        record["ltv"] = {"model": "AccountLTV", "params": fitted.params()}
    frame["zone"] = assign_zones(frame["ltv"])
    return frame, record


def run_scoring(
    engine: Engine,
    as_of: dt.date,
    *,
    created_at: dt.datetime,
    label: str | None = None,
    strategy: Strategy | None = None,
) -> int:
    """Score every account as of ``as_of`` and store the result as a snapshot; return its id."""
    url = engine.url.render_as_string(hide_password=False)
    frame, record = score_accounts(url, as_of, strategy=strategy)
    return write_snapshot(
        engine, as_of=as_of, created_at=created_at, scores=frame, models=record, label=label
    )
