"""The contact cadence due in a month's plan (:mod:`tillage.strategy.cadence`), read from the
store for the accounts a caller may see: the snapshot's cells and each account's last contacts
up to the snapshot's date. Shown beside the planned actions (``/api/v1/plans``' ``cadence``,
``tillage plan``)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tillage.store.access import AccountFilter
from tillage.store.schema import Account, AccountScore, Activity, Rep, Snapshot
from tillage.strategy.cadence import cadence_due, cadence_line
from tillage.strategy.config import Strategy


class CadenceDue(BaseModel):
    """An account due for its cell's contact in the planned month: the cadence (``activity``
    every ``every_days`` days), the last such contact, the day it is due by, ``overdue`` when
    that day is before the month, and the plan's line (``text``) in the caller's language."""

    account_id: int
    account: str
    rep_id: int | None
    rep: str | None
    cell: str
    activity: str
    every_days: int
    last_contact: dt.date | None
    due_by: dt.date
    overdue: bool
    text: str


def plan_cadence(
    session: Session,
    snapshot: Snapshot,
    month: dt.date,
    strategy: Strategy,
    *,
    visible: AccountFilter,
    rep_ids: set[int] | None = None,
    lang: str = "en",
) -> list[CadenceDue]:
    """The accounts of ``snapshot`` (owned when scored by one of ``rep_ids``, all when None)
    that ``visible`` lets through and that are due for their cell's contact in ``month``."""
    query = (
        select(AccountScore.account_id, AccountScore.segment, AccountScore.rep_id, Account.name)
        .join(Account, Account.id == AccountScore.account_id)
        .where(AccountScore.snapshot_id == snapshot.id, visible)
    )
    if rep_ids is not None:
        query = query.where(AccountScore.rep_id.in_(rep_ids))
    cells = pd.DataFrame(
        session.execute(query).all(), columns=["account_id", "segment", "rep_id", "name"]
    )
    if cells.empty:
        return []
    end = dt.datetime.combine(snapshot.as_of + dt.timedelta(days=1), dt.time())
    last = session.execute(
        select(Activity.account_id, Activity.type, func.max(Activity.occurred_at))
        .where(Activity.occurred_at < end, Activity.account_id.in_(cells["account_id"].tolist()))
        .group_by(Activity.account_id, Activity.type)
    ).all()
    contacts = pd.DataFrame(last, columns=["account_id", "type", "last"])
    due = cadence_due(cells, contacts, strategy, as_of=snapshot.as_of, month=month)
    names = dict(zip(cells["account_id"], cells["name"], strict=True))
    owners = dict(zip(cells["account_id"], cells["rep_id"], strict=True))
    rep_names = dict(session.execute(select(Rep.id, Rep.name)).all())
    out = []
    for row in due.itertuples(index=False):
        owner = owners.get(row.account_id)
        owner = None if owner is None or pd.isna(owner) else int(owner)
        out.append(
            CadenceDue(
                account_id=row.account_id,
                account=str(names[row.account_id]),
                rep_id=owner,
                rep=rep_names.get(owner) if owner is not None else None,
                cell=row.cell,
                activity=row.activity,
                every_days=row.every_days,
                last_contact=row.last_contact,
                due_by=row.due_by,
                overdue=bool(row.overdue),
                text=cadence_line(row.activity, row.every_days, row.last_contact, row.due_by, lang),
            )
        )
    return out
