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
from tillage.strategy.departure import DepartureCalibration, calibrate_departure
from tillage.strategy.effects import (
    ActionEffect,
    estimate_effects,
    learned_effects,
    renewal_decisions,
)

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


def departure_from_history(
    contracts: pd.DataFrame,
    activities: pd.DataFrame,
    reps: pd.DataFrame,
    as_of: dt.date,
    strategy: Strategy,
    decisions: pd.DataFrame | None = None,
) -> DepartureCalibration:
    """The departure effect calibrated from the leavers in :func:`history`'s frames
    (:func:`~tillage.strategy.departure.calibrate_departure`; assumed without any leaver or
    renewal decision). ``decisions``: the renewal decisions when already built."""
    if contracts.empty or reps["left_on"].isna().all():
        return calibrate_departure(pd.DataFrame(), activities, reps, strategy)
    if decisions is None:
        decisions = renewal_decisions(contracts, activities, pd.Timestamp(as_of), strategy)
    return calibrate_departure(
        decisions, activities, reps, strategy, level=strategy.kpi.confidence_level
    )


def review_evidence(
    engine: Engine, as_of: dt.date, strategy: Strategy
) -> tuple[dict[str, ActionEffect], DepartureCalibration]:
    """What the review's recommendations rest on, from one read of the history up to
    ``as_of``: each playbook's learned (or assumed) effect and the departure effect."""
    contracts, activities, reps = history(engine, as_of)
    level = strategy.kpi.confidence_level
    if contracts.empty:
        effects = learned_effects(contracts, activities, pd.Timestamp(as_of), strategy)
        return effects, departure_from_history(contracts, activities, reps, as_of, strategy)
    decisions = renewal_decisions(contracts, activities, pd.Timestamp(as_of), strategy)
    effects = estimate_effects(decisions, strategy, level=level)
    departure = departure_from_history(contracts, activities, reps, as_of, strategy, decisions)
    return effects, departure
