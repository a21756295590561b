"""The pieces of the slow pages that every caller shares, computed once and kept in the page
cache (:mod:`tillage.services.page_cache`): the review's KPI rows and meetings-to-retention
counts, the evidence its recommendations rest on, and the behaviour KPIs of the 1on1 agendas.

A caller's page is built from these pieces with the caller's reach applied after reading (a
manager's review keeps the accounts the manager may see, a rep's agenda the rep's accounts), so
the first request of each manager or rep after a scoring run does not compute company-wide KPIs
again: :func:`tillage.services.warm.warm_pages` computes the pieces once, right after the run.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Sequence
from typing import TypeVar

import pandas as pd
from ibis.backends import BaseBackend
from pydantic import BaseModel
from sqlalchemy.orm import Session

from tillage.kpi.agenda import AgendaPieces, agenda_pieces
from tillage.kpi.cadence import account_cadence
from tillage.kpi.data import kpi_backend
from tillage.kpi.execution import RepExecution, plan_execution
from tillage.kpi.period import Period
from tillage.kpi.review import KpiChange, ReviewInputs, ReviewPieces, review_pieces
from tillage.services import review_frames as reviews
from tillage.services.effects import review_evidence
from tillage.services.page_cache import (
    bytes_frame,
    cached_model,
    cached_pieces,
    frame_bytes,
    strategy_digest,
)
from tillage.store.database import make_engine
from tillage.store.snapshots import latest_snapshot, snapshot_on_or_before
from tillage.strategy.config import Strategy
from tillage.strategy.departure import DepartureCalibration
from tillage.strategy.effects import ActionEffect

T = TypeVar("T")


def read_store(database_url: str, read: Callable[[Session], T]) -> T:
    """``read`` on a session of the store at ``database_url``, its engine disposed after."""
    store = make_engine(database_url)
    try:
        with Session(store) as session:
            return read(session)
    finally:
        store.dispose()


class _ReviewKpis(BaseModel):
    kpis: list[KpiChange]


class _Evidence(BaseModel):
    effects: dict[str, ActionEffect]
    departure: DepartureCalibration


def review_evidence_of(
    database_url: str, as_of: dt.date, strategy: Strategy, cache: Session | None
) -> _Evidence:
    """:func:`~tillage.services.effects.review_evidence` as of ``as_of`` (read from the whole
    history, the same for every caller), kept in ``cache``'s page cache when given."""

    def compute() -> _Evidence:
        effects, departure = read_store(
            database_url, lambda session: review_evidence(session, as_of, strategy)
        )
        return _Evidence(effects=effects, departure=departure)

    if cache is None:
        return compute()
    params = {"as_of": as_of, "strategy": strategy_digest(strategy)}
    return cached_model(cache, "review_evidence", params, _Evidence, compute)


REVIEW_PIECES = ("kpis", "churn", "met")


def _pieces(
    database_url: str,
    engine: str,
    con: BaseBackend | None,
    compute: Callable[[BaseBackend], T],
) -> T:
    """``compute`` on ``con`` when given, else on a backend of ``engine`` opened for it."""
    if con is not None:
        return compute(con)
    with kpi_backend(database_url, engine) as held:
        return compute(held)


def company_scores(session: Session, inputs: ReviewInputs) -> ReviewInputs:
    """``inputs`` with the scores of every account the shared pieces read: the end snapshot's
    (``kpi_scores``) and the start snapshot's (``segment_scores``)."""
    end, start = inputs.end, inputs.start
    fields = reviews.REVIEW_FIELDS
    return dataclasses.replace(
        inputs,
        kpi_scores=None if end is None else reviews.snapshot_scores(session, end.id, fields=fields),
        segment_scores=(
            None if start is None else reviews.snapshot_scores(session, start.id, fields=fields)
        ),
    )


