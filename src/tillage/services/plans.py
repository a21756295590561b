"""The account plans of a month as a caller may see them (``/api/v1/plans``, the ``/plans``
page, ``tillage plan``).

A rep gets their own plan (naming another rep is :class:`~tillage.errors.NotFoundError`); a
manager any rep of their reach, or without ``rep`` the team view (every rep of the reach); an
admin any rep or everyone. The allocation's figures come from the snapshot's
``models["plans"]``: per rep the planned and available hours and the expected uplift against the
naive allocation's; for the reps shown their totals; for managers and admins also the optimality
gap of the whole allocation (the LP bound's, one figure for the company).
"""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd
from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tillage.errors import DataValidationError, NotFoundError
from tillage.kpi.period import check_year
from tillage.services.cadence import CadenceDue, cadence_page
from tillage.services.marks import marks_of
from tillage.services.reach import rep_in_reach, require_sales
from tillage.services.snapshot_frames import (
    DEAL_LIST_COLUMNS,
    count_deals,
    deals_query,
    plan_frame,
)
from tillage.services.snapshots import SnapshotOut, snapshot_out
from tillage.services.strategy import strategy_in_force
from tillage.store.access import AccountFilter, Principal, on_rows, reach_ids, reads_accounts
from tillage.store.records import SnapshotAction
from tillage.store.reps import rep_names
from tillage.store.schema import Account, Rep
from tillage.store.snapshots import complete_snapshot, snapshot_with_plan
from tillage.store.work import ActionMark


def _value(value: object) -> object:
    """``None`` for a missing value (NaN, NaT, pandas NA), else the value."""
    try:
        return None if pd.isna(value) else value  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return value  # lists (products)


class PlannedAction(BaseModel):
    """One planned action: ``hours`` of the rep in the month, ``expected_uplift`` the expected
    LTV gain (company currency), ``must_do`` set by a playbook rule, ``products`` suggested."""

    rep_id: int | None
    rep: str | None
    month: dt.date
    account_id: int
    account: str
    action: str
    hours: float
    expected_uplift: float | None
    must_do: bool
    products: list | None
    effect_source: str | None = None
    """``learned`` (the effect estimated from the company's history) or ``assumed`` (the
    strategy file's), ``None`` for a plan written before effects were learned."""
    mark: str | None = None
    """``done`` or ``skipped`` as marked from the pages (:mod:`tillage.services.marks`)."""
    note: str | None = None
    """The note of the mark (why an action was skipped)."""


class RepPlan(BaseModel):
    """One rep's allocation: hours planned of those available (capacity × utilisation) and the
    expected uplift of the plan and of the naive allocation (company currency)."""

    rep_id: int
    rep: str | None
    planned_hours: float | None
    capacity_hours: float | None
    uplift: float | None
    naive_uplift: float | None


class RepActions(BaseModel):
    """A rep's planned actions in the month on the accounts the caller sees, over every page:
    how many, their hours and their expected uplift (company currency)."""

    rep_id: int | None
    rep: str | None
    actions: int
    hours: float
    uplift: float


class PlanOut(BaseModel):
    """The plans of a month: actions by rep, the reps' allocation, and totals over the reps
    shown. ``gap`` (the whole allocation's optimality gap against its LP bound, a fraction) is
    ``null`` for reps.

    Paginated by rep: ``rep_actions`` lists every rep of the plan (those with an allocation in
    its order, then those with actions only) with their actions' count and totals; ``actions``
    and ``cadence`` hold those of the reps of page ``page`` of ``pages`` (:data:`REPS_PER_PAGE`
    reps a page; the last page also holds the cadence of accounts owned by no listed rep);
    ``total_actions`` counts the actions of every page. An answer of every page (the CLI, the
    exports) has ``page`` 1 of 1."""

    snapshot: SnapshotOut
    month: dt.date
    rep: str | None
    actions: list[PlannedAction]
    reps: list[RepPlan]
    uplift: float
    naive_uplift: float
    gap: float | None
    cadence: list[CadenceDue] = []
    rep_actions: list[RepActions] = []
    total_actions: int = 0
    page: int = 1
    pages: int = 1
    cadence_total: int = 0
    """The accounts due of the page (of the whole plan, unpaginated) in all: ``cadence`` holds
    ``cadence_limit`` of them from ``cadence_offset`` (``cadence_limit`` ``null``: all)."""
    cadence_offset: int = 0
    cadence_limit: int | None = None


