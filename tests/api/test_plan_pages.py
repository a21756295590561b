"""The plans and the renewals a page at a time, on the scored 300-account demo (40 reps: four
pages of plans for the admin): each page holds the next rows, the pages together hold what the
whole answer holds, and the totals count every page; and the contact cadence read from the
per-snapshot page cache equals the list computed per request as before."""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tillage.config import Settings
from tillage.services import cadence as cadence_service
from tillage.services.cadence import plan_cadence, schedule_of
from tillage.services.plans import REPS_PER_PAGE, month_plan
from tillage.services.strategy import strategy_in_force
from tillage.services.warm import warm_pages
from tillage.store.access import OPERATOR, everything
from tillage.store.database import make_engine
from tillage.store.page_cache import clear_entries
from tillage.store.records import PageCacheEntry
from tillage.store.schema import Account, AccountScore, Activity
from tillage.store.snapshots import complete_snapshot
from tillage.store.work import ActionMark
from tillage.strategy.cadence import cadence_due
from tillage.web import views


def _pages(client: TestClient, path: str, **params: object) -> list[dict]:
    first = client.get(path, params=params).json()
    return [first] + [
        client.get(path, params={**params, "page": n}).json() for n in range(2, first["pages"] + 1)
    ]


def test_the_plan_pages_hold_ten_reps_each_and_every_action_once(
    client_as: Callable[[str | None], TestClient],
) -> None:
    admin = client_as("admin")
    pages = _pages(admin, "/api/v1/plans")
    assert len(pages) == pages[0]["pages"] > 1
    order = [r["rep_id"] for r in pages[0]["rep_actions"]]
    every = [a for p in pages for a in p["actions"]]
    # the CSV export holds every page's actions, in page order
    table = admin.get("/plans", params={"format": "csv"})
    assert table.status_code == 200
    assert len(table.text.strip().splitlines()) - 1 == len(every)
    assert (
        pages[0]["total_actions"]
        == len(every)
        == sum(r["actions"] for r in pages[0]["rep_actions"])
    )
    for number, page in enumerate(pages, start=1):
        assert page["page"] == number
        on_page = set(order[(number - 1) * REPS_PER_PAGE : number * REPS_PER_PAGE])
        assert {a["rep_id"] for a in page["actions"]} <= on_page
        counts = {r["rep_id"]: r["actions"] for r in page["rep_actions"] if r["rep_id"] in on_page}
        for rep_id, count in counts.items():
            assert sum(a["rep_id"] == rep_id for a in page["actions"]) == count
    # page 2 holds the next reps' actions: none of page 1's reps, the next ten of the order
    second = {a["rep_id"] for a in pages[1]["actions"]}
    assert second and not second & {a["rep_id"] for a in pages[0]["actions"]}
    assert second <= set(order[REPS_PER_PAGE : 2 * REPS_PER_PAGE])
    # past the last page: the last
    beyond = admin.get("/api/v1/plans", params={"page": 99}).json()
    assert beyond["page"] == pages[-1]["page"] and beyond["actions"] == pages[-1]["actions"]
    # the page is its API twin
    assert admin.get("/plans", params={"page": 2, "format": "json"}).json() == pages[1]
    html = admin.get("/plans", params={"page": 2, "lang": "ja"}).text
    assert f"担当者 {len(order)}人中 11–20人" in html
    assert admin.get("/plans", params={"page": 2, "lang": "en"}).text.count('rel="next"') == 1


def test_the_pages_together_hold_the_whole_plan_and_cadence(
    client_as: Callable[[str | None], TestClient], demo_settings: Settings
) -> None:
    engine = make_engine(demo_settings.resolved_database_url)
    try:
        with Session(engine) as session:
            whole = month_plan(session, OPERATOR, everything())
    finally:
        engine.dispose()
    admin = client_as("admin")
    pages = _pages(admin, "/api/v1/plans", cadence_limit=1000)
    key = ("account_id", "action")
    assert sorted(tuple(a[k] for k in key) for p in pages for a in p["actions"]) == sorted(
        (a.account_id, a.action) for a in whole.actions
    )
    cadence = [c["account_id"] for p in pages for c in p["cadence"]]
    assert len(cadence) == len(set(cadence))  # no account on two pages
    assert set(cadence) == {c.account_id for c in whole.cadence} and cadence
    assert sum(p["cadence_total"] for p in pages) == len(whole.cadence)
    # a page's cadence list a slice at a time: the next slice holds the next accounts due
    full = pages[0]["cadence"]
    assert len(full) == pages[0]["cadence_total"] > 10
    sliced = admin.get("/api/v1/plans", params={"cadence_limit": 5, "cadence_offset": 5}).json()
    assert sliced["cadence"] == full[5:10] and sliced["cadence_total"] == len(full)
    default = admin.get("/api/v1/plans").json()
    assert default["cadence_limit"] == 200 and default["cadence"] == full[:200]
    # a manager's pages: their reach only, the same totals as the whole
    team = _pages(client_as("manager"), "/api/v1/plans")
    assert team[0]["total_actions"] == sum(len(p["actions"]) for p in team)


