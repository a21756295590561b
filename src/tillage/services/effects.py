"""The company's history that the learned action effects read (:mod:`tillage.strategy.effects`)
and the departure calibration (:func:`tillage.strategy.departure.calibrate_departure`): every
contract, the activities up to the as-of date (account, rep, day, subject) and the reps' leaving
days, read from the store with SQLAlchemy and handed to the strategy stage as frames."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from sqlalchemy import Engine, select

from tillage.store.schema import Activity, Contract, Rep
from tillage.strategy.config import Strategy
from tillage.strategy.effects import ActionEffect, learned_effects

CONTRACT_COLUMNS = [
    "id",
    "account_id",
    "start_date",
    "end_date",
    "term_months",
    "recurring_amount",
    "status",
    "renewed_from_id",
]


def history(engine: Engine, as_of: dt.date) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """``(contracts, activities, reps)`` as of ``as_of``: contracts that started by then, the
    activities logged before the day after it, and each rep's ``left_on``."""
    close = dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time())
    with engine.connect() as connection:
        contracts = pd.DataFrame(
            connection.execute(
                select(*(getattr(Contract, c) for c in CONTRACT_COLUMNS)).where(
                    Contract.start_date <= as_of
                )
            ).all(),
            columns=CONTRACT_COLUMNS,
        )
        activities = pd.DataFrame(
            connection.execute(
                select(
                    Activity.account_id, Activity.rep_id, Activity.occurred_at, Activity.subject
                ).where(Activity.occurred_at < close)
            ).all(),
            columns=["account_id", "rep_id", "occurred_at", "subject"],
        )
        reps = pd.DataFrame(
            connection.execute(select(Rep.id, Rep.left_on)).all(), columns=["rep_id", "left_on"]
        )
    contracts["recurring_amount"] = contracts["recurring_amount"].astype(float)
    return contracts, activities, reps


def company_effects(
    engine: Engine, as_of: dt.date, strategy: Strategy, *, level: float | None = None
) -> dict[str, ActionEffect]:
    """Each playbook's learned (or assumed) effect from the store's history up to ``as_of``."""
    contracts, activities, _reps = history(engine, as_of)
    return learned_effects(
        contracts,
        activities,
        pd.Timestamp(as_of),
        strategy,
        level=level or strategy.kpi.confidence_level,
    )
