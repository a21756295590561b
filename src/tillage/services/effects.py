"""The company's history that the learned action effects read (:mod:`tillage.strategy.effects`)
and the departure calibration (:func:`tillage.strategy.departure.calibrate_departure`): every
contract, the activities up to the as-of date (account, rep, day, subject) and the reps' leaving
days, read from the store with SQLAlchemy and handed to the strategy stage as frames."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
from collections.abc import Callable

import pandas as pd
from sqlalchemy import Engine, Result, func, select
from sqlalchemy.orm import Session

from tillage.services.page_cache import cached_bytes
from tillage.store.page_cache import data_marker
from tillage.store.schema import Activity, Contract, Rep, Snapshot
from tillage.strategy.config import Strategy
from tillage.strategy.departure import DepartureCalibration, calibrate_departure
from tillage.strategy.effect_decisions import CONTRACT_COLUMNS
from tillage.strategy.effects import (
    ActionEffect,
    learned_effects,
    renewal_decisions,
)


def _frame(result: Result, columns: list[str]) -> pd.DataFrame:
    """The rows of ``result`` as a frame of ``columns``, built column by column from batches of
    rows: a frame built from the rows themselves asks each row (millions of activities) for its
    fields one by one, and all the rows at once hold millions of row objects."""
    values: list[list] = [[] for _ in columns]
    for batch in result.partitions(100_000):
        for target, column in zip(values, zip(*batch, strict=True), strict=True):
            target.extend(column)
    return pd.DataFrame(dict(zip(columns, values, strict=True)))


def history(engine: Engine, as_of: dt.date) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """``(contracts, activities, reps)`` as of ``as_of``: contracts that started by then, the
    activities logged before the day after it, and each rep's ``left_on``."""
    close = dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time())
    with engine.connect() as connection:
        contracts = _frame(
            connection.execute(
                select(*(getattr(Contract, c) for c in CONTRACT_COLUMNS)).where(
                    Contract.start_date <= as_of
                )
            ),
            CONTRACT_COLUMNS,
        )
        activities = _frame(
            connection.execute(
                select(
                    Activity.account_id, Activity.rep_id, Activity.occurred_at, Activity.subject
                ).where(Activity.occurred_at < close)
            ),
            ["account_id", "rep_id", "occurred_at", "subject"],
        )
        reps = _frame(connection.execute(select(Rep.id, Rep.left_on)), ["rep_id", "left_on"])
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
    decisions: Callable[[], pd.DataFrame] | None = None,
) -> DepartureCalibration:
    """The departure effect calibrated from the leavers in :func:`history`'s frames
    (:func:`~tillage.strategy.departure.calibrate_departure`; assumed without any leaver or
    renewal decision). ``decisions``: builds (or returns) the renewal decisions of the frames,
    when the caller shares them with the learned effects; called only when there are leavers."""
    if contracts.empty or reps["left_on"].isna().all():
        return calibrate_departure(pd.DataFrame(), activities, reps, strategy)
    built = (
        decisions()
        if decisions is not None
        else renewal_decisions(contracts, activities, pd.Timestamp(as_of), strategy)
    )
    return calibrate_departure(
        built, activities, reps, strategy, level=strategy.kpi.confidence_level
    )


def leavers(engine: Engine) -> int:
    """How many reps have left (``reps.left_on`` set): without any, the departure effect is the
    strategy's assumption and no history needs reading."""
    with engine.connect() as connection:
        return int(connection.scalar(select(func.count(Rep.id)).where(Rep.left_on.is_not(None))))


def assumed_departure(strategy: Strategy) -> DepartureCalibration:
    """The departure effect when no rep has left: the strategy's assumption."""
    none = pd.DataFrame({"rep_id": pd.Series([], dtype="int64"), "left_on": []})
    return calibrate_departure(pd.DataFrame(), pd.DataFrame(), none, strategy)