REPS_PER_PAGE = 10
"""Reps whose actions one page of a team plan holds (the page and ``/api/v1/plans``)."""
CADENCE_PER_PAGE = 200
"""Accounts due for their contact that one page of a plan lists (``cadence_limit``'s default:
ten reps of a 100,000-account company own some 18,000 of them)."""
MAX_CADENCE = 1000


def rep_actions(
    session: Session,
    snapshot_id: int,
    month: dt.date,
    visible: AccountFilter,
    reps: set[int] | None,
) -> list[RepActions]:
    """Per rep (of ``reps`` when given) the count, hours and expected uplift of their planned
    actions of ``month`` on the accounts ``visible``, by rep id (no rep last): one grouped read
    of the snapshot's actions, no action row leaves the store."""
    on_actions = on_rows(visible, SnapshotAction.__table__.c.account_id)
    query = (
        select(
            SnapshotAction.rep_id,
            Rep.name,
            func.count(),
            func.sum(SnapshotAction.hours),
            func.sum(SnapshotAction.expected_uplift),
        )
        .outerjoin(Rep, Rep.id == SnapshotAction.rep_id)
        .where(SnapshotAction.snapshot_id == snapshot_id, SnapshotAction.month == month)
        .group_by(SnapshotAction.rep_id, Rep.name)
    )
    if reads_accounts(on_actions):
        query = query.join(Account, Account.id == SnapshotAction.account_id)
    query = query.where(on_actions)
    if reps is not None:
        query = query.where(SnapshotAction.rep_id.in_(reps))
    rows = [
        RepActions(
            rep_id=rep_id,
            rep=name,
            actions=int(count),
            hours=float(hours or 0.0),
            uplift=float(uplift or 0.0),
        )
        for rep_id, name, count, hours, uplift in session.execute(query).all()
    ]
    return sorted(rows, key=lambda r: (r.rep_id is None, r.rep_id or 0))


def _month(text: str) -> dt.date:
    """``2026-10`` as the month's first day; a month that is not 01–12 or a year outside the
    calendar the stores hold is refused (:class:`~tillage.errors.DataValidationError`)."""
    try:
        year, month = (int(part) for part in text.split("-"))
    except ValueError:
        raise DataValidationError(f"month {text!r} is not like 2026-10") from None
    if not 1 <= month <= 12:
        raise DataValidationError(f"month {text!r}: {month} is not 01–12")
    check_year(year, f"month {text!r}")
    return dt.date(year, month, 1)


def _float(value: object) -> float | None:
    if value is None:
        return None
    number = float(value)  # type: ignore[arg-type]
    return None if math.isnan(number) else number


def _mark(mark: ActionMark | None) -> dict[str, str | None]:
    return (
        {"mark": None, "note": None} if mark is None else {"mark": mark.status, "note": mark.note}
    )


