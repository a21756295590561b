"""The scoring run: account summary → AccountLTV (with interval and churn risk) → zones; then
signals with the organisational risk (key-person dependency, silent churn), expansion, open
deals → priority and portfolio → account plans → one snapshot.

The shape stays: read the store as of a date, score every account, write one immutable snapshot
(:func:`run_scoring`); the later stages live in :mod:`~tillage.strategy.inputs`,
:mod:`~tillage.strategy.ranking` and :mod:`~tillage.strategy.plans`. :class:`NaiveLTV` (last
year's revenue × margin × a population retention) is kept as the baseline the backtest compares
against, and is the fallback when the history holds neither renewals nor repeat purchases.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
from ibis.backends import BaseBackend
from sqlalchemy import Engine, select

from tillage.errors import ConvergenceError, DataValidationError
from tillage.features.account_summary import account_summary
from tillage.features.build import pinned_features
from tillage.features.engine import STORE_COLUMNS, VALUE_COLUMNS, feature_backend
from tillage.models.account_ltv import AccountLTV
from tillage.models.baseline import NaiveLTV
from tillage.store.database import session_factory
from tillage.store.schema import AccountScore, Rep, Snapshot
from tillage.store.snapshots import write_snapshot
from tillage.store.strategies import current_strategy, text_hash
from tillage.strategy.backtest import forecast_revenue
from tillage.strategy.config import Strategy, default_strategy_toml, load_strategy, loads_strategy
from tillage.strategy.inputs import (
    account_signals,
    competitor_win_probability,
    expansion_values,
    open_deals,
    product_suggestions,
)
from tillage.strategy.plans import account_plans, plan_month
from tillage.strategy.ranking import rank_accounts
from tillage.strategy.risk import account_risk
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
    with feature_backend(database_url, _engine(database_url), tables=VALUE_COLUMNS) as con:
        return score_values(con, as_of, model=model, strategy=strategy)


def _engine(database_url: str) -> Literal["duckdb", "postgres"]:
    """The embedded engine for a SQLite store; inside the database for PostgreSQL."""
    return "postgres" if database_url.startswith("postgresql") else "duckdb"


def score_values(
    con: BaseBackend,
    as_of: dt.date,
    *,
    model: AccountLTV | None = None,
    strategy: Strategy | None = None,
) -> tuple[pd.DataFrame, dict]:
    """:func:`score_accounts` on an open feature backend (one with :data:`VALUE_COLUMNS`)."""
    current = account_summary(con, as_of)
    prior = account_summary(con, as_of - dt.timedelta(days=365))
    try:
        values, fitted, inputs = account_values(
            con, as_of, model=model or ltv_model(strategy, n_draws=SCORING_DRAWS)
        )
        values, chosen = forecast_revenue(con, as_of, fitted, values, inputs)
    except (ConvergenceError, DataValidationError) as exc:
        values, failure = None, str(exc)
    frame = current.merge(
        prior[["account_id", "revenue_12m"]].rename(columns={"revenue_12m": "revenue_prior_12m"}),
        on="account_id",
        how="left",
    )
    frame["revenue_prior_12m"] = frame["revenue_prior_12m"].fillna(0.0)
    record: dict = {}
    try:
        naive = NaiveLTV().fit(frame)
        frame["ltv_naive"] = naive.predict(frame)
        record["baseline"] = {"model": "NaiveLTV", "params": naive.params()}
    except DataValidationError as exc:  # young data: the account models still value it
        if values is None:
            raise DataValidationError(f"{failure}; and the baseline: {exc}") from exc
        frame["ltv_naive"] = np.nan
        record["baseline"] = {"model": "NaiveLTV", "not_fitted": str(exc)}
    if values is None:  # nothing to fit the account models on: the baseline is the value
        frame["ltv"] = frame["ltv_naive"]
        record["ltv"] = record["baseline"]
    else:
        columns = ["ltv", "ltv_low", "ltv_high", "churn_risk", "p_alive", "expected_revenue"]
        # accounts first seen after as_of are not valued (nor listed) as of then
        frame = frame[frame["account_id"].isin(values.index)]
        frame = frame.merge(values[columns], left_on="account_id", right_index=True, how="left")
        frame["ltv"] = frame["ltv"].fillna(0.0)
        record["ltv"] = {"model": "AccountLTV", "params": fitted.params()}
        record["forecast"] = chosen
    frame["zone"] = assign_zones(frame["ltv"])
    return frame, record


#: The organisational-risk columns the scoring run keeps (:func:`account_risk`): stored in the
#: snapshot, and ``single_threaded`` / ``silent`` put accounts in their playbooks' situations.
RISK_COLUMNS = ("key_person_risk", "single_threaded", "silent_churn", "silent", "signals")

#: The scoring run's steps, in order (``progress`` is called with each as it starts).
STEPS = ("values", "signals", "expansion", "deals", "ranking", "plans", "write")

#: Columns the scoring run reads: the value models', then signals, expansion, deals, suggestions.
INPUT_COLUMNS: dict[str, tuple[str, ...]] = {
    name: tuple(dict.fromkeys([*VALUE_COLUMNS.get(name, ()), *STORE_COLUMNS.get(name, ())]))
    for name in [*VALUE_COLUMNS, *STORE_COLUMNS]
}


def resolve_strategy(engine: Engine, path: str | Path | None = None) -> tuple[Strategy, str, str]:
    """The strategy of a scoring run, its SHA-256 and where it came from: the file ``path``;
    else the newest saved version (``strategy_versions``); else the built-in defaults (hashed
    as the text ``tillage strategy init`` writes)."""
    if path is not None:
        text = Path(path).read_text(encoding="utf-8") if Path(path).is_file() else None
        strategy = load_strategy(path)  # names the file when it is missing or invalid
        return strategy, text_hash(text or ""), f"file {Path(path).name}"
    with session_factory(engine)() as session:
        saved = current_strategy(session)
        if saved is not None:
            source = f"strategy_versions {saved.id}"
            return loads_strategy(saved.text, source=source), saved.sha256, source
    return Strategy(), text_hash(default_strategy_toml()), "default"


def _jsonable(value: object) -> object:
    """``value`` with numpy scalars, tuples and NaN turned into JSON values."""

    def convert(item: object) -> object:
        if isinstance(item, np.generic):
            return item.item()
        if isinstance(item, dt.date):
            return item.isoformat()
        raise TypeError(f"cannot store {type(item).__name__} in the snapshot record")

    text = json.dumps(value, default=convert).replace("NaN", "null")
    return json.loads(text)


def _reps(engine: Engine) -> pd.DataFrame:
    with engine.connect() as connection:
        rows = connection.execute(select(Rep.id, Rep.capacity_hours, Rep.hourly_cost)).all()
    frame = pd.DataFrame(rows, columns=["rep_id", "capacity_hours", "hourly_cost"])
    frame["hourly_cost"] = frame["hourly_cost"].astype(float)
    return frame


def _previous_cells(engine: Engine, as_of: dt.date) -> pd.DataFrame | None:
    """The latest complete snapshot before ``as_of``: ``account_id``, ``cell``, ``ltv`` and
    ``expected_expansion_value`` (None without one) — the portfolio's hysteresis and drift."""
    with engine.connect() as connection:
        found = connection.execute(
            select(Snapshot.id)
            .where(Snapshot.as_of < as_of, Snapshot.status == "complete")
            .order_by(Snapshot.as_of.desc(), Snapshot.id.desc())
            .limit(1)
        ).scalar()
        if found is None:
            return None
        rows = connection.execute(
            select(
                AccountScore.account_id, AccountScore.segment, AccountScore.ltv, AccountScore.growth
            ).where(AccountScore.snapshot_id == found)
        ).all()
    frame = pd.DataFrame(rows, columns=["account_id", "cell", "ltv", "expected_expansion_value"])
    frame["ltv"] = frame["ltv"].astype(float)
    frame["expected_expansion_value"] = frame["expected_expansion_value"].astype(float)
    return frame


