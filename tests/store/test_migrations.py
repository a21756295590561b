"""Alembic migrations create exactly the schema the models describe, on both databases."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from tillage.errors import StoreError
from tillage.store.database import (
    HEAD_REVISION,
    alembic_config,
    current_revision,
    ensure_current,
    head_revision,
    make_engine,
    migrate,
)
from tillage.store.schema import CANONICAL_TABLES, Base


# The DESC NULLS LAST sort indexes exist on PostgreSQL only, where they are compared; SQLite
# cannot declare them, and alembic says it skips them there.
@pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified expression-based")
def test_migrations_build_the_models_schema(database_url: str) -> None:
    engine = make_engine(database_url)
    assert current_revision(engine) is None
    migrate(engine)
    assert current_revision(engine) == head_revision() == HEAD_REVISION
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert context.get_current_revision() == current_revision(engine)
        diff = compare_metadata(context, Base.metadata)
    assert diff == [], f"models and migrations disagree: {diff}"
    tables = set(inspect(engine).get_table_names())
    assert set(CANONICAL_TABLES) | {"snapshots", "account_scores"} <= tables
    indexes = {i["name"] for i in inspect(engine).get_indexes("account_scores")}
    sorts = {"ix_account_scores_snapshot_priority", "ix_account_scores_snapshot_churn"}
    assert "ix_account_scores_snapshot_revenue" in indexes
    assert (sorts <= indexes) == (engine.dialect.name == "postgresql")
    engine.dispose()


def test_downgrade_to_base_removes_every_table(database_url: str) -> None:
    engine = make_engine(database_url)
    migrate(engine)
    command.downgrade(alembic_config(engine), "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    migrate(engine)  # and back up again
    assert current_revision(engine) == head_revision()
    engine.dispose()


def test_ensure_current_refuses_an_unmigrated_store(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    with pytest.raises(StoreError, match="tillage db upgrade"):
        ensure_current(engine)
    migrate(engine)
    ensure_current(engine)
    engine.dispose()


def test_unreachable_database_gives_an_actionable_error() -> None:
    engine = make_engine("postgresql+psycopg://nobody@127.0.0.1:1/none")
    with pytest.raises(StoreError, match="TILLAGE_DATABASE_URL"):
        migrate(engine)


def test_a_current_store_is_left_without_alembic_and_a_store_behind_is_upgraded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'store.db'}")
    migrate(engine)
    asked: list[str] = []
    upgrade = command.upgrade
    monkeypatch.setattr(command, "upgrade", lambda c, r: asked.append(r) or upgrade(c, r))
    migrate(engine)  # at the newest revision: Alembic is not asked
    assert asked == []
    command.downgrade(alembic_config(engine), "-1")
    assert current_revision(engine) != HEAD_REVISION
    migrate(engine)  # one revision behind: upgraded
    assert asked == ["head"] and current_revision(engine) == HEAD_REVISION
    engine.dispose()
