"""Rows the tests write into a store to move its state (an import on record)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from tillage.store.schema import Import


def import_row(at: dt.datetime, *, rows: int = 0) -> Import:
    """The record of an import of ``rows`` new rows at ``at`` (not yet added)."""
    return Import(
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


def record_import(session: Session, at: dt.datetime, *, rows: int = 0) -> None:
    """Record (and commit) an import of ``rows`` new rows at ``at``: what moves the store's data
    marker and makes the newest snapshot older than the data."""
    session.add(import_row(at, rows=rows))
    session.commit()
