"""Each question through the CLI (``--format json``), the API and the page's data gives the same
figures: one service answers all three (issue 18). The previously divergent listing filters —
risk, search, sort, paging — are in it."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from tillage.cli.main import app
from tillage.config import Settings, get_settings


@pytest.fixture
def cli(demo_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Callable[..., dict]:
    """``cli("portfolio", "--format", "json")``: the command's JSON answer on the demo store."""
    monkeypatch.setenv("TILLAGE_DATABASE_URL", demo_settings.resolved_database_url)
    monkeypatch.setenv("TILLAGE_DATA_DIR", str(demo_settings.data_dir))
    monkeypatch.setenv("TILLAGE_LANGUAGE", demo_settings.language)
    get_settings.cache_clear()

    def run(*args: str) -> dict:
        result = CliRunner().invoke(app, list(args))
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    yield run  # type: ignore[misc]
    get_settings.cache_clear()


@pytest.fixture
def admin(client_as: Callable[[str | None], TestClient]) -> TestClient:
    return client_as("admin")


def _api(client: TestClient, path: str) -> dict:
    response = client.get(path)
    assert response.status_code == 200, response.text
    return response.json()


def _csv(client: TestClient, path: str) -> list[dict[str, str]]:
    """A page's ``?format=csv`` download as rows (the BOM is for Excel)."""
    response = client.get(path)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    return list(csv.DictReader(io.StringIO(response.text.removeprefix("\ufeff"))))


def _links_its_data(client: TestClient, path: str) -> None:
    """The page links its JSON and CSV twins."""
    html = client.get(path).text
    assert 'data-format="json"' in html and 'data-format="csv"' in html, path


LISTINGS = [
    # (API query, page query, CLI options): the same question in each surface's words
    (
        "sort=priority&order=desc&limit=50&offset=50",
        "sort=priority&order=desc&page=2",
        ["--sort", "priority", "--order", "desc", "--offset", "50"],
    ),
    (
        "risk=churn&sort=priority&order=desc&limit=50",
        "risk=churn&sort=priority&order=desc",
        ["--risk", "churn", "--sort", "priority", "--order", "desc"],
    ),
    (
        "risk=high&sort=ltv&limit=50",
        "risk=high&sort=ltv&order=desc",
        ["--risk", "high", "--sort", "ltv"],
    ),
    (
        "q=0&sort=name&order=asc&limit=50",
        "q=%200%20&sort=name&order=asc",
        ["--search", "0", "--sort", "name", "--order", "asc"],
    ),
    (
        "risk=single_threaded&sort=churn_risk&order=asc&limit=50",
        "risk=single_threaded&sort=churn_risk&order=asc",
        ["--risk", "single_threaded", "--sort", "churn_risk", "--order", "asc"],
    ),
]


@pytest.mark.parametrize(("api", "page", "options"), LISTINGS)
def test_the_account_list_is_one_listing(
    admin: TestClient, cli: Callable[..., dict], api: str, page: str, options: list[str]
) -> None:
    answer = _api(admin, f"/api/v1/accounts?{api}")
    assert answer["items"], "the question should match some accounts"
    shown = _api(admin, f"/accounts?{page}&format=json")
    told = cli("accounts", *options, "--limit", "50", "--format", "json")
    for other in (shown, told):
        assert other["items"] == answer["items"]
        assert (other["total"], other["total_ltv"]) == (answer["total"], answer["total_ltv"])


