"""How every answer names the snapshot it was read from."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel

from tillage.store.schema import Snapshot


class SnapshotOut(BaseModel):
    """The snapshot a listing comes from."""

    id: int
    as_of: dt.date
    label: str | None


def snapshot_out(snapshot: Snapshot) -> SnapshotOut:
    """The API's reference to a snapshot."""
    return SnapshotOut(id=snapshot.id, as_of=snapshot.as_of, label=snapshot.label)
