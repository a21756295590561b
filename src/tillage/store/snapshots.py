"""Score snapshots: written atomically, read back page by page; which snapshot holds what.

A snapshot with all of its account scores, scored open deals and planned actions is inserted in
one transaction, so readers see either the previous snapshot or the complete new one, never a
mix.

Every reader of accounts takes ``visible``, the caller's filter from
:func:`tillage.store.access.account_filter` (or :func:`~tillage.store.access.everything` for the
operator), so totals and pages only ever count what the caller may see.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from sqlalchemy import Engine, func, insert, select, update
from sqlalchemy.orm import Session

from tillage.errors import NotFoundError
from tillage.store.access import AccountFilter, for_one_account, on_score_rows, reads_accounts
from tillage.store.bulk import insert_frame
from tillage.store.groups import AccountRef, parent_and_subsidiaries
from tillage.store.overrides import OverrideRef, open_overrides
from tillage.store.schema import (
    Account,
    AccountScore,
    Rep,
    Snapshot,
    SnapshotAction,
    SnapshotDeal,
    Team,
)
from tillage.store.statistics import refresh_statistics
from tillage.timestamps import LocalTimestamp

SCORE_COLUMNS = (
    "account_id",
    "revenue_12m",
    "tenure_months",
    "ltv",
    "ltv_low",
    "ltv_high",
    "churn_risk",
    "growth",
    "priority",
    "zone",
    "segment",
    "reasons",
    "expected_revenue",
    "p_alive",
    "rep_id",
    "days_to_renewal",
    "p_cell",
    "borderline",
    "key_person_risk",
    "single_threaded",
    "silent_churn",
    "signals",
    "computed_segment",
    "computed_priority",
)
DEAL_COLUMNS = (
    "opportunity_id",
    "account_id",
    "amount",
    "win_probability",
    "expected_value",
    "zone",
    "p_zone",
    "borderline",
)
ACTION_COLUMNS = (
    "account_id",
    "rep_id",
    "month",
    "action",
    "hours",
    "expected_uplift",
    "must_do",
    "products",
)


def _json_text(frame: pd.DataFrame, columns: tuple[str, ...]) -> pd.DataFrame:
    """JSON columns as JSON text (the bulk insert binds plain values); missing stays null."""
    frame = frame.copy()
    for name in columns:
        if name in frame.columns:
            frame[name] = [
                None if v is None or (isinstance(v, float) and v != v) else json.dumps(v)
                for v in frame[name]
            ]
    return frame


def write_snapshot(
    engine: Engine,
    *,
    as_of: dt.date,
    created_at: dt.datetime,
    scores: pd.DataFrame,
    models: dict | None = None,
    label: str | None = None,
    strategy_hash: str | None = None,
    deals: pd.DataFrame | None = None,
    actions: pd.DataFrame | None = None,
) -> int:
    """Insert a snapshot, its per-account ``scores``, its scored open ``deals`` and its planned
    ``actions`` in one transaction; return its id.

    ``scores`` has ``account_id`` and any of :data:`SCORE_COLUMNS`; ``deals`` and ``actions``
    columns of ``snapshot_deals`` and ``snapshot_actions`` (JSON columns as Python lists).
    The snapshot row is inserted as 'writing' and set 'complete' as the transaction's last
    statement; readers only ever look at complete snapshots, and a run that dies before the
    commit leaves nothing behind (the transaction is rolled back).
    """
    with engine.begin() as connection:
        snapshot_id = connection.execute(
            insert(Snapshot)
            .values(
                as_of=as_of,
                created_at=created_at,
                status="writing",
                label=label,
                strategy_hash=strategy_hash,
                models=models,
            )
            .returning(Snapshot.id)
        ).scalar_one()
        parts = [
            ("account_scores", scores, SCORE_COLUMNS, ("reasons", "signals")),
            ("snapshot_deals", deals, DEAL_COLUMNS, ()),
            ("snapshot_actions", actions, ACTION_COLUMNS, ("products",)),
        ]
        for table, frame, known, json_columns in parts:
            if frame is None or frame.empty:
                continue
            rows = _json_text(frame[[c for c in known if c in frame.columns]], json_columns)
            rows.insert(0, "snapshot_id", snapshot_id)
            insert_frame(connection, table, rows)
        connection.execute(
            update(Snapshot).where(Snapshot.id == snapshot_id).values(status="complete")
        )
    # the pages read these tables next: plan their queries with the new rows counted
    refresh_statistics(engine, [part[0] for part in parts])
    return int(snapshot_id)


def latest_snapshot(session: Session) -> Snapshot:
    """The newest complete snapshot (by as-of date, then id)."""
    snapshot = session.scalars(
        select(Snapshot)
        .where(Snapshot.status == "complete")
        .order_by(Snapshot.as_of.desc(), Snapshot.id.desc())
        .limit(1)
    ).first()
    if snapshot is None:
        raise NotFoundError(
            "no scoring snapshot exists yet: run `tillage score` (or `tillage demo`)"
        )
    return snapshot


@dataclass(frozen=True)
class SnapshotInfo:
    """A scoring run: the business date it describes (``as_of``), when it ran (``created_at``,
    business time zone), its label and the SHA-256 of the strategy it used."""

    id: int
    as_of: dt.date
    created_at: LocalTimestamp
    label: str | None
    strategy_hash: str | None
    status: str


def _info(snapshot: Snapshot) -> SnapshotInfo:
    return SnapshotInfo(
        id=snapshot.id,
        as_of=snapshot.as_of,
        created_at=snapshot.created_at,
        label=snapshot.label,
        strategy_hash=snapshot.strategy_hash,
        status=snapshot.status,
    )


def list_snapshots(session: Session, *, limit: int = 100, offset: int = 0) -> list[SnapshotInfo]:
    """Snapshots, newest first (by as-of date, then id)."""
    rows = session.scalars(
        select(Snapshot)
        .order_by(Snapshot.as_of.desc(), Snapshot.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return [_info(s) for s in rows]


def get_snapshot(session: Session, snapshot_id: int) -> Snapshot:
    """The snapshot ``snapshot_id``; :class:`NotFoundError` when there is none."""
    snapshot = session.get(Snapshot, snapshot_id)
    if snapshot is None:
        raise NotFoundError(f"snapshot {snapshot_id} does not exist: see /api/v1/snapshots")
    return snapshot


def snapshot_info(session: Session, snapshot_id: int) -> SnapshotInfo:
    """:func:`get_snapshot` as a :class:`SnapshotInfo`."""
    return _info(get_snapshot(session, snapshot_id))


def zone_totals(
    session: Session, snapshot_id: int, *, visible: AccountFilter
) -> list[tuple[str, int, float]]:
    """(zone, number of accounts, total LTV) per zone of a snapshot over the ``visible`` accounts,
    zones in order."""
    query = select(AccountScore.zone, func.count(), func.sum(AccountScore.ltv))
    on_scores = on_score_rows(visible)  # the snapshot's rows alone, filtered by account id
    if reads_accounts(on_scores):
        query = query.join(Account, Account.id == AccountScore.account_id)
    query = query.where(on_scores)
    rows = session.execute(
        query.where(AccountScore.snapshot_id == snapshot_id)
        .group_by(AccountScore.zone)
        .order_by(AccountScore.zone)
    ).all()
    return [(str(z), int(n), float(total or 0.0)) for z, n, total in rows]


@dataclass(frozen=True)
class ScorePoint:
    """An account's scores in one snapshot (its history is a list of these, newest first).

    Amounts in company currency; ``churn_risk`` a probability.
    """

    snapshot_id: int
    as_of: dt.date
    ltv: float | None
    ltv_low: float | None
    ltv_high: float | None
    churn_risk: float | None
    zone: str | None
    segment: str | None
    p_alive: float | None = None


@dataclass(frozen=True)
class AccountDetail:
    """One account's basic fields and its scores in the latest snapshot (``None`` if unscored),
    with its history across snapshots.

    Amounts in company currency (``ltv`` with its interval ``ltv_low`` … ``ltv_high``,
    ``expected_revenue`` the revenue expected over the 12 months after the snapshot's date);
    ``churn_risk``, ``p_alive`` and ``p_cell`` probabilities; ``key_person_risk`` and
    ``silent_churn`` scores from 0 to 1; ``tenure_months`` months; ``days_to_renewal`` days.
    ``reasons`` and ``signals`` are the scoring run's codes with their values. ``parent`` and
    ``subsidiaries`` are the account's neighbours in its corporate group (visible ones only).
    ``forecast`` is the snapshot's choice of forecast (the same for every account): per stream
    (``contract_revenue``, ``order_revenue``, ``orders``, ``churn``) the candidate used
    (``forecast``), why (``code`` with its ``figures``; ``reason`` in English) and the fold
    scores, and the interval's record (``interval``); ``None`` for a snapshot without one.
    ``computed_segment`` / ``computed_priority`` are the scoring run's own values where a manual
    override pinned ``segment`` / ``priority``; ``overrides`` the overrides not cleared.
    """

    account_id: int
    key: str
    name: str
    industry: str | None
    employees: int | None
    region: str | None
    country: str | None
    owner: str | None
    team: str | None
    customer_since: dt.date | None
    snapshot_id: int | None
    zone: str | None
    segment: str | None
    ltv: float | None
    ltv_low: float | None
    ltv_high: float | None
    revenue_12m: float | None
    churn_risk: float | None
    growth: float | None
    priority: float | None
    tenure_months: float | None
    expected_revenue: float | None = None
    p_alive: float | None = None
    days_to_renewal: int | None = None
    p_cell: float | None = None
    borderline: bool | None = None
    key_person_risk: float | None = None
    single_threaded: bool | None = None
    silent_churn: float | None = None
    reasons: list[Any] | None = None
    signals: list[Any] | None = None
    history: list[ScorePoint] = field(default_factory=list)
    parent: AccountRef | None = None
    subsidiaries: list[AccountRef] = field(default_factory=list)
    forecast: dict[str, Any] | None = None
    computed_segment: str | None = None
    computed_priority: float | None = None
    overrides: list[OverrideRef] = field(default_factory=list)


_FLOATS = (
    "ltv",
    "ltv_low",
    "ltv_high",
    "revenue_12m",
    "churn_risk",
    "growth",
    "priority",
    "tenure_months",
    "expected_revenue",
    "p_alive",
    "p_cell",
    "key_person_risk",
    "silent_churn",
    "computed_priority",
)
_AS_IS = (
    "zone",
    "segment",
    "days_to_renewal",
    "borderline",
    "single_threaded",
    "reasons",
    "signals",
    "computed_segment",
)


def _number(value: object) -> float | None:
    return None if value is None else float(value)  # type: ignore[arg-type]


def account_history(
    session: Session, account_id: int, *, limit: int | None = None
) -> list[ScorePoint]:
    """The account's scores in every complete snapshot, newest first (call after checking that
    the caller may see the account): the one account history, of the API's detail and the
    account page (:func:`tillage.services.accounts.history_by_date` for its chart)."""
    query = (
        select(Snapshot.id, Snapshot.as_of, AccountScore)
        .join(AccountScore, AccountScore.snapshot_id == Snapshot.id)
        .where(AccountScore.account_id == account_id, Snapshot.status == "complete")
        .order_by(Snapshot.as_of.desc(), Snapshot.id.desc())
    )
    if limit is not None:
        query = query.limit(limit)
    return [
        ScorePoint(
            snapshot_id=snapshot_id,
            as_of=as_of,
            ltv=_number(score.ltv),
            ltv_low=_number(score.ltv_low),
            ltv_high=_number(score.ltv_high),
            churn_risk=_number(score.churn_risk),
            zone=score.zone,
            segment=score.segment,
            p_alive=_number(score.p_alive),
        )
        for snapshot_id, as_of, score in session.execute(query)
    ]


def account_detail(
    session: Session, account_id: int, *, visible: AccountFilter, history: bool = True
) -> AccountDetail:
    """An account with its latest scores and (``history``) its scores in every snapshot;
    :class:`NotFoundError` if it does not exist *or* is not visible to the caller (the two are
    indistinguishable on purpose)."""
    visible = for_one_account(visible)  # one id asked: the form that probes for it
    row = session.execute(
        select(Account, Rep.name.label("owner"), Team.name.label("team"))
        .outerjoin(Rep, Rep.id == Account.owner_id)
        .outerjoin(Team, Team.id == Rep.team_id)
        .where(Account.id == account_id, visible)
    ).first()
    if row is None:
        raise NotFoundError(f"account {account_id} does not exist or is not visible to you")
    account: Account = row.Account
    score = None
    snapshot = session.scalars(
        select(Snapshot)
        .where(Snapshot.status == "complete")
        .order_by(Snapshot.as_of.desc(), Snapshot.id.desc())
        .limit(1)
    ).first()
    if snapshot is not None:
        score = session.scalars(
            select(AccountScore).where(
                AccountScore.snapshot_id == snapshot.id, AccountScore.account_id == account_id
            )
        ).first()
    scores: dict[str, Any] = {}
    if score is not None:
        scores = {name: _number(getattr(score, name)) for name in _FLOATS}
        scores.update({name: getattr(score, name) for name in _AS_IS})
        scores["snapshot_id"] = snapshot.id if snapshot is not None else None
        models = snapshot.models if snapshot is not None else None
        scores["forecast"] = models.get("forecast") if isinstance(models, dict) else None
    else:
        scores = dict.fromkeys(("snapshot_id", *_FLOATS, "zone", "segment"))
    parent, subsidiaries = parent_and_subsidiaries(session, account_id, visible=visible)
    return AccountDetail(
        account_id=account.id,
        key=account.key,
        name=account.name,
        industry=account.industry,
        employees=account.employees,
        region=account.region,
        country=account.country,
        owner=row.owner,
        team=row.team,
        customer_since=account.customer_since,
        history=account_history(session, account_id) if history else [],
        parent=parent,
        subsidiaries=subsidiaries,
        overrides=open_overrides(session, account_id),
        **scores,
    )


def complete_snapshot(session: Session, snapshot_id: int | None = None) -> Snapshot:
    """The complete snapshot ``snapshot_id`` (the latest when ``None``); :class:`NotFoundError`
    when it does not exist or is not complete (still being written, or abandoned)."""
    if snapshot_id is None:
        return latest_snapshot(session)
    snapshot = session.get(Snapshot, snapshot_id)
    if snapshot is None or snapshot.status != "complete":
        raise NotFoundError(f"snapshot {snapshot_id} does not exist or is not complete")
    return snapshot


def plan_months(session: Session, snapshot_id: int) -> list[dt.date]:
    """The months a snapshot holds plans for."""
    return list(
        session.scalars(
            select(SnapshotAction.month)
            .where(SnapshotAction.snapshot_id == snapshot_id)
            .group_by(SnapshotAction.month)
            .order_by(SnapshotAction.month)
        )
    )


def snapshot_with_plan(session: Session, month: dt.date) -> Snapshot:
    """The newest complete snapshot holding plans for ``month``."""
    snapshot = session.scalars(
        select(Snapshot)
        .join(SnapshotAction, SnapshotAction.snapshot_id == Snapshot.id)
        .where(Snapshot.status == "complete", SnapshotAction.month == month)
        .order_by(Snapshot.as_of.desc(), Snapshot.id.desc())
        .limit(1)
    ).first()
    if snapshot is None:
        raise NotFoundError(
            f"no snapshot holds plans for {month:%Y-%m}: run `tillage score --month {month:%Y-%m}`"
        )
    return snapshot


def count_rows(session: Session, snapshot_id: int) -> dict[str, int]:
    """Rows a snapshot has in each of its tables (account_scores, snapshot_deals,
    snapshot_actions)."""
    return {
        model.__tablename__: int(
            session.scalar(
                select(func.count()).select_from(model).where(model.snapshot_id == snapshot_id)
            )
            or 0
        )
        for model in (AccountScore, SnapshotDeal, SnapshotAction)
    }


def snapshot_on_or_before(session: Session, day: dt.date) -> Snapshot | None:
    """The newest complete snapshot whose as-of date is ``day`` or earlier (newest id on a tie)."""
    return session.scalars(
        select(Snapshot)
        .where(Snapshot.status == "complete", Snapshot.as_of <= day)
        .order_by(Snapshot.as_of.desc(), Snapshot.id.desc())
        .limit(1)
    ).first()
