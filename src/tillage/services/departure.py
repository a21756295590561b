"""A rep's departure simulated on the latest snapshot: the store's reads around
:func:`tillage.strategy.departure.simulate_departure` (a pure function on frames), and the
answer as a caller may see it (``tillage simulate departure``, ``/api/v1/simulate/departure``).

Managers (for the reps of their reach) and admins (anyone) may ask; a manager sees only the
affected accounts they may see, and the totals over those. Each affected account carries its
newest notes (:mod:`tillage.services.notes`), so the handover passes on what the team knows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import pandas as pd
from pydantic import BaseModel, TypeAdapter
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from tillage.errors import PermissionDenied
from tillage.features.engine import default_engine, feature_backend
from tillage.features.risk_inputs import BREADTH_TABLES, breadth_inputs
from tillage.kpi.period import check_year
from tillage.services.effects import (
    assumed_departure,
    departure_from_history,
    history,
    leavers,
)
from tillage.services.notes import NoteOut, handover_notes
from tillage.services.page_cache import (
    bytes_frame,
    cache_key,
    cached_model,
    cached_pieces,
    frame_bytes,
    reach_key,
    strategy_digest,
)
from tillage.services.reach import find_rep, rep_in_reach
from tillage.services.strategy import strategy_in_force
from tillage.store.access import AccountFilter, Principal
from tillage.store.database import session_factory
from tillage.store.page_cache import REQUEST, store_version
from tillage.store.schema import (
    Account,
    AccountScore,
    Rep,
    Snapshot,
    SnapshotAction,
    Team,
)
from tillage.store.snapshots import latest_snapshot
from tillage.strategy.config import Strategy
from tillage.strategy.departure import (
    DepartureCalibration,
    DepartureResult,
    handover_month,
    simulate_departure,
)
from tillage.strategy.risk import key_person_risk

SIMULATORS = ("admin", "manager")
"""The roles that may simulate a departure (a rep gets 403)."""
HANDOVER_NOTES = 3
"""How many of each account's newest notes the handover carries."""


def _frame(session: Session, query) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    """The rows of ``query`` as a frame, read on the session's connection (as
    :func:`tillage.services.review_frames._frame`: the ORM's row loading, for the same values,
    was most of the time of a departure)."""
    result = session.connection().execute(query)
    columns = list(result.keys())
    return pd.DataFrame([tuple(row) for row in result.all()], columns=columns)


def departure_from_store(
    engine: Engine,
    rep: str,
    *,
    as_of: dt.date | None = None,
    strategy: Strategy | None = None,
    pieces: Callable[[dt.date, Strategy], DeparturePieces] | None = None,
) -> DepartureResult:
    """:func:`simulate_departure` for the rep with key (or id) ``rep``, from the store.

    LTVs and churn risks come from the latest snapshot, planned hours (the leaving rep's and the
    successors' booked hours) from its actions in its plan month (:func:`handover_month`); the
    single-threaded flags are computed from the activities as of ``as_of`` (default: the
    snapshot's as-of date). ``pieces``: gives the :class:`DeparturePieces` of a day (default:
    :func:`departure_pieces`, computed for the call).
    """
    if as_of is not None:
        check_year(as_of.year, f"as_of {as_of.isoformat()}")
    strategy = strategy or strategy_in_force(engine)
    with session_factory(engine)() as session:
        leaving = find_rep(session, rep)
        snapshot: Snapshot = latest_snapshot(session)
        as_of = as_of or snapshot.as_of
        reps = _frame(
            session,
            select(
                Rep.id,
                Rep.name,
                Rep.team_id,
                Team.name.label("team"),
                Rep.capacity_hours,
                Rep.left_on,
                Rep.role,
            ).outerjoin(Team, Team.id == Rep.team_id),
        )
        month = handover_month(snapshot.models, as_of)
        planned = _frame(
            session,
            select(SnapshotAction.account_id, SnapshotAction.rep_id, SnapshotAction.hours).where(
                SnapshotAction.snapshot_id == snapshot.id, SnapshotAction.month == month
            ),
        )
        leaving_id = leaving.id
    shared = (pieces or partial(departure_pieces, engine))(as_of, strategy)
    frame = shared.accounts.copy()
    notes = []
    if frame["ltv"].isna().any():
        notes.append(
            f"{int(frame['ltv'].isna().sum())} accounts are not in snapshot {snapshot.id}: "
            "their LTV counts as 0"
        )
    planned["hours"] = planned["hours"].astype(float)
    result = simulate_departure(
        leaving_id,
        frame,
        reps.set_index("id"),
        strategy,
        planned=planned,
        as_of=as_of,
        calibration=shared.calibration,
    )
    result.notes = notes + result.notes
    return result


