"""Rows the tests write into a store to move its state (an import on record)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from tillage.store.schema import Import


def record_import(session: Session, at: dt.datetime, *, rows: int = 0) -> None:
    """Record (and commit) an import of ``rows`` new rows at ``at``: what moves the store's data
    marker and makes the newest snapshot older than the data."""
    session.add(
        Import(
            imported_at=at,
            source="test.csv",
            format="csv",
            checksum="0" * 64,
            rows_read=rows,
            rows_inserted=rows,
            rows_updated=0,
            rows_unchanged=0,
            rows_rejected=0,
        )
    )
    session.commit()