def review_evidence(
    session: Session, as_of: dt.date, strategy: Strategy
) -> tuple[dict[str, ActionEffect], DepartureCalibration]:
    """What the review's recommendations rest on as of ``as_of``: each playbook's learned (or
    assumed) effect (:func:`review_effects`: the scoring run's record or the page cache where they
    still hold) and the departure effect calibrated from the leavers. The history is read only
    when one of them needs it (no record of the effects, or a rep who has left: at 100,000
    accounts reading it takes over a minute), then once, and its renewal decisions built at most
    once, shared by both."""
    engine: Engine = session.get_bind()  # type: ignore[assignment]
    read = functools.cache(lambda: history(engine, as_of))
    decisions = functools.cache(
        lambda: renewal_decisions(read()[0], read()[1], pd.Timestamp(as_of), strategy)
    )

    def learned() -> dict[str, ActionEffect]:
        contracts, activities, _reps = read()
        return learned_effects(
            contracts,
            activities,
            pd.Timestamp(as_of),
            strategy,
            level=strategy.kpi.confidence_level,
            decisions=None if contracts.empty else decisions(),
        )

    effects = review_effects(session, as_of, strategy, compute=learned)
    if not leavers(engine):
        return effects, assumed_departure(strategy)
    departure = departure_from_history(*read(), as_of, strategy, decisions=decisions)
    return effects, departure


def effects_digest(strategy: Strategy) -> str:
    """The SHA-256 of what the learned effects depend on in ``strategy``: the playbooks, the
    ``[effects]`` settings and the confidence level."""
    text = json.dumps(
        [
            [play.model_dump(mode="json") for play in strategy.playbooks],
            strategy.effects.model_dump(mode="json"),
            strategy.kpi.confidence_level,
        ],
        sort_keys=True,
    )
    return hashlib.sha256(text.encode()).hexdigest()


def effects_record(
    effects: dict[str, ActionEffect], as_of: dt.date, strategy: Strategy, data: tuple[int, int]
) -> dict[str, object]:
    """The learned effects as the scoring run records them in its snapshot (``models.
    learned_effects``): the date, the strategy's :func:`effects_digest`, the store's data marker
    (newest import and activity ids, :func:`tillage.store.page_cache.store_version`) and each
    effect."""
    return {
        "as_of": as_of.isoformat(),
        "digest": effects_digest(strategy),
        "data": list(data),
        "effects": {action: effect.model_dump(mode="json") for action, effect in effects.items()},
    }


def stored_effects(
    session: Session, as_of: dt.date, strategy: Strategy
) -> dict[str, ActionEffect] | None:
    """The effects a scoring run as of ``as_of`` recorded, if they are what
    :func:`company_effects` would compute now: same date, same :func:`effects_digest`, and no
    import or activity since (:func:`data_marker`); else ``None``."""
    records = session.scalars(
        select(Snapshot.models)
        .where(Snapshot.status == "complete", Snapshot.as_of == as_of)
        .order_by(Snapshot.id.desc())
    ).all()
    marker = list(data_marker(session))
    digest = effects_digest(strategy)
    for models in records:
        found = (models or {}).get("learned_effects")
        if (
            isinstance(found, dict)
            and found.get("as_of") == as_of.isoformat()
            and found.get("digest") == digest
            and found.get("data") == marker
        ):
            return {k: ActionEffect.model_validate(v) for k, v in found["effects"].items()}
    return None


def review_effects(
    session: Session,
    as_of: dt.date,
    strategy: Strategy,
    *,
    compute: Callable[[], dict[str, ActionEffect]] | None = None,
) -> dict[str, ActionEffect]:
    """The learned effects as of ``as_of`` for the period review: those a scoring run as of that
    day recorded when they still hold (:func:`stored_effects`), else computed (``compute``, by
    default :func:`company_effects` on the store) and kept in the page cache for the store's
    current state."""
    stored = stored_effects(session, as_of, strategy)
    if stored is not None:
        return stored

    def body() -> bytes:
        found = (
            compute()
            if compute is not None
            else company_effects(session.get_bind(), as_of, strategy)  # type: ignore[arg-type]
        )
        return json.dumps({k: v.model_dump(mode="json") for k, v in found.items()}).encode()

    payload = cached_bytes(
        session, "effects", {"as_of": as_of.isoformat(), "digest": effects_digest(strategy)}, body
    )
    return {k: ActionEffect.model_validate(v) for k, v in json.loads(payload).items()}