@dataclass(frozen=True)
class DeparturePieces:
    """What every rep's departure on a day shares: each account's key-person risk
    (``single_threaded``, ``top_rep_id``, indexed by account id), the calibrated effect, and
    every account with its latest scores and that risk (:func:`account_frame`)."""

    risk: pd.DataFrame
    calibration: DepartureCalibration
    accounts: pd.DataFrame


def account_frame(session: Session, snapshot_id: int, risk: pd.DataFrame) -> pd.DataFrame:
    """Every account indexed by ``account_id``: ``name``, ``owner_id``, the snapshot's ``ltv``
    and ``churn_risk`` (missing when it did not score the account) and ``risk``'s columns
    (``single_threaded`` false where ``risk`` has no row): what a departure simulates on."""
    scores = _frame(
        session,
        select(AccountScore.account_id, AccountScore.ltv, AccountScore.churn_risk).where(
            AccountScore.snapshot_id == snapshot_id
        ),
    )
    accounts = _frame(session, select(Account.id, Account.name, Account.owner_id))
    frame = (
        accounts.set_index("id")
        .rename_axis("account_id")
        .join(scores.set_index("account_id"), how="left")
        .join(risk, how="left")
    )
    frame["single_threaded"] = frame["single_threaded"].astype("boolean").fillna(False).astype(bool)
    return frame


def departure_pieces(engine: Engine, as_of: dt.date, strategy: Strategy) -> DeparturePieces:
    """The :class:`DeparturePieces` of ``as_of``: the key-person risk from the activities of
    every account (only the activities and contacts are read: accounts without an activity in
    the window are neither single-threaded nor have a top rep), the departure effect from the
    history of every leaver, every account with the latest snapshot's scores."""
    url = engine.url.render_as_string(hide_password=False)
    with feature_backend(url, default_engine(url), tables=BREADTH_TABLES) as con:
        inputs = breadth_inputs(con, as_of, window_days=strategy.key_person.window_days)
    risk = key_person_risk(inputs, strategy)[["single_threaded", "top_rep_id"]]
    with session_factory(engine)() as session:
        accounts = account_frame(session, latest_snapshot(session).id, risk)
    return DeparturePieces(
        risk=risk,
        calibration=departure_calibration(engine, as_of, strategy),
        accounts=accounts,
    )


def departure_pieces_of(session: Session, as_of: dt.date, strategy: Strategy) -> DeparturePieces:
    """:func:`departure_pieces` kept in ``session``'s page cache (computed once per state of
    the store for every rep's departure: a scoring run's warming computes them), so that a
    departure reads no account or score of the store."""

    def compute() -> dict[str, bytes]:
        pieces = departure_pieces(session.get_bind(), as_of, strategy)  # type: ignore[arg-type]
        return {
            "risk": frame_bytes(pieces.risk),
            "calibration": pieces.calibration.model_dump_json().encode(),
            "accounts": frame_bytes(pieces.accounts),
        }

    params = {"as_of": as_of, "strategy": strategy_digest(strategy)}
    version = store_version(session)
    key = None  # kept decoded for the requests of this process, by store and version
    if version is not None and session.info.get(REQUEST):
        key = str(session.get_bind().url) + cache_key("departure_pieces", version, params)
    found = _DECODED.get(key) if key is not None else None
    if found is not None:
        return found
    payloads = cached_pieces(session, "departure_pieces", params, DEPARTURE_PIECES, compute)
    pieces = DeparturePieces(
        risk=bytes_frame(payloads["risk"]),
        calibration=DepartureCalibration.model_validate_json(payloads["calibration"]),
        accounts=bytes_frame(payloads["accounts"]),
    )
    if key is not None:
        if len(_DECODED) >= DECODED_KEPT:
            _DECODED.clear()
        _DECODED[key] = pieces
    return pieces


DEPARTURE_PIECES = ("risk", "calibration", "accounts")
DECODED_KEPT = 2
"""Decoded pieces this process keeps for its requests (by the store's URL and their page-cache
key, which names the store version): reading the 100,000 accounts' Parquet again was a third
of a departure's first request. The pieces are read, never changed (a departure copies the
accounts). The warm step's session does not use them: it keeps the pieces in the page cache."""
_DECODED: dict[str, DeparturePieces] = {}


