"""The canonical store: schema, migrations, sessions, bulk loading and score snapshots."""

from tillage.store.bulk import insert_frame
from tillage.store.database import (
    engine_from_settings,
    ensure_current,
    make_engine,
    migrate,
    session_scope,
)
from tillage.store.schema import CANONICAL_TABLES, Base

__all__ = [
    "CANONICAL_TABLES",
    "Base",
    "engine_from_settings",
    "ensure_current",
    "insert_frame",
    "make_engine",
    "migrate",
    "session_scope",
]
