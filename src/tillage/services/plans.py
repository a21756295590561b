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
from sqlalchemy.orm import Session

from tillage.errors import DataValidationError, NotFoundError
from tillage.kpi.period import check_year
from tillage.services.cadence import CadenceDue, plan_cadence
from tillage.services.marks import marks_of
from tillage.services.reach import rep_in_reach, require_sales
from tillage.services.snapshot_frames import deals_frame, plan_frame
from tillage.services.snapshots import SnapshotOut, snapshot_out
from tillage.services.strategy import strategy_in_force
from tillage.store.access import AccountFilter, Principal, reach_ids
from tillage.store.reps import rep_names
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


class PlanOut(BaseModel):
    """The plans of a month: actions by rep, the reps' allocation, and totals over the reps
    shown. ``gap`` (the whole allocation's optimality gap against its LP bound, a fraction) is
    ``null`` for reps."""

    snapshot: SnapshotOut
    month: dt.date
    rep: str | None
    actions: list[PlannedAction]
    reps: list[RepPlan]
    uplift: float
    naive_uplift: float
    gap: float | None
    cadence: list[CadenceDue] = []


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
) -> PlanOut:
    """The account plans of ``month`` (``2026-10``; default: the newest snapshot's plan month)
    for the rep ``rep`` (key or id) or, without it, every rep ``principal`` reaches; a rep gets
    only their own plan; other than sales roles none (PermissionDenied). The service behind
    ``/api/v1/plans`` and the ``/plans`` page."""
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
    actions = plan_frame(
        session,
        snap.id,
        visible=visible,
        month=first,
        rep_id=None if chosen is None else chosen.id,
    )
    if reach is not None:
        actions = actions[actions["rep_id"].isin(reach)]
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
        # the contact cadence due in the month (tillage.services.cadence), beside the actions
        cadence=plan_cadence(
            session,
            snap,
            first,
            strategy_in_force(session),
            visible=visible,
            rep_ids=shown,
            lang=lang,
        ),
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
    frame = deals_frame(session, snap.id, visible=visible)
    if zone is not None:
        frame = frame[frame["zone"] == zone]
    page = frame.iloc[offset : offset + limit]
    return DealPage(
        snapshot=snapshot_out(snap),
        total=len(frame),
        limit=limit,
        offset=offset,
        items=[
            DealOut(**{k: _value(v) for k, v in row.items()})
            for row in page.to_dict(orient="records")
        ],
    )
