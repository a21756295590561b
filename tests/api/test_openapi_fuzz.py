"""Schemathesis, in process, against the OpenAPI document: no 5xx, no undeclared status code.

A bounded, deterministic run (Hypothesis is derandomized in tests/conftest.py) on a private copy
of the demo store, as the admin with every scope, so that writes (new users, revoked tokens)
cannot disturb other tests; once on SQLite and once on a fresh PostgreSQL database.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from tillage.config import Settings
from tillage.server import create_app
from tillage.store.database import make_engine, session_scope
from tillage.store.users import create_token, find_user

MAX_EXAMPLES = 12  # per operation


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def fuzz_app(request, demo_stores: dict[str, Settings], tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    demo_settings = demo_stores.get("sqlite")
    data_dir = tmp_path_factory.mktemp("fuzz")
    if request.param == "postgres":
        url = demo_stores.pg_copy("tillage_test_fuzz")  # type: ignore[attr-defined]
        fuzz_settings = demo_settings.model_copy(update={"data_dir": data_dir, "database_url": url})
    else:
        source = Path(demo_settings.resolved_database_url.removeprefix("sqlite:///"))
        with sqlite3.connect(source) as src, sqlite3.connect(data_dir / "tillage.db") as dst:
            src.backup(dst)
        fuzz_settings = demo_settings.model_copy(update={"data_dir": data_dir})
    engine = make_engine(fuzz_settings.resolved_database_url)
    with session_scope(engine) as session:
        _row, secret = create_token(
            session,
            find_user(session, "admin"),
            name="fuzz",
            scopes=["read", "write", "admin"],
            now=dt.datetime(2026, 10, 1),
        )
    engine.dispose()
    app = create_app(fuzz_settings)
    app.state.fuzz_token = secret
    return app


@pytest.fixture(scope="module")
def api_schema(fuzz_app):  # type: ignore[no-untyped-def]
    return schemathesis.openapi.from_asgi("/openapi.json", fuzz_app)


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_api_conforms_to_its_openapi_document(case, fuzz_app) -> None:  # type: ignore[no-untyped-def]
    case.call_and_validate(
        headers={"Authorization": f"Bearer {fuzz_app.state.fuzz_token}"},
        checks=[not_a_server_error, status_code_conformance, response_schema_conformance],
    )