def run_scoring(
    engine: Engine,
    as_of: dt.date,
    *,
    created_at: dt.datetime,
    label: str | None = None,
    strategy_path: str | Path | None = None,
    month: str | None = None,
    progress: Callable[[str], None] | None = None,
) -> int:
    """Score every account as of ``as_of`` and store the result as one snapshot; return its id.

    The snapshot holds every account's value, churn risk, growth potential, key-person risk,
    single-threaded flag and silent-churn signals (:func:`~tillage.strategy.risk.account_risk`;
    silent churn for active accounts only), priority with reasons and portfolio cell, the open
    deals' win probabilities and zones, and the account
    plans of ``month`` (YYYY-MM; default the month after a month-end ``as_of``), all written in
    one transaction. ``strategy_path`` overrides the saved strategy (:func:`resolve_strategy`);
    ``progress`` is called with each of :data:`STEPS` as it starts.
    """
    step = progress or (lambda _name: None)
    strategy, strategy_hash, source = resolve_strategy(engine, strategy_path)
    planned = plan_month(as_of, month)
    url = engine.url.render_as_string(hide_password=False)
    step("values")
    # one feature backend for the whole run (on a SQLite store each one copies the store's
    # columns into DuckDB), with the as-of date's feature table computed once
    with (
        feature_backend(url, _engine(url), tables=INPUT_COLUMNS) as con,
        pinned_features(con, as_of),
    ):
        frame, record = score_values(con, as_of, strategy=strategy)
        step("signals")
        signals = account_signals(con, as_of, strategy).merge(
            account_risk(con, as_of, strategy)[list(RISK_COLUMNS)],
            left_on="account_id",
            right_index=True,
            how="left",
        )
        step("expansion")
        expansion, record["expansion"] = expansion_values(con, as_of)
        step("deals")
        deals, record["win_probability"] = open_deals(con, as_of, strategy)
        products = product_suggestions(con, as_of)
    step("ranking")
    scores, ranking = rank_accounts(
        frame,
        signals,
        expansion,
        competitor_win_probability(deals),
        strategy,
        previous=_previous_cells(engine, as_of),
    )
    record.update(ranking)
    step("plans")
    plan_inputs = scores.rename(columns={"revenue_12m": "revenue"})
    actions, record["plans"] = account_plans(
        plan_inputs, _reps(engine), strategy, month=planned, products=products
    )
    record["strategy"] = {"sha256": strategy_hash, "source": source}
    step("write")
    return write_snapshot(
        engine,
        as_of=as_of,
        created_at=created_at,
        scores=scores,
        models=_jsonable(record),  # type: ignore[arg-type]
        label=label,
        strategy_hash=strategy_hash,
        deals=deals,
        actions=actions,
    )
