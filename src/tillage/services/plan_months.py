"""The months that have account plans: what the plans page's month picker offers.

A month has a plan when a complete snapshot holds planned actions for it
(``snapshot_actions.month``); the newest snapshot holding it is the one shown
(:func:`tillage.services.plans.month_plan`).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from tillage.store.records import Snapshot, SnapshotAction


def planned_months(session: Session) -> list[dt.date]:
    """The first days of the months some complete snapshot holds plans for, newest first."""
    query = (
        select(SnapshotAction.month)
        .join(Snapshot, Snapshot.id == SnapshotAction.snapshot_id)
        .where(Snapshot.status == "complete")
        .distinct()
    )
    return sorted(set(session.scalars(query)), reverse=True)
