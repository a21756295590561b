"""The column types the engine declares (features.columns) are the store schema's, and every
column list the engine is asked to load has them."""

from __future__ import annotations

import pyarrow as pa
import pytest

from tillage.errors import ConfigurationError
from tillage.features.columns import COLUMN_TYPES, STORE_COLUMNS, VALUE_COLUMNS, canonical_schema
from tillage.kpi.data import KPI_COLUMNS
from tillage.store.schema import Base
from tillage.strategy.scoring import INPUT_COLUMNS

#: The store's SQLAlchemy type → the engine's Arrow type (amounts, NUMERIC, as float64).
SCHEMA_TYPES = {
    "INTEGER": pa.int64(),
    "FLOAT": pa.float64(),
    "NUMERIC": pa.float64(),
    "DATE": pa.date32(),
    "DATETIME": pa.timestamp("us"),
    "BOOLEAN": pa.bool_(),
    "STRING": pa.string(),
    "TEXT": pa.string(),
}


@pytest.mark.parametrize("table", sorted(COLUMN_TYPES))
def test_declared_types_are_the_store_schemas(table: str) -> None:
    columns = Base.metadata.tables[table].columns
    for field in canonical_schema(table, COLUMN_TYPES[table]):
        kind = columns[field.name].type.__class__.__name__.upper()
        assert field.type == SCHEMA_TYPES[kind], f"{table}.{field.name}"


@pytest.mark.parametrize(
    "lists",
    [STORE_COLUMNS, VALUE_COLUMNS, INPUT_COLUMNS, KPI_COLUMNS],
    ids=["store", "value", "input", "kpi"],
)
def test_every_column_loaded_has_a_type(lists: dict[str, tuple[str, ...]]) -> None:
    for table, columns in lists.items():
        assert len(canonical_schema(table, columns)) == len(columns)


def test_an_undeclared_column_is_refused_by_name() -> None:
    with pytest.raises(ConfigurationError, match=r"accounts\.industry"):
        canonical_schema("accounts", ["id", "industry"])
