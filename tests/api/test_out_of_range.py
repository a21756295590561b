"""Parameters that match their pattern but lie outside the calendar or the ids are refused at the
service boundary: 422 from the API, a message on a page, exit 2 from the CLI — never a 500."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from tillage.cli.main import main
from tillage.config import Settings, get_settings


def _cursor(sort: str, descending: bool, value: object, account_id: int) -> str:
    data = json.dumps([sort, descending, value, account_id]).encode()
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/kpis?period=0000-Q1",
        "/api/v1/kpis?period=9999-12",
        "/api/v1/plans?month=0000-01",
        "/api/v1/reviews/0000-Q1",
        "/api/v1/simulate/departure?rep=1&as_of=0001-01-01",
        f"/api/v1/accounts?cursor={_cursor('ltv', True, 1.0, 2**63 + 1)}",
        f"/api/v1/accounts?sort=name&cursor={_cursor('name', False, 'a', -5)}",
    ],
)
def test_out_of_range_is_422(client_as: Callable[[str | None], TestClient], path: str) -> None:
    response = client_as("admin").get(path)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["type"] == "ParameterError"


def test_a_page_says_why(client_as: Callable[[str | None], TestClient]) -> None:
    response = client_as("admin").get("/review?period=0000-Q1")
    assert response.status_code == 422
    assert "0000" in response.text and "1900" in response.text


@pytest.mark.parametrize(
    "args",
    [
        ["kpi", "--period", "0000-Q1"],
        ["plan", "--month", "0000-01", "--format", "json"],
        ["simulate", "departure", "--rep", "1", "--as-of", "0001-01-01"],
    ],
)
def test_the_cli_exits_2(
    demo_settings: Settings, monkeypatch: pytest.MonkeyPatch, args: list[str]
) -> None:
    monkeypatch.setenv("TILLAGE_DATABASE_URL", demo_settings.resolved_database_url)
    monkeypatch.setattr("sys.argv", ["tillage", *args])
    get_settings.cache_clear()
    try:
        with pytest.raises(SystemExit) as exited:
            main()
    finally:
        get_settings.cache_clear()
    assert exited.value.code == 2
