"""The departments beside sales — customer success, marketing, finance — on the demo store:
what each sees, the menu showing exactly the pages each may open, account notes on the account
360 (page and JSON) and in the departure handover, and the plan's CRM task download."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from tillage.config import Settings
from tillage.report.crm_tasks import SALESFORCE_COLUMNS
from tillage.serving.scope import PAGE_ROLES, menu_for
from tillage.store.database import make_engine
from tillage.store.schema import Account, AccountTeamMember, Rep
from tillage.store.users import find_user

Client = Callable[[str | None], TestClient]


def _csrf(client: TestClient) -> str:
    return client.get("/api/v1/me").json()["csrf_token"]


def _team_accounts(settings: Settings, login: str) -> set[int]:
    engine = make_engine(settings.resolved_database_url)
    with Session(engine) as session:
        rep_key = find_user(session, login).rep_key
        found = set(
            session.scalars(
                select(AccountTeamMember.account_id)
                .join(Rep, Rep.id == AccountTeamMember.rep_id)
                .where(Rep.key == rep_key)
            )
        )
    engine.dispose()
    return found


def test_marketing_never_sees_a_reps_coaching_data(
    client_as: Client, demo_settings: Settings
) -> None:
    marketing = client_as("marketing")
    rep_key = client_as("rep").get("/api/v1/me").json()["user"]["rep_key"]
    for path in (
        f"/api/v1/one-on-one/{rep_key}",
        f"/one-on-one/{rep_key}",
        "/one-on-one",
        "/api/v1/kpis?by=rep",
        "/kpis?by=rep",
        "/api/v1/plans",
        "/plans",
    ):
        response = marketing.get(path, follow_redirects=False)
        assert response.status_code == 403, (path, response.status_code)
        assert "コーチング" not in response.text and "agenda" not in response.text.lower()
    # what marketing is for: segments over every account
    assert marketing.get("/api/v1/kpis?by=segment").status_code == 200
    assert marketing.get("/api/v1/accounts", params={"segment": "nurture"}).status_code == 200
    assert marketing.get("/api/v1/portfolio").json()["zones"]


def test_success_sees_only_the_accounts_of_their_account_teams(
    client_as: Client, demo_settings: Settings
) -> None:
    teams = _team_accounts(demo_settings, "success")
    assert teams
    success = client_as("success")
    page = success.get("/api/v1/accounts", params={"limit": 500}).json()
    assert {i["account_id"] for i in page["items"]} == teams
    assert (
        page["total"]
        == len(teams)
        == sum(z["accounts"] for z in success.get("/api/v1/portfolio").json()["zones"])
    )
    renewals = success.get("/api/v1/renewals", params={"days": 366}).json()
    assert {i["account_id"] for i in renewals["items"]} <= teams
    rows = list(
        csv.DictReader(io.StringIO(success.get("/api/v1/accounts.csv").text.lstrip("\ufeff")))
    )
    assert len(rows) == len(teams)
    outside = client_as("rep").get("/api/v1/accounts", params={"limit": 1}).json()["items"][0]
    assert outside["account_id"] not in teams
    assert success.get(f"/api/v1/accounts/{outside['account_id']}").status_code == 404
    assert success.get(f"/accounts/{outside['account_id']}").status_code == 404


@pytest.mark.parametrize("role", ["admin", "manager", "rep", "success", "marketing", "finance"])
def test_the_menu_shows_exactly_the_pages_the_role_may_open(client_as: Client, role: str) -> None:
    client = client_as(role)
    html = client.get("/portfolio").text
    nav = re.search(r'<nav id="main-nav".*?</nav>', html, re.S)
    assert nav is not None
    shown = re.findall(r'<a href="(/[^"]*)"', nav.group(0))
    assert shown == menu_for(role)
    for path in PAGE_ROLES:
        if "{" in path:  # reached from a page (the KPI drill-down), not from the menu
            continue
        status = client.get(path, follow_redirects=False).status_code
        if path in shown:
            assert status in (200, 303), (role, path, status)  # a rep's 1on1 goes to their own
        else:
            assert status == 403, (role, path, status)


def test_a_note_shows_on_the_account_360_for_every_role_that_sees_the_account(
    client_as: Client, demo_settings: Settings
) -> None:
    account_id = min(_team_accounts(demo_settings, "success"))
    success = client_as("success")
    text = "<b>決裁者</b> が4月に異動予定"
    made = success.post(
        f"/api/v1/accounts/{account_id}/notes",
        json={"text": text},
        headers={"X-CSRF-Token": _csrf(success)},
    )
    assert made.status_code == 201, made.text
    for role in ("admin", "success", "marketing", "finance"):
        client = client_as(role)
        overview = client.get(f"/api/v1/accounts/{account_id}/overview").json()
        assert text in [n["text"] for n in overview["notes"]], role
        page = client.get(f"/accounts/{account_id}").text
        assert "&lt;b&gt;決裁者&lt;/b&gt; が4月に異動予定" in page and "<b>決裁者" not in page
        assert (f'action="/accounts/{account_id}/notes"' in page) == (role != "finance"), role
    assert (
        client_as("finance")
        .post(
            f"/api/v1/accounts/{account_id}/notes",
            json={"text": "no"},
            headers={"X-CSRF-Token": _csrf(client_as("finance"))},
        )
        .status_code
        == 403
    )


def test_the_departure_handover_carries_the_accounts_notes(
    client_as: Client, demo_settings: Settings
) -> None:
    admin = client_as("admin")
    engine = make_engine(demo_settings.resolved_database_url)
    with Session(engine) as session:
        rep_key = find_user(session, "rep2").rep_key
        account_id = session.scalars(
            select(Account.id).join(Rep, Rep.id == Account.owner_id).where(Rep.key == rep_key)
        ).first()
    engine.dispose()
    admin.post(
        f"/api/v1/accounts/{account_id}/notes",
        json={"text": "引き継ぎ: 月末締めの請求書を必ず郵送"},
        headers={"X-CSRF-Token": _csrf(admin)},
    )
    result = admin.get("/api/v1/simulate/departure", params={"rep": rep_key}).json()
    handed = {a["account_id"]: a for a in result["accounts"]}
    assert account_id in handed
    assert handed[account_id]["notes"][0]["text"] == "引き継ぎ: 月末締めの請求書を必ず郵送"
    assert handed[account_id]["notes_total"] >= 1
    page = admin.get("/departure", params={"rep": rep_key}).text
    assert "引き継ぎ: 月末締めの請求書を必ず郵送" in page


def test_the_plans_page_downloads_the_reps_tasks_for_salesforce(client_as: Client) -> None:
    rep = client_as("rep")
    plan = rep.get("/api/v1/plans").json()
    month = plan["month"][:7]
    response = rep.get("/plans/tasks.csv", params={"layout": "salesforce-tasks", "month": month})
    assert response.status_code == 200
    assert response.headers["content-disposition"].endswith(
        f'salesforce-tasks-{month}-{plan["rep"]}.csv"'
    )
    rows = list(csv.reader(io.StringIO(response.text.lstrip("\ufeff"))))
    assert rows[0] == [*SALESFORCE_COLUMNS, "tillage_warning"]
    assert len(rows) - 1 == len(plan["actions"])
    # the demo's keys are not Salesforce ids: no id is made up, and each row says so
    assert all(r[4] == "" and r[5] == "" and "Salesforce" in r[7] for r in rows[1:])
    assert response.headers["x-tillage-rows-without-ids"] == str(len(plan["actions"]))


def test_success_logs_an_activity_from_the_account_page(
    client_as: Client, demo_settings: Settings
) -> None:
    account_id = max(_team_accounts(demo_settings, "success"))
    success = client_as("success")
    page = success.get(f"/accounts/{account_id}").text
    assert f'action="/accounts/{account_id}/activities"' in page
    done = success.post(
        f"/accounts/{account_id}/activities",
        data={
            "type": "qbr",
            "day": "2026-09-28",
            "minutes": "60",
            "subject": "QBR 2026年度上期",
            "csrf_token": _csrf(success),
        },
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"].endswith("#timeline")
    timeline = success.get(f"/accounts/{account_id}").text
    assert "QBR 2026年度上期" in timeline
    marketing_page = client_as("marketing").get(f"/accounts/{account_id}").text
    assert f'action="/accounts/{account_id}/activities"' not in marketing_page
    assert f'action="/accounts/{account_id}/notes"' in marketing_page  # marketing writes notes
