"""/api/v1/kpis/{kpi}/accounts and /kpis/{kpi}/accounts: the accounts behind a KPI figure add
up to it (Σ numerator / Σ denominator of the rows is the figure /api/v1/kpis gives), and a caller
sees only the accounts and cuts they may."""

from __future__ import annotations

import math
import re
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

Clients = Callable[[str | None], TestClient]
KPIS = ("nrr", "logo_churn_rate", "arpu", "contact_frequency", "expansion_proposals")


def _figure(client: TestClient, kpi: str, by: str | None, value: str) -> dict:
    params = {"by": by} if by else {}
    rows = client.get("/api/v1/kpis", params=params).json()["rows"]
    return next(r for r in rows if r["kpi"] == kpi and r["cut_value"] == value)


def _all_rows(client: TestClient, kpi: str, params: dict) -> dict:
    answer = client.get(f"/api/v1/kpis/{kpi}/accounts", params={**params, "limit": 5000})
    assert answer.status_code == 200, answer.text
    return answer.json()


@pytest.mark.parametrize("kpi", KPIS)
def test_the_rows_add_up_to_the_kpi_pages_figure(client_as: Clients, kpi: str) -> None:
    admin = client_as("admin")
    company = _figure(admin, kpi, None, "all")
    answer = _all_rows(admin, kpi, {"period": company["period"]})
    assert answer["period"] == company["period"] and answer["hidden"] == 0
    assert answer["count"] == len(answer["items"]) > 0
    num = sum(r["numerator"] for r in answer["items"])
    assert math.isclose(num, company["numerator"], rel_tol=1e-9)
    if answer["kind"] == "count":
        assert math.isclose(answer["value"], company["value"], rel_tol=1e-9)
    else:
        den = sum(r["denominator"] for r in answer["items"])
        assert math.isclose(answer["scale"] * num / den, company["value"], rel_tol=1e-9)
    total = sum(r["contribution"] for r in answer["items"])
    assert math.isclose(total, company["value"], rel_tol=1e-9, abs_tol=1e-9)
    sizes = [abs(r["contribution"]) for r in answer["items"]]
    assert sizes == sorted(sizes, reverse=True)
    for by in ("rep", "team", "segment"):
        cut = next(
            r
            for r in admin.get("/api/v1/kpis", params={"by": by}).json()["rows"]
            if r["kpi"] == kpi and r["cut"] == by and r["value"] is not None
        )
        part = _all_rows(admin, kpi, {"by": by, "value": cut["cut_value"]})
        assert math.isclose(part["value"], cut["value"], rel_tol=1e-9), (by, cut)
        assert math.isclose(part["numerator"], cut["numerator"], rel_tol=1e-9)


def test_nrr_rows_are_mrr_at_the_start_and_at_the_close(client_as: Clients) -> None:
    answer = _all_rows(client_as("admin"), "nrr", {})
    assert answer["money_numerator"] and answer["money_denominator"]
    assert all(r["denominator"] > 0 for r in answer["items"])  # the start cohort only


def test_a_rep_sees_their_own_accounts_and_not_another_teams_cut(client_as: Clients) -> None:
    rep, rep2 = client_as("rep"), client_as("rep2")
    mine = {
        a["account_id"] for a in rep.get("/api/v1/accounts", params={"limit": 500}).json()["items"]
    }
    rows = rep.get("/api/v1/kpis", params={"by": "rep"}).json()["rows"]
    own = next(r for r in rows if r["cut"] == "rep" and r["kpi"] == "contact_frequency")
    answer = _all_rows(rep, "contact_frequency", {"by": "rep", "value": own["cut_value"]})
    assert answer["items"] and {r["account_id"] for r in answer["items"]} <= mine
    assert math.isclose(answer["value"], own["value"], rel_tol=1e-9)
    company = _all_rows(rep, "contact_frequency", {})
    assert {r["account_id"] for r in company["items"]} <= mine and company["hidden"] > 0
    other = next(
        r
        for r in rep2.get("/api/v1/kpis", params={"by": "team"}).json()["rows"]
        if r["cut"] == "team"
    )
    for path in ("/api/v1/kpis/nrr/accounts", "/kpis/nrr/accounts"):
        refused = rep.get(path, params={"by": "team", "value": other["cut_value"]})
        assert refused.status_code == 404, (path, refused.status_code)
    assert (
        client_as("marketing")
        .get("/api/v1/kpis/nrr/accounts", params={"by": "rep", "value": own["cut_value"]})
        .status_code
        == 403
    )
    assert rep.get("/api/v1/kpis/no_such_kpi/accounts").status_code == 404


def test_the_page_says_what_the_figure_is_and_links_each_account(client_as: Clients) -> None:
    admin = client_as("admin")
    kpis_page = admin.get("/kpis", params={"lang": "ja"}).text
    link = re.search(r'href="(/kpis/nrr/accounts\?period=[^"]+)"', kpis_page)
    assert link is not None
    html = admin.get(link.group(1).replace("&amp;", "&"), params={"lang": "ja"}).text
    answer = _all_rows(admin, "nrr", {})
    first = answer["items"][0]
    assert f'href="/accounts/{first["account_id"]}"' in html
    assert "期首MRR" in html and "÷" in html
    english = admin.get(link.group(1).replace("&amp;", "&"), params={"lang": "en"}).text
    assert "MRR at the start" in english
