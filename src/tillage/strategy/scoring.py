"""The scoring run of the walking skeleton: summary → naive LTV → zones → snapshot.

Each later stage replaces a piece (features, real LTV models, priority, portfolio), but the shape
stays: read the store as of a date, score every account, write one immutable snapshot.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
from sqlalchemy import Engine

from tillage.features.account_summary import account_summary
from tillage.features.engine import feature_backend
from tillage.models.baseline import NaiveLTV
from tillage.store.snapshots import write_snapshot
from tillage.strategy.zones import assign_zones


def score_accounts(database_url: str, as_of: dt.date) -> tuple[pd.DataFrame, NaiveLTV]:
    """Per-account scores as of ``as_of``: revenue_12m, tenure_months, ltv, zone."""
    # the embedded engine for a SQLite store; inside the database for PostgreSQL
    engine = "postgres" if database_url.startswith("postgresql") else "duckdb"
    with feature_backend(database_url, engine) as con:
        current = account_summary(con, as_of)
        prior = account_summary(con, as_of - dt.timedelta(days=365))
    frame = current.merge(
        prior[["account_id", "revenue_12m"]].rename(columns={"revenue_12m": "revenue_prior_12m"}),
        on="account_id",
        how="left",
    )
    frame["revenue_prior_12m"] = frame["revenue_prior_12m"].fillna(0.0)
    model = NaiveLTV().fit(frame)
    frame["ltv"] = model.predict(frame)
    frame["zone"] = assign_zones(frame["ltv"])
    return frame, model


def run_scoring(
    engine: Engine, as_of: dt.date, *, created_at: dt.datetime, label: str | None = None
) -> int:
    """Score every account as of ``as_of`` and store the result as a snapshot; return its id."""
    frame, model = score_accounts(engine.url.render_as_string(hide_password=False), as_of)
    return write_snapshot(
        engine,
        as_of=as_of,
        created_at=created_at,
        scores=frame,
        models={"ltv": {"model": "NaiveLTV", "params": model.params()}},
        label=label,
    )
