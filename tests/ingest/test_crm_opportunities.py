"""A CRM opportunities export with the usual dirt, cleaned by its mapping (own fixture data)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import Engine

from tillage.ingest import ImportRefused, import_path, parse_mapping

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).parent / "fixtures" / "crm_opportunities"
MAPPING = ROOT / "examples" / "mappings" / "crm_opportunities.toml"


def _import(engine: Engine, mapping):  # type: ignore[no-untyped-def]
    return import_path(
        engine,
        FIXTURES,
        mapping=mapping,
        as_of=dt.date(2024, 1, 1),
        imported_at=dt.datetime(2024, 1, 1),
        currency="USD",
    )


def test_mapping_cleans_the_dirt(engine: Engine) -> None:
    result = _import(engine, MAPPING)
    assert result.tables["reps"].inserted == 5  # two managers, three agents
    assert result.tables["opportunities"].inserted == 4
    assert result.rows_rejected == 1  # the prospect without an account
    deals = pd.read_sql(
        "SELECT o.key, p.name AS product, o.is_won, o.is_closed, o.amount, m.name AS manager"
        " FROM opportunities o JOIN products p ON p.id = o.product_id"
        " JOIN reps r ON r.id = o.owner_id JOIN reps m ON m.id = r.manager_id ORDER BY o.key",
        engine,
    )
    assert deals["product"].tolist() == ["GTX Pro", "MG Special", "GTX Basic", "GTX Pro"]
    assert deals["is_won"].astype(bool).tolist() == [True, False, False, True]
    assert deals["is_closed"].astype(bool).tolist() == [True, True, False, True]
    assert deals["manager"].tolist() == ["Dana Reyes", "Dana Reyes", "Evan Stone", "Evan Stone"]
    industries = pd.read_sql("SELECT industry FROM accounts ORDER BY key", engine)["industry"]
    assert industries.tolist() == ["technology", "retail", "medical"]


def test_without_the_cleaning_the_dirt_is_reported(engine: Engine) -> None:
    text = MAPPING.read_text("utf-8").replace(
        'product_id = { column = "product", map = { "GTXPro" = "GTX Pro" } }',
        'product_id = "product"',
    )
    with pytest.raises(ImportRefused) as caught:
        _import(engine, parse_mapping(text))
    unknown = [(p.row, p.value) for p in caught.value.problems if "unknown" in p.reason]
    assert unknown == [(2, "GTXPro"), (6, "GTXPro")]
