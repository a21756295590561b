"""Alembic environment: runs migrations on the engine handed in by tillage.store.database."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine

from tillage.store.schema import Base

config = context.config
engine: Engine | None = config.attributes.get("engine")
if engine is None:  # pragma: no cover - only when alembic is run by hand
    from tillage.config import get_settings
    from tillage.store.database import engine_from_settings

    engine = engine_from_settings(get_settings())

with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    context.run_migrations()
