"""A small demo company, loaded and scored once per test session, for the surface tests.

The store holds the demo users (``tillage.demo.users``): ``admin``, ``manager`` (team 1),
``rep`` (team 1) and ``rep2`` (another team). Logging in costs an argon2 hash, so each user logs
in once per session (:func:`session_cookies`); ``client_as(role)`` gives a client already logged in.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tillage.api.app import create_app
from tillage.api.auth import SESSION_COOKIE
from tillage.config import Settings
from tillage.demo import DemoConfig, generate
from tillage.demo.users import DEMO_PASSWORDS, create_demo_users
from tillage.store.database import make_engine, migrate
from tillage.store.load import replace_all
from tillage.strategy.scoring import run_scoring

N_ACCOUNTS = 300  # tests/api/test_accounts.py relies on this size
TEST_SECRET = "test-only-7Qx2Vb9Lm4Kp1Zs8Wd3Rf6Tg0Hy5Nj"
LOGINS = tuple(DEMO_PASSWORDS)  # admin, manager, rep, rep2


def login(client: TestClient, user: str, password: str | None = None) -> TestClient:
    """Log ``client`` in through the login form, as a browser would."""
    client.get("/login")
    response = client.post(
        "/login",
        data={
            "login": user,
            "password": password or DEMO_PASSWORDS[user],
            "csrf_token": client.cookies.get("tillage_login_csrf") or "",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return client


@pytest.fixture(scope="session")
def demo_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings of a store holding a scored 300-account demo company and the demo users."""
    data_dir: Path = tmp_path_factory.mktemp("demo")
    settings = Settings(data_dir=data_dir, language="ja", secret_key=TEST_SECRET, _env_file=None)
    engine = make_engine(settings.resolved_database_url)
    migrate(engine)
    config = DemoConfig(n_accounts=N_ACCOUNTS, seed=7)
    replace_all(engine, generate(config).tables)
    run_scoring(engine, config.as_of, created_at=dt.datetime(2026, 10, 1, 9, 0), label="test")
    create_demo_users(engine, now=dt.datetime(2026, 10, 1, 0, 0))
    engine.dispose()
    return settings


@pytest.fixture(scope="session")
def session_cookies(demo_settings: Settings) -> dict[str, str]:
    """Each demo user's session cookie, from one login per test session."""
    cookies = {}
    with TestClient(create_app(demo_settings)) as client:
        for user in LOGINS:
            client.cookies.clear()
            login(client, user)
            cookies[user] = client.cookies[SESSION_COOKIE]
    return cookies


@pytest.fixture
def client_as(
    demo_settings: Settings, session_cookies: dict[str, str]
) -> Iterator[Callable[[str | None], TestClient]]:
    """``client_as("rep")``: an in-process client logged in as that demo user (None: anonymous)."""
    opened: list[TestClient] = []

    def make(user: str | None) -> TestClient:
        client = TestClient(create_app(demo_settings))
        client.__enter__()
        opened.append(client)
        if user is not None:
            client.cookies.set(SESSION_COOKIE, session_cookies[user])
        return client

    yield make
    for client in opened:
        client.__exit__(None, None, None)


@pytest.fixture
def client(client_as: Callable[[str | None], TestClient]) -> TestClient:
    """An in-process HTTP client on the demo store, logged in as the admin."""
    return client_as("admin")