def departure_calibration(
    engine: Engine, as_of: dt.date, strategy: Strategy
) -> DepartureCalibration:
    """The departure effect calibrated from the store's leavers up to ``as_of``
    (:func:`~tillage.strategy.departure.calibrate_departure`; assumed without any: then the
    history of contracts and activities is not read)."""
    if not leavers(engine):
        return assumed_departure(strategy)
    return departure_from_history(*history(engine, as_of), as_of, strategy)


class HandoverAccount(BaseModel):
    """An affected account: LTV and churn risk now and after the departure, the LTV at risk
    (company currency), and the successor with the hours the handover takes."""

    account_id: int
    account: str | None
    owned: bool
    single_threaded: bool
    ltv: float | None
    churn_risk: float | None
    churn_after: float | None
    ltv_at_risk: float
    hours: float | None
    successor_id: int | None
    successor: str | None
    successor_team: str | None
    same_team: bool | None
    spare_hours_after: float | None
    over_capacity: bool
    notes: list[NoteOut] = []
    """The account's newest notes (up to :data:`HANDOVER_NOTES`): what the successor reads
    first."""
    notes_total: int = 0


class DepartureOut(BaseModel):
    """The departure of one rep on ``as_of``: Σ LTV at risk and single-threaded accounts over
    the accounts listed; ``churn_uplift`` the added churn probability of a single-threaded
    account."""

    rep_id: int
    rep: str
    as_of: dt.date
    churn_uplift: float
    uplift_source: str = "assumed"
    ltv_at_risk: float
    single_threaded: int
    accounts: list[HandoverAccount]
    notes: list[str]


_HANDOVER_ROWS = TypeAdapter(list[HandoverAccount])


def rep_departure(
    session: Session,
    principal: Principal,
    visible: AccountFilter,
    rep: str,
    *,
    as_of: dt.date | None = None,
    strategy: Strategy | None = None,
) -> DepartureOut:
    """The departure of ``rep`` (key or id) on ``as_of`` as ``principal`` may see it: admins and
    managers only (else :class:`~tillage.errors.PermissionDenied`), a rep outside the caller's
    reach answers :class:`~tillage.errors.NotFoundError`; a manager gets the affected accounts
    they may see and Σ LTV at risk, single-threaded count over those. ``strategy``: default the
    one in force. The service behind ``/api/v1/simulate/departure`` and ``tillage simulate
    departure``."""
    if principal.role not in SIMULATORS:
        raise PermissionDenied(f"only the roles {', '.join(SIMULATORS)} may simulate departures")
    if as_of is not None:
        check_year(as_of.year, f"as_of {as_of.isoformat()}")
    found = rep_in_reach(session, principal, rep)
    strategy = strategy or strategy_in_force(session)

    def compute() -> DepartureOut:
        result = departure_from_store(
            session.get_bind(),  # type: ignore[arg-type]
            found.key,
            as_of=as_of,
            strategy=strategy,
            pieces=partial(departure_pieces_of, session),
        )
        frame = result.accounts
        if not principal.is_admin:  # which of the affected accounts the caller may see
            ids = [int(i) for i in frame["account_id"]]
            seen = set(session.scalars(select(Account.id).where(Account.id.in_(ids), visible)))
            frame = frame[frame["account_id"].isin(seen)]
        return departure_out(result, frame)

    params = {
        "rep": found.key,
        "as_of": as_of,
        "strategy": strategy_digest(strategy),
        "reach": reach_key(session, principal),
    }
    out = cached_model(session, "departure", params, DepartureOut, compute)
    # Notes are live (written at any time), so they join the cached answer after reading it.
    newest, counts = handover_notes(
        session, [a.account_id for a in out.accounts], per_account=HANDOVER_NOTES
    )
    for handed in out.accounts:
        handed.notes = newest.get(handed.account_id, [])
        handed.notes_total = counts.get(handed.account_id, 0)
    return out


def departure_out(result: DepartureResult, frame: pd.DataFrame | None = None) -> DepartureOut:
    """``result`` as the typed answer, over the accounts of ``frame`` (default: all of them)."""
    frame = result.accounts if frame is None else frame
    return DepartureOut(
        rep_id=result.rep_id,
        rep=result.rep_name,
        as_of=result.as_of,
        churn_uplift=result.churn_uplift,
        uplift_source=result.uplift_source,
        ltv_at_risk=float(frame["ltv_at_risk"].sum()),
        single_threaded=int(frame["single_threaded"].sum()),
        # validated as one list (pydantic's core), missing values as None: a row at a time
        # was a third of a departure's time at 2,500 accounts
        accounts=_HANDOVER_ROWS.validate_python(
            frame.astype(object).where(frame.notna(), None).to_dict(orient="records")
        ),
        notes=result.notes,
    )
