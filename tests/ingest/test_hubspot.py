"""A HubSpot export (companies, contacts, deals, tickets, activities) imports with no mapping."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
from sqlalchemy import Engine

from tillage.ingest import import_path

FIXTURES = Path(__file__).parent / "fixtures" / "hubspot"


def _import(engine: Engine):  # type: ignore[no-untyped-def]
    return import_path(
        engine, FIXTURES, as_of=dt.date(2024, 12, 31), imported_at=dt.datetime(2025, 1, 1)
    )


def test_hubspot_export(engine: Engine) -> None:
    result = _import(engine)
    assert result.format == "hubspot"
    assert result.errors == []
    assert {t: c.inserted for t, c in result.tables.items()} == {
        "reps": 3,  # owners named in companies and deals, once each
        "accounts": 3,
        "contacts": 2,
        "opportunities": 3,  # the deal without a company is skipped with a warning
        "activities": 2,
        "tickets": 2,
    }
    deals = pd.read_sql(
        "SELECT d.key, d.amount, d.type, d.is_closed, d.is_won, a.key AS account, r.name AS owner"
        " FROM opportunities d JOIN accounts a ON a.id = d.account_id"
        " JOIN reps r ON r.id = d.owner_id ORDER BY d.key",
        engine,
    )
    assert deals["amount"].tolist() == [1_200_000, 300_000, 50_000]
    assert deals["type"].tolist() == ["new", "upsell", "new"]
    assert deals["is_closed"].astype(bool).tolist() == [True, False, True]
    assert deals["is_won"].astype(bool).tolist() == [True, False, False]
    assert deals["account"].tolist() == ["5001", "5002", "5002"]  # first associated company
    assert deals["owner"].tolist() == ["鈴木 一郎", "Jane Doe", "Ken Ito"]
    tickets = pd.read_sql("SELECT severity FROM tickets ORDER BY key", engine)
    assert tickets["severity"].tolist() == [2, 4]
    again = _import(engine)
    assert again.inserted == 0 and again.updated == 0