def review_pieces_of(
    database_url: str,
    period: Period,
    inputs: ReviewInputs,
    *,
    strategy: Strategy,
    by: Sequence[str],
    lang: str,
    engine: str,
    cache: Session | None = None,
    con: BaseBackend | None = None,
) -> ReviewPieces:
    """The review's company-wide :class:`~tillage.kpi.review.ReviewPieces`, the same for every
    caller: kept in ``cache``'s page cache (a session of the store; ``None``: computed), so a
    manager's review after the admin's (or after :func:`tillage.services.warm.warm_pages`)
    reads them instead of computing the KPIs again. With ``cache``, ``inputs`` may lack the
    frames of every account (:func:`~tillage.services.reviews.review_inputs` with
    ``shared=False``): they are read when the pieces are computed."""

    def compute() -> dict[str, bytes]:
        full = inputs
        if cache is not None:  # read without the frames of every account
            full = read_store(database_url, lambda session: company_scores(session, inputs))
        pieces = _pieces(
            database_url,
            engine,
            con,
            lambda held: review_pieces(held, period, full, strategy=strategy, by=by, lang=lang),
        )
        return {
            "kpis": _ReviewKpis(kpis=pieces.kpis).model_dump_json().encode(),
            "churn": frame_bytes(pieces.churn),
            "met": frame_bytes(pieces.met),
        }

    params = {
        "period": period.label,
        "by": list(by),
        "lang": lang,
        "engine": engine,
        "strategy": strategy_digest(strategy),
    }
    if cache is None:
        payloads = compute()
    else:
        payloads = cached_pieces(cache, "review_pieces", params, REVIEW_PIECES, compute)
    return ReviewPieces(
        kpis=_ReviewKpis.model_validate_json(payloads["kpis"]).kpis,
        churn=bytes_frame(payloads["churn"]),
        met=bytes_frame(payloads["met"]),
    )


AGENDA_PIECES = ("kpis", "rows", "coaching")
CELL_FIELDS = ("ltv", "segment", "rep_id")
"""The score fields of each account's cell that the agendas' pieces read."""


def agenda_pieces_of(
    session: Session,
    database_url: str,
    period: Period,
    strategy: Strategy,
    *,
    engine: str = "duckdb",
    con: BaseBackend | None = None,
) -> AgendaPieces:
    """The agendas' :class:`~tillage.kpi.agenda.AgendaPieces` of ``period`` on the newest
    snapshot (the contact cadence of every scored account's cell), kept in ``session``'s page
    cache: read there when a scoring run's warming or an earlier agenda computed them."""

    def compute() -> dict[str, bytes]:
        snapshot = latest_snapshot(session)
        cells = reviews.snapshot_scores(session, snapshot.id, fields=CELL_FIELDS)
        cells = cells.assign(rep_id=cells["rep_id"].fillna(cells["owner_id"]))
        cadence = account_cadence(cells[["account_id", "segment", "ltv", "rep_id"]], strategy)
        pieces = _pieces(
            database_url,
            engine,
            con,
            lambda held: agenda_pieces(held, period, strategy, cadence),
        )
        coaching = _coaching(session, period, cells)
        return {
            "kpis": frame_bytes(pieces.kpis),
            "rows": frame_bytes(pieces.rows),
            "coaching": coaching.model_dump_json().encode(),
        }

    params = {"period": period.label, "engine": engine, "strategy": strategy_digest(strategy)}
    payloads = cached_pieces(session, "agenda_pieces", params, AGENDA_PIECES, compute)
    coaching = _Coaching.model_validate_json(payloads["coaching"])
    return AgendaPieces(
        kpis=bytes_frame(payloads["kpis"]),
        rows=bytes_frame(payloads["rows"]),
        executions=coaching.executions,
        team_accounts=coaching.team_accounts,
    )


class _Coaching(BaseModel):
    executions: list[RepExecution]
    team_accounts: dict[str, int]


def _coaching(session: Session, period: Period, cells: pd.DataFrame) -> _Coaching:
    """Every rep's plan execution of ``period`` and each team's scored accounts (``cells``:
    every scored account with the rep it was scored for)."""
    reps = reviews.reps_with_teams(session)
    counts = {
        str(team): int(cells["rep_id"].isin(reps.loc[reps["team"] == team, "rep_id"]).sum())
        for team in reps["team"].dropna().unique()
    }
    start = snapshot_on_or_before(session, period.first)
    if start is None:
        return _Coaching(executions=[], team_accounts=counts)
    planned = reviews.planned_actions(session, start.id, period.first, period.last)
    if planned.empty:
        return _Coaching(executions=[], team_accounts=counts)
    activities = reviews.activities_between(session, period.first, period.last)
    executions = plan_execution(planned, activities, reps, total_label="")
    return _Coaching(executions=executions, team_accounts=counts)
