"""Marking planned actions done or skipped from the pages and the API: who may, what is kept and
audited, and how the marks count in the review's plan execution.

An 80-account demo company of six reps scored once (its plan is for 2026-10, a month with no
activity in the store), in its own SQLite store so the marks touch no other test's figures.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.api.conftest import TEST_SECRET, login

from tillage.config import Settings
from tillage.demo import DemoConfig, generate
from tillage.demo.users import create_demo_users
from tillage.server import create_app
from tillage.services.scoring import run_scoring
from tillage.store.database import make_engine, migrate
from tillage.store.load import replace_all
from tillage.store.schema import Account, Activity, Rep, SnapshotAction, User

pytestmark = pytest.mark.slow
NOW = dt.datetime(2026, 10, 1, 9, 0)
MONTH = "2026-10"


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("marks"),
        language="en",
        secret_key=TEST_SECRET,
        _env_file=None,
    )
    engine = make_engine(settings.resolved_database_url)
    migrate(engine)
    config = DemoConfig(n_accounts=80, n_reps=6, n_teams=2, seed=3)
    replace_all(engine, generate(config).tables)
    run_scoring(engine, config.as_of, created_at=NOW)
    create_demo_users(engine, now=NOW)
    engine.dispose()
    return settings


@pytest.fixture
def client_as(store: Settings) -> Iterator[Callable[[str], TestClient]]:
    opened: list[TestClient] = []

    def make(user: str) -> TestClient:
        client = TestClient(create_app(store))
        client.__enter__()
        opened.append(client)
        return login(client, user)

    yield make
    for client in opened:
        client.__exit__(None, None, None)


def _actions_of(settings: Settings, login_name: str) -> list[tuple[int, str]]:
    """(account id, action) of the 2026-10 plan on the accounts the user's rep owns."""
    engine = make_engine(settings.resolved_database_url)
    with Session(engine) as session:
        rep_key = session.scalars(select(User.rep_key).where(User.login == login_name)).one()
        rows = session.execute(
            select(SnapshotAction.account_id, SnapshotAction.action)
            .join(Account, Account.id == SnapshotAction.account_id)
            .join(Rep, Rep.id == Account.owner_id)
            .where(Rep.key == rep_key, SnapshotAction.month == dt.date(2026, 10, 1))
            .order_by(SnapshotAction.expected_uplift.desc())
        ).all()
    engine.dispose()
    return [(int(a), str(b)) for a, b in rows]


def _csrf(client: TestClient) -> str:
    return client.get("/api/v1/me").json()["csrf_token"]


def _execution(admin: TestClient) -> dict:
    review = admin.get(f"/api/v1/reviews/{MONTH}").json()
    return next(e for e in review["execution"] if e["rep_id"] is None)


