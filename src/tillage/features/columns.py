"""The canonical columns the analytical engine reads, and their types.

The feature definitions, the value and deal models and the KPIs read the store's tables through
:mod:`tillage.features.engine`, which loads the columns listed here into an engine with the
types of :data:`COLUMN_TYPES` (a SQLite store holds dates as text and booleans as 0/1; the
engine gets DATE, TIMESTAMP and BOOLEAN columns). The types are the store schema's
(``tillage.store.schema``), written out here so that features never imports the store; a test
holds them to the schema.
"""

from __future__ import annotations

from collections.abc import Iterable

import pyarrow as pa

from tillage.errors import ConfigurationError

__all__ = [
    "COLUMN_TYPES",
    "DEAL_COLUMNS",
    "EFFECT_COLUMNS",
    "EVIDENCE_COLUMNS",
    "FEATURE_COLUMNS",
    "STORE_COLUMNS",
    "VALUE_COLUMNS",
    "canonical_schema",
]

#: The columns of each canonical table that the feature definitions read.
FEATURE_COLUMNS: dict[str, tuple[str, ...]] = {
    "accounts": ("id", "customer_since"),
    "contacts": ("id", "account_id", "department"),
    "contracts": (
        "id",
        "account_id",
        "start_date",
        "end_date",
        "term_months",
        "recurring_amount",
        "renewed_from_id",
        "status",
    ),
    "orders": ("account_id", "order_number", "order_date", "amount", "margin"),
    "opportunities": (
        "account_id",
        "type",
        "amount",
        "created_date",
        "close_date",
        "is_closed",
        "is_won",
        "competitor",
    ),
    "activities": ("account_id", "rep_id", "contact_id", "type", "occurred_at"),
    "tickets": ("account_id", "opened_at", "closed_at", "satisfaction"),
    "nps_responses": ("account_id", "responded_on", "score"),
    "usage": ("account_id", "date", "metric", "value"),
}

#: Further columns the deal models read (:mod:`tillage.features.deals`).
DEAL_COLUMNS: dict[str, tuple[str, ...]] = {
    "accounts": ("employees",),
    "contracts": ("product_id",),
    "orders": ("product_id",),
    "opportunities": ("id", "product_id", "stage", "probability"),
    "products": ("id", "name", "family", "successor_id"),
}

#: Further columns the urgency evidence reads (:mod:`tillage.features.evidence`).
EVIDENCE_COLUMNS: dict[str, tuple[str, ...]] = {"tickets": ("key", "severity")}

#: Further columns the learned action effects read
#: (:mod:`tillage.strategy.effect_decisions`: the activities' subjects carry the actions).
EFFECT_COLUMNS: dict[str, tuple[str, ...]] = {"activities": ("subject",)}

#: Everything :func:`feature_backend` loads: :data:`FEATURE_COLUMNS`, :data:`DEAL_COLUMNS` and
#: :data:`EVIDENCE_COLUMNS`.
STORE_COLUMNS: dict[str, tuple[str, ...]] = {
    name: tuple(
        dict.fromkeys(
            [
                *FEATURE_COLUMNS.get(name, ()),
                *DEAL_COLUMNS.get(name, ()),
                *EVIDENCE_COLUMNS.get(name, ()),
            ]
        )
    )
    for name in [*FEATURE_COLUMNS, *DEAL_COLUMNS, *EVIDENCE_COLUMNS]
}

#: The columns the account-value models read besides :data:`FEATURE_COLUMNS` (renewal covariates,
#: margins by product family, cost to serve, acquisition cost).
VALUE_COLUMNS: dict[str, tuple[str, ...]] = {
    **FEATURE_COLUMNS,
    "accounts": (*FEATURE_COLUMNS["accounts"], "owner_id", "acquisition_cost"),
    "contracts": (*FEATURE_COLUMNS["contracts"], "product_id"),
    "orders": (*FEATURE_COLUMNS["orders"], "product_id"),
    "activities": (*FEATURE_COLUMNS["activities"], "duration_minutes"),
    "nps_responses": (*FEATURE_COLUMNS["nps_responses"], "contact_id"),
    "products": ("id", "family"),
    "reps": ("id", "hourly_cost"),
}

_TYPES = {
    "int": pa.int64(),
    "float": pa.float64(),  # amounts too (the store's NUMERIC)
    "date": pa.date32(),
    "timestamp": pa.timestamp("us"),
    "bool": pa.bool_(),
    "str": pa.string(),
}

#: The engine's type of every canonical column it may read (the store schema's, amounts as
#: float64), by table.
COLUMN_TYPES: dict[str, dict[str, str]] = {
    "accounts": {
        "id": "int",
        "customer_since": "date",
        "employees": "int",
        "owner_id": "int",
        "acquisition_cost": "float",
        "name": "str",
    },
    "activities": {
        "account_id": "int",
        "rep_id": "int",
        "contact_id": "int",
        "type": "str",
        "occurred_at": "timestamp",
        "duration_minutes": "float",
        "subject": "str",
    },
    "contacts": {"id": "int", "account_id": "int", "department": "str"},
    "contracts": {
        "id": "int",
        "account_id": "int",
        "start_date": "date",
        "end_date": "date",
        "term_months": "int",
        "recurring_amount": "float",
        "renewed_from_id": "int",
        "status": "str",
        "product_id": "int",
    },
    "nps_responses": {
        "account_id": "int",
        "responded_on": "date",
        "score": "int",
        "contact_id": "int",
    },
    "opportunities": {
        "id": "int",
        "account_id": "int",
        "type": "str",
        "amount": "float",
        "created_date": "date",
        "close_date": "date",
        "is_closed": "bool",
        "is_won": "bool",
        "competitor": "str",
        "product_id": "int",
        "stage": "str",
        "probability": "float",
    },
    "orders": {
        "account_id": "int",
        "order_number": "str",
        "order_date": "date",
        "amount": "float",
        "margin": "float",
        "product_id": "int",
    },
    "products": {"id": "int", "name": "str", "family": "str", "successor_id": "int"},
    "reps": {"id": "int", "hourly_cost": "float", "key": "str", "name": "str", "team_id": "int"},
    "success_stories": {"account_id": "int", "published_on": "date"},
    "teams": {"id": "int", "key": "str", "name": "str"},
    "tickets": {
        "account_id": "int",
        "opened_at": "timestamp",
        "closed_at": "timestamp",
        "satisfaction": "float",
        "key": "str",
        "severity": "int",
    },
    "usage": {"account_id": "int", "date": "date", "metric": "str", "value": "float"},
}


def canonical_schema(table: str, columns: Iterable[str]) -> pa.Schema:
    """The Arrow schema of ``columns`` of a canonical table (amounts as float64)."""
    known = COLUMN_TYPES.get(table, {})
    fields = []
    for name in columns:
        if name not in known:
            raise ConfigurationError(
                f"{table}.{name} is not a column the engine reads: add its type to "
                "tillage.features.columns.COLUMN_TYPES"
            )
        fields.append(pa.field(name, _TYPES[known[name]]))
    return pa.schema(fields)
