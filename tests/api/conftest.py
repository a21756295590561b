"""A small demo company, loaded and scored once per test session, for the surface tests."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tillage.api.app import create_app
from tillage.config import Settings
from tillage.demo import DemoConfig, generate
from tillage.store.database import make_engine, migrate
from tillage.store.load import replace_all
from tillage.strategy.scoring import run_scoring

N_ACCOUNTS = 300  # tests/api/test_accounts.py relies on this size


@pytest.fixture(scope="session")
def demo_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings of a store holding a scored 300-account demo company."""
    data_dir: Path = tmp_path_factory.mktemp("demo")
    settings = Settings(data_dir=data_dir, language="ja", _env_file=None)
    engine = make_engine(settings.resolved_database_url)
    migrate(engine)
    config = DemoConfig(n_accounts=N_ACCOUNTS, seed=7)
    replace_all(engine, generate(config).tables)
    run_scoring(engine, config.as_of, created_at=dt.datetime(2026, 10, 1, 9, 0), label="test")
    engine.dispose()
    return settings


@pytest.fixture
def client(demo_settings: Settings) -> Iterator[TestClient]:
    """An in-process HTTP client on the demo store."""
    with TestClient(create_app(demo_settings)) as test_client:
        yield test_client