def month_plan(
    session: Session,
    principal: Principal,
    visible: AccountFilter,
    *,
    month: str | None = None,
    rep: str | None = None,
    lang: str = "en",
    page: int | None = None,
    cadence_limit: int | None = CADENCE_PER_PAGE,
    cadence_offset: int = 0,
    with_cadence: bool = True,
) -> PlanOut:
    """The account plans of ``month`` (``2026-10``; default: the newest snapshot's plan month)
    for the rep ``rep`` (key or id) or, without it, every rep ``principal`` reaches; a rep gets
    only their own plan; other than sales roles none (PermissionDenied). The service behind
    ``/api/v1/plans`` and the ``/plans`` page: there one ``page`` of reps (past the last: the
    last), read from the store alone, and ``cadence_limit`` of its cadence list from
    ``cadence_offset``; ``None``: every page and the whole list (the CLI, the exports).
    ``with_cadence`` False: no cadence list (a page that does not show it)."""
    require_sales(principal, "plans")
    if month is None:
        snap = complete_snapshot(session)
        planned = ((snap.models or {}).get("plans") or {}).get("month")
        if not planned:
            raise NotFoundError(f"snapshot {snap.id} holds no plans: give month (e.g. 2026-10)")
        first = dt.date.fromisoformat(str(planned))
    else:
        first = _month(month)
        snap = snapshot_with_plan(session, first)
    reach = reach_ids(session, principal)
    if rep is None and principal.role == "rep":
        rep = principal.rep_key or "-"
    chosen = rep_in_reach(session, principal, rep) if rep is not None else None
    record = dict((snap.models or {}).get("plans") or {})
    effects = record.get("effects") or {}
    marks = marks_of(session, first, first)  # the month's marks: a few per rep
    shown = {chosen.id} if chosen is not None else reach
    rows = {
        int(key): row
        for key, row in (record.get("reps") or {}).items()
        if shown is None or int(key) in shown
    }
    names = rep_names(session, rows)
    reps = [
        RepPlan(
            rep_id=key,
            rep=names.get(key),
            planned_hours=_float(row.get("planned_hours")),
            capacity_hours=_float(row.get("capacity_hours")),
            uplift=_float(row.get("uplift")),
            naive_uplift=_float(row.get("naive_uplift")),
        )
        for key, row in rows.items()
    ]
    counted = rep_actions(session, snap.id, first, visible, shown)
    # the reps in the page order: with an allocation in the plan's order, then with actions only
    order = [r.rep_id for r in reps] + [c.rep_id for c in counted if c.rep_id not in rows]
    by_rep = {c.rep_id: c for c in counted}
    summary = [
        by_rep.get(key) or RepActions(rep_id=key, rep=names.get(key), actions=0, hours=0, uplift=0)
        for key in order
    ]
    pages = max(1, -(-len(order) // REPS_PER_PAGE)) if page is not None else 1
    number = min(page or 1, pages)
    on_page = order[(number - 1) * REPS_PER_PAGE : number * REPS_PER_PAGE]
    actions = plan_frame(
        session,
        snap.id,
        visible=visible,
        month=first,
        rep_id=None if chosen is None else chosen.id,
        rep_ids=None if page is None else on_page,
    )
    if reach is not None:
        actions = actions[actions["rep_id"].isin(reach)]
    # the contact cadence due in the month (tillage.services.cadence), beside the actions: of
    # the page's reps, the last page also of the accounts no listed rep owns
    cadence, cadence_total = [], 0
    if with_cadence:
        cadence, cadence_total = cadence_page(
            session,
            snap,
            first,
            strategy_in_force(session),
            visible=visible,
            rep_ids=shown,
            page_reps=None if page is None else {r for r in on_page if r is not None},
            listed=None if page is None or number < pages else {r for r in order if r is not None},
            lang=lang,
            limit=None if page is None else cadence_limit,
            offset=0 if page is None else cadence_offset,
        )
    return PlanOut(
        snapshot=snapshot_out(snap),
        month=first,
        rep=None if chosen is None else chosen.key,
        actions=[
            PlannedAction(
                **{k: _value(v) for k, v in row.items()},
                effect_source=(effects.get(row["action"]) or {}).get("source"),
                **_mark(marks.get((row["account_id"], first, row["action"]))),
            )
            for row in actions.to_dict(orient="records")
        ],
        reps=reps,
        uplift=sum(r.uplift or 0.0 for r in reps),
        naive_uplift=sum(r.naive_uplift or 0.0 for r in reps),
        gap=None if principal.role == "rep" else _float(record.get("gap")),
        cadence=cadence,
        rep_actions=summary,
        total_actions=sum(c.actions for c in summary),
        page=number,
        pages=pages,
        cadence_total=cadence_total,
        cadence_offset=0 if page is None else cadence_offset,
        cadence_limit=None if page is None else cadence_limit,
    )


class DealOut(BaseModel):
    """An open deal scored in the snapshot; amounts in company currency, ``p_zone`` the
    probability the deal truly belongs in ``zone``."""

    opportunity_id: int
    deal: str | None
    account_id: int
    account: str
    amount: float | None
    win_probability: float | None
    expected_value: float | None
    zone: str | None
    p_zone: float | None
    borderline: bool | None


class DealPage(BaseModel):
    """A page of deals, largest expected value first; ``total`` counts the visible deals
    matching the filter."""

    snapshot: SnapshotOut
    total: int
    limit: int
    offset: int
    items: list[DealOut]


def deal_page(
    session: Session,
    visible: AccountFilter,
    *,
    snapshot: int | None = None,
    zone: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> DealPage:
    """The open deals of the accounts ``visible`` scored in ``snapshot`` (default: the newest
    complete one), largest expected value first, in ``zone`` (A/B/C) when given: rows
    ``offset … offset + limit``. The service behind ``/api/v1/deals`` and ``tillage deals``."""
    snap = complete_snapshot(session, snapshot)
    # the page's rows and the count in the database, not every deal read to slice 50
    rows = session.execute(
        deals_query(snap.id, visible=visible, zone=zone).limit(limit).offset(offset)
    ).all()
    return DealPage(
        snapshot=snapshot_out(snap),
        total=count_deals(session, snap.id, visible=visible, zone=zone),
        limit=limit,
        offset=offset,
        items=[
            DealOut(**{k: _value(v) for k, v in zip(DEAL_LIST_COLUMNS, row, strict=True)})
            for row in rows
        ],
    )