def test_account_detail_portfolio_and_plans(admin: TestClient, cli: Callable[..., dict]) -> None:
    first = _api(admin, "/api/v1/accounts?limit=1")["items"][0]["account_id"]
    detail = _api(admin, f"/api/v1/accounts/{first}")
    assert _api(admin, f"/accounts/{first}?format=json") == detail
    assert detail["history"], "a scored account has a history"

    portfolio = _api(admin, "/api/v1/portfolio")
    assert cli("portfolio", "--format", "json") == portfolio
    assert sum(z["accounts"] for z in portfolio["zones"]) > 0
    assert sum(z["deals"] for z in portfolio["deal_zones"]) > 0
    assert _api(admin, "/portfolio?format=json") == portfolio
    # one cell count (the page's, the CLI table's, the workbook's): the cells sum to the zones
    cells = portfolio["cells"]
    assert [c["key"] for c in cells][:4] == ["deepen", "maintain", "nurture", "reduce"]
    assert sum(c["accounts"] for c in cells) == sum(z["accounts"] for z in portfolio["zones"])
    assert sum(c["total_ltv"] for c in cells) == pytest.approx(
        sum(z["total_ltv"] for z in portfolio["zones"])
    )
    rows = _csv(admin, "/portfolio?format=csv")
    assert [(r["key"], int(r["accounts"]), float(r["total_ltv"])) for r in rows] == [
        (c["key"], c["accounts"], c["total_ltv"]) for c in cells
    ]
    _links_its_data(admin, "/portfolio")

    plans = _api(admin, "/api/v1/plans")
    month = plans["month"][:7]
    # the CLI answers every page at once; the API a page of ten reps
    whole = cli("plan", "--month", month, "--format", "json")
    pages = [
        _api(admin, f"/api/v1/plans?month={month}&page={n}&cadence_limit=1000")
        for n in range(1, plans["pages"] + 1)
    ]
    assert pages[0]["actions"] == plans["actions"]
    for field in ("snapshot", "month", "rep", "reps", "uplift", "naive_uplift", "gap"):
        assert whole[field] == plans[field], field
    assert whole["rep_actions"] == plans["rep_actions"]
    assert whole["total_actions"] == plans["total_actions"] == len(whole["actions"])

    def by_account(rows: list[dict]) -> list[dict]:
        return sorted(rows, key=lambda r: (r["account_id"], r.get("action", "")))

    assert by_account(whole["actions"]) == by_account([a for p in pages for a in p["actions"]])
    assert by_account(whole["cadence"]) == by_account([c for p in pages for c in p["cadence"]])
    assert plans["actions"] and plans["uplift"] > 0
    assert _api(admin, "/plans?format=json") == plans
    rows = _csv(admin, "/plans?format=csv")  # every page's actions
    assert [(int(r["account_id"]), r["action"], float(r["hours"])) for r in rows] == [
        (a["account_id"], a["action"], a["hours"]) for a in whole["actions"]
    ]
    _links_its_data(admin, "/plans")


def test_kpis_review_agenda_and_departure(admin: TestClient, cli: Callable[..., dict]) -> None:
    kpis = _api(admin, "/api/v1/kpis")
    period = kpis["period"]
    assert cli("kpi", "--period", period, "--format", "json") == _api(
        admin, f"/api/v1/kpis?period={period}"
    )
    assert any(row["value"] is not None for row in kpis["rows"])
    for by in ("", "&by=segment"):
        answer = _api(admin, f"/api/v1/kpis?period={period}{by}")
        assert _api(admin, f"/kpis?period={period}{by}&format=json") == answer
        rows = _csv(admin, f"/kpis?period={period}{by}&format=csv")
        assert [(r["kpi"], r["cut"], r["cut_value"], r["value"]) for r in rows] == [
            (r["kpi"], r["cut"], r["cut_value"], "" if r["value"] is None else str(r["value"]))
            for r in answer["rows"]
        ]
    _links_its_data(admin, f"/kpis?period={period}")

    review = _api(admin, f"/api/v1/reviews/{period}")
    assert cli("review", "--period", period, "--format", "json") == review
    assert _api(admin, f"/review?period={period}&format=json") == review

    rep = str(_api(admin, "/api/v1/plans")["reps"][0]["rep_id"])
    agenda = _api(admin, f"/api/v1/one-on-one/{rep}")
    assert cli("one-on-one", "--rep", rep, "--format", "json") == agenda
    assert _api(admin, f"/one-on-one/{rep}?format=json") == agenda

    departure = _api(admin, f"/api/v1/simulate/departure?rep={rep}")
    assert cli("simulate", "departure", "--rep", rep, "--format", "json") == departure
    assert departure["accounts"], "a rep's departure affects their accounts"


def test_renewals_deals_and_departure_pages_are_their_twins(admin: TestClient) -> None:
    renewals = _api(admin, "/api/v1/renewals?days=180")
    assert renewals["items"], "the demo has renewals in the next half year"
    assert _api(admin, "/renewals?days=180&format=json") == renewals
    rows = _csv(admin, "/renewals?days=180&format=csv")
    assert [(int(r["contract_id"]), float(r["arr"])) for r in rows] == [
        (i["contract_id"], i["arr"]) for i in renewals["items"]
    ]
    _links_its_data(admin, "/renewals")

    deals = _api(admin, "/api/v1/deals?zone=B&limit=500")
    assert _api(admin, "/deals?zone=B&format=json") == {
        **deals,
        "limit": 50,
        "items": deals["items"][:50],
    }
    rows = _csv(admin, "/deals?zone=B&format=csv")
    assert [int(r["opportunity_id"]) for r in rows] == [d["opportunity_id"] for d in deals["items"]]
    _links_its_data(admin, "/deals")

    rep = str(_api(admin, "/api/v1/plans")["reps"][0]["rep_id"])
    departure = _api(admin, f"/api/v1/simulate/departure?rep={rep}")
    assert _api(admin, f"/departure?rep={rep}&format=json") == departure
    rows = _csv(admin, f"/departure?rep={rep}&format=csv")
    assert [int(r["account_id"]) for r in rows] == [a["account_id"] for a in departure["accounts"]]
    _links_its_data(admin, f"/departure?rep={rep}")
