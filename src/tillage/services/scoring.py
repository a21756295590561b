"""The scoring run: read the store as of a date, score every account with the stages' pure
functions (:mod:`tillage.strategy.scoring`, :mod:`tillage.strategy.inputs`,
:mod:`tillage.strategy.ranking`, :mod:`tillage.strategy.plans`) and write one immutable snapshot.
The strategy is the one in force (:func:`tillage.services.strategy.resolve_strategy`)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
from sqlalchemy import Engine, func, select

from tillage.errors import DataValidationError
from tillage.features.build import materialised_features
from tillage.features.engine import Engine as FeatureEngine
from tillage.features.engine import default_engine, feature_backend
from tillage.features.won_deals import won_deals_as_orders
from tillage.services.effects import effects_record
from tillage.services.overrides import apply_overrides
from tillage.services.strategy import resolve_strategy
from tillage.store.database import session_factory
from tillage.store.page_cache import data_marker
from tillage.store.schema import (
    Account,
    AccountScore,
    Activity,
    NPSResponse,
    Opportunity,
    Order,
    Rep,
    Snapshot,
    Ticket,
    Usage,
)
from tillage.store.snapshots import write_snapshot
from tillage.strategy.effect_decisions import engine_effects
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
from tillage.strategy.scoring import (
    INPUT_COLUMNS,
    RISK_COLUMNS,
    STEPS,
    score_values,
)

__all__ = [
    "INPUT_COLUMNS",
    "STEPS",
    "data_end",
    "default_as_of",
    "has_accounts",
    "run_scoring",
]


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
                AccountScore.account_id,
                # the computed cell, not an override's (the hysteresis follows the data)
                func.coalesce(AccountScore.computed_segment, AccountScore.segment),
                AccountScore.ltv,
                AccountScore.growth,
            ).where(AccountScore.snapshot_id == found)
        ).all()
    frame = pd.DataFrame(rows, columns=["account_id", "cell", "ltv", "expected_expansion_value"])
    frame["ltv"] = frame["ltv"].astype(float)
    frame["expected_expansion_value"] = frame["expected_expansion_value"].astype(float)
    return frame


def has_accounts(engine: Engine) -> bool:
    """Whether the store holds at least one account (a scoring run needs one)."""
    with engine.connect() as connection:
        return connection.execute(select(Account.id).limit(1)).first() is not None


def shared_dates(as_of: dt.date) -> list[dt.date]:
    """The dates whose feature tables more than one step of the scoring run reads: ``as_of``
    (summary, values, signals, risk, expansion, open deals) and the year before it (the prior
    year's summary and the first fold of the revenue forecast)."""
    return [as_of, as_of - dt.timedelta(days=365)]


def run_scoring(
    engine: Engine,
    as_of: dt.date,
    *,
    created_at: dt.datetime,
    label: str | None = None,
    strategy_path: str | Path | None = None,
    month: str | None = None,
    progress: Callable[[str], None] | None = None,
    feature_engine: FeatureEngine | None = None,
) -> int:
    """Score every account as of ``as_of`` and store the result as one snapshot; return its id.

    The snapshot holds every account's value, churn risk, growth potential, key-person risk,
    single-threaded flag and silent-churn signals (:func:`~tillage.strategy.risk.account_risk`;
    silent churn for active accounts only), priority with reasons and portfolio cell, the open
    deals' win probabilities and zones, and the account
    plans of ``month`` (YYYY-MM; default the month after a month-end ``as_of``), all written in
    one transaction. A store without accounts is refused (:class:`DataValidationError`, nothing
    written). ``strategy_path`` overrides the saved strategy (:func:`resolve_strategy`);
    ``progress`` is called with each of :data:`STEPS` as it starts. ``feature_engine`` chooses
    where the feature queries run (:data:`~tillage.features.engine.ENGINES`; default
    :func:`~tillage.features.engine.default_engine`): ``spark`` runs them on the Spark session of
    :func:`~tillage.features.engine.spark_session` (local, or a cluster through Spark Connect).
    """
    if not has_accounts(engine):
        raise DataValidationError(
            "the store holds no accounts: there is nothing to score and no snapshot was written; "
            "import the accounts first (tillage import)"
        )
    step = progress or (lambda _name: None)
    strategy, strategy_hash, source = resolve_strategy(engine, strategy_path)
    planned = plan_month(as_of, month)
    url = engine.url.render_as_string(hide_password=False)
    step("values")
    # one feature backend for the whole run (on a SQLite store each one copies the store's
    # columns into DuckDB); the won deals become the orders first where they are the revenue
    # (the strategy's revenue_from_won_deals); then the feature tables of the dates that
    # several steps read are computed once and passed to every step
    with feature_backend(url, feature_engine or default_engine(url), tables=INPUT_COLUMNS) as con:
        revenue = won_deals_as_orders(con, strategy.revenue_from_won_deals)
        with materialised_features(con, shared_dates(as_of)) as features:
            frame, record = score_values(
                con, as_of, strategy=strategy, revenue_source=revenue, features=features
            )
            step("signals")
            signals = account_signals(con, as_of, strategy, features=features).merge(
                account_risk(con, as_of, strategy, features=features)[list(RISK_COLUMNS)],
                left_on="account_id",
                right_index=True,
                how="left",
            )
            step("expansion")
            expansion, record["expansion"] = expansion_values(con, as_of, features=features)
            step("deals")
            deals, record["win_probability"] = open_deals(con, as_of, strategy, features=features)
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
        # manual overrides in force (tillage.services.overrides): pinned cell / priority, the
        # computed values kept beside them; applied before the plans, which follow the cell
        scores = apply_overrides(engine, scores, as_of)
        step("plans")
        # the learned effects count the activities on the feature engine (engine_effects)
        effects = engine_effects(con, as_of, strategy) if strategy.effects.learn else None
    plan_inputs = scores.rename(columns={"revenue_12m": "revenue"})
    if effects is not None:  # the period review ending on as_of reads them back
        with session_factory(engine)() as session:
            marker = data_marker(session)
        record["learned_effects"] = effects_record(effects, as_of, strategy, marker)
    actions, record["plans"] = account_plans(
        plan_inputs, _reps(engine), strategy, month=planned, products=products, effects=effects
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


EVENT_DATES = (
    Order.order_date,
    Opportunity.created_date,
    Activity.occurred_at,
    Ticket.opened_at,
    NPSResponse.responded_on,
    Usage.date,
)
"""The dates on which something happened (not planned ones such as a contract's end, nor a
renewal's start, which an agreed renewal may set after the last day of data)."""


def data_end(engine: Engine) -> dt.date | None:
    """The last day anything happened in the store (:data:`EVENT_DATES`); ``None`` when empty."""
    with engine.connect() as connection:
        found = [connection.scalar(select(func.max(column))) for column in EVENT_DATES]
    days = [
        value.date() if isinstance(value, dt.datetime) else dt.date.fromisoformat(str(value)[:10])
        for value in found
        if value is not None
    ]
    return max(days) if days else None


AsOfReason = Literal["data_end", "today", "empty"]


def default_as_of(engine: Engine, today: dt.date) -> tuple[dt.date, AsOfReason]:
    """The as-of date of a scoring run given none, and why: the store's last day of data
    (:func:`data_end`, ``"data_end"``) when it is before ``today`` — scoring later would count
    the days without data as days without purchases, contacts or renewals — else ``today``
    (``"today"``; ``"empty"`` when the store holds no dated records)."""
    end = data_end(engine)
    if end is not None and end < today:
        return end, "data_end"
    return today, "today" if end is not None else "empty"