def test_renewal_pages_hold_the_next_rows_and_totals_count_every_row(
    client_as: Callable[[str | None], TestClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    admin = client_as("admin")
    whole = admin.get("/api/v1/renewals", params={"days": 365, "limit": 1000}).json()
    assert whole["total"] == len(whole["items"]) > 10
    first = admin.get("/api/v1/renewals", params={"days": 365, "limit": 5}).json()
    second = admin.get("/api/v1/renewals", params={"days": 365, "limit": 5, "offset": 5}).json()
    assert first["items"] == whole["items"][:5]
    assert second["items"] == whole["items"][5:10]
    for page in (first, second):
        assert page["total"] == whole["total"]
        assert page["total_arr"] == pytest.approx(whole["total_arr"])
        assert page["weeks"] == whole["weeks"]
    assert sum(w["contracts"] for w in whole["weeks"]) == whole["total"]
    # the page: 20 rows a page here; page 2 shows rows 21–40 of all, in Japanese
    monkeypatch.setattr(views, "PER_PAGE", 20)
    html = admin.get("/renewals", params={"days": 365, "page": 2, "lang": "ja"}).text
    assert f"{whole['total']:,}件中 21–40件" in html
    shown = [int(c) for c in _contracts(html)]
    assert shown == [i["contract_id"] for i in whole["items"][20:40]]
    table = admin.get("/renewals", params={"days": 365, "format": "csv"}).text
    assert len(table.strip().splitlines()) - 1 == whole["total"]  # the CSV: every page


def _contracts(html: str) -> list[str]:
    return re.findall(r'data-contract="(\d+)"', html)


def _copy(settings: Settings, folder: Path) -> str:
    source = settings.resolved_database_url.removeprefix("sqlite:///")
    target = folder / "copy.db"
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    return f"sqlite:///{target}"


def _per_request(session: Session, month: dt.date) -> list[tuple]:
    """The cadence list as every request computed it before the page cache kept it."""
    snap = complete_snapshot(session)
    cells = pd.DataFrame(
        session.execute(
            select(AccountScore.account_id, AccountScore.segment).where(
                AccountScore.snapshot_id == snap.id
            )
        ).all(),
        columns=["account_id", "segment"],
    )
    end = dt.datetime.combine(snap.as_of + dt.timedelta(days=1), dt.time())
    contacts = pd.DataFrame(
        session.execute(
            select(Activity.account_id, Activity.type, func.max(Activity.occurred_at))
            .where(Activity.occurred_at < end)
            .group_by(Activity.account_id, Activity.type)
        ).all(),
        columns=["account_id", "type", "last"],
    )
    due = cadence_due(cells, contacts, strategy_in_force(session), as_of=snap.as_of, month=month)
    return [tuple(row) for row in due.itertuples(index=False)]


def _listed(session: Session, month: dt.date) -> list[tuple]:
    snap = complete_snapshot(session)
    due = plan_cadence(session, snap, month, strategy_in_force(session), visible=everything())
    return [
        (c.account_id, c.cell, c.activity, c.every_days, c.last_contact, c.due_by, c.overdue)
        for c in due
    ]


def test_the_cadence_is_computed_once_per_snapshot_and_lists_what_it_did(
    demo_settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = _copy(demo_settings, tmp_path)
    engine = make_engine(url)
    settings = demo_settings.model_copy(update={"database_url": url})
    try:
        with Session(engine) as session:
            # the shared demo store may hold entries of earlier tests (a stale key after an
            # activity they logged): this test counts what its own warm step keeps
            clear_entries(session)
            session.commit()
            snap = complete_snapshot(session)
            month = dt.date.fromisoformat(snap.models["plans"]["month"])
            before = _per_request(session, month)
            assert before
            assert "cadence" in warm_pages(session, settings)
            kept = session.scalar(
                select(func.count()).where(PageCacheEntry.kind == cadence_service.KIND)
            )
            assert kept == 1
        computed: list[int] = []
        real = cadence_service.compute_schedule

        def counting(*args, **kwargs):  # type: ignore[no-untyped-def]
            computed.append(1)
            return real(*args, **kwargs)

        monkeypatch.setattr(cadence_service, "compute_schedule", counting)
        with Session(engine) as session:
            assert _listed(session, month) == before  # read from the cache: the same list
            assert computed == []
            # a plan mark and an activity after the snapshot's date leave it where it is
            account = session.scalar(select(Account.id).order_by(Account.id).limit(1))
            session.add(
                ActionMark(
                    account_id=account,
                    month=month,
                    action="health_check",
                    status="done",
                    marked_at=dt.datetime(2026, 10, 2),
                    marked_by_login="admin",
                )
            )
            later = dt.datetime.combine(snap.as_of + dt.timedelta(days=3), dt.time(10))
            session.add(Activity(key="late-1", account_id=account, type="visit", occurred_at=later))
            session.commit()
            assert _listed(session, month) == before and computed == []
            # a visit logged on the snapshot's date changes the list: computed again
            due = {row[0]: row for row in before}
            target = next(
                a
                for a, row in due.items()
                if row[2] in ("visit", "meeting", "any") and row[4] != snap.as_of
            )
            on_day = dt.datetime.combine(snap.as_of, dt.time(9))
            session.add(Activity(key="late-2", account_id=target, type="visit", occurred_at=on_day))
            session.commit()
            after = _listed(session, month)
            assert computed == [1]
            assert after == _per_request(session, month) and after != before
            visited = {row[0]: row for row in after}.get(target)
            assert visited is None or visited[4] == snap.as_of  # its last visit: that day
            assert _listed(session, month) == after and computed == [1]  # kept again
            assert schedule_of(session, snap, strategy_in_force(session)).shape[0] >= len(after)
    finally:
        engine.dispose()