def test_a_rep_marks_their_own_actions_and_the_review_counts_them(
    client_as: Callable[[str], TestClient], store: Settings
) -> None:
    rep, admin = client_as("rep"), client_as("admin")
    mine = _actions_of(store, "rep")
    assert len(mine) >= 2, mine
    (done_account, done_action), (skip_account, skip_action) = mine[0], mine[1]
    before = _execution(admin)
    # an activity in the month covers the second action, until it is marked skipped
    engine = make_engine(store.resolved_database_url)
    with Session(engine) as session:
        owner = session.get(Account, skip_account).owner_id
        session.add(
            Activity(
                key="MARK-TEST-1",
                account_id=skip_account,
                rep_id=owner,
                type="call",
                occurred_at=dt.datetime(2026, 10, 5, 10),
                duration_minutes=30,
            )
        )
        session.commit()
    engine.dispose()
    logged = _execution(admin)
    assert logged["covered_actions"] == before["covered_actions"] + 1
    # the page's form: done, then back to the plans page, which shows it
    page = rep.post(
        "/plans/mark",
        data={
            "csrf_token": _csrf(rep),
            "account": str(done_account),
            "month": "2026-10-01",
            "action": done_action,
            "status": "done",
            "note": "visited",
            "back": f"/plans?month={MONTH}",
        },
        follow_redirects=False,
    )
    assert page.status_code == 303 and page.headers["location"] == f"/plans?month={MONTH}"
    shown = rep.get(f"/plans?month={MONTH}").text
    assert 'data-mark="done"' in shown and "visited" in shown
    # scored on 2026-10-01, more than the default 7 days ago: the banner, without the Data
    # page's link for a rep
    assert 'id="stale" role="status" data-reason="age"' in shown
    assert 'href="/data#jobs"' not in shown
    # the API twin: skipped needs a note
    body = {"account": skip_account, "month": "2026-10-15", "action": skip_action}
    headers = {"X-CSRF-Token": _csrf(rep)}
    refused = rep.post("/api/v1/plans/marks", json={**body, "status": "skipped"}, headers=headers)
    assert refused.status_code == 422
    skipped = rep.post(
        "/api/v1/plans/marks",
        json={**body, "status": "skipped", "note": "customer asked to wait"},
        headers=headers,
    )
    assert skipped.status_code == 200, skipped.text
    assert skipped.json()["month"] == "2026-10-01" and skipped.json()["marked_by"] == "rep"
    plan = rep.get("/api/v1/plans", params={"month": MONTH}).json()
    marks = {(a["account_id"], a["action"]): (a["mark"], a["note"]) for a in plan["actions"]}
    assert marks[(done_account, done_action)] == ("done", "visited")
    assert marks[(skip_account, skip_action)] == ("skipped", "customer asked to wait")
    # the review: the done action is covered without an activity, the skipped one is not
    after = _execution(admin)
    assert after["marked_done"] == 1 and after["skipped"] == 1
    assert after["covered_actions"] == before["covered_actions"] + 1
    assert after["planned_actions"] == before["planned_actions"]
    # the account page shows the mark and the form; marking open takes it back
    account_page = rep.get(f"/accounts/{skip_account}").text
    assert 'data-mark="skipped"' in account_page and 'action="/plans/mark"' in account_page
    reopened = rep.post("/api/v1/plans/marks", json={**body, "status": "open"}, headers=headers)
    assert reopened.json()["status"] == "open"
    assert _execution(admin)["covered_actions"] == before["covered_actions"] + 2
    audit = admin.get("/api/v1/audit", params={"action": "plan.mark"}).json()
    statuses = [item["detail"]["status"] for item in audit["items"]]
    assert statuses[:3] == ["open", "skipped", "done"]
    assert audit["items"][0]["detail"]["previous"] == "skipped"


def test_a_rep_cannot_mark_another_reps_account_nor_an_unplanned_action(
    client_as: Callable[[str], TestClient], store: Settings
) -> None:
    rep, rep2 = client_as("rep"), client_as("rep2")
    theirs = _actions_of(store, "rep2")[0]
    body = {"account": theirs[0], "month": "2026-10-01", "action": theirs[1], "status": "done"}
    foreign = rep.post("/api/v1/plans/marks", json=body, headers={"X-CSRF-Token": _csrf(rep)})
    assert foreign.status_code == 404
    unplanned = rep2.post(
        "/api/v1/plans/marks",
        json={**body, "month": "2026-12-01"},
        headers={"X-CSRF-Token": _csrf(rep2)},
    )
    assert unplanned.status_code == 404 and "no action" in unplanned.json()["error"]["message"]
    own = rep2.post("/api/v1/plans/marks", json=body, headers={"X-CSRF-Token": _csrf(rep2)})
    assert own.status_code == 200
    # a page form naming another site as the way back goes to the plans page instead
    back = rep2.post(
        "/plans/mark",
        data={
            **{k: str(v) for k, v in body.items()},
            "back": "//evil.example/x",
            "csrf_token": _csrf(rep2),
        },
        follow_redirects=False,
    )
    assert back.headers["location"] == "/plans"
