"""The page cache of the KPI drill-down and of the snapshot diff, on a copy of the scored demo
store: the warm step keeps every KPI's company rows of the quarter, a request reads them (no
KPI backend, no scores read) and applies the caller's reach after reading; a diff is kept per
pair of snapshots and caller's filter; a change of the store computes both anew."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session
from tests.api.test_page_cache import _client, _warmed
from tests.store_rows import record_import

from tillage.config import Settings
from tillage.kpi import REGISTRY
from tillage.services.warm import warm_pages
from tillage.store.database import make_engine
from tillage.store.snapshots import latest_snapshot, write_snapshot

from .cache_entries import cache_entries, clear_cache

Store = tuple[Settings, Callable[[], TestClient]]
DRILL = "/api/v1/kpis/{kpi}/accounts"


def _refuse(*_args: object, **_kwargs: object) -> None:
    raise AssertionError("computed again, not read from the cache")


def _ids(client: TestClient) -> set[int]:
    page = client.get("/api/v1/accounts", params={"limit": 500}).json()
    return {item["account_id"] for item in page["items"]}


def _answers(clients: dict[str, TestClient]) -> dict[tuple[str, str], dict]:
    found = {}
    for login, client in clients.items():
        for kpi in ("nrr", "logo_churn_rate", "contact_frequency"):
            answer = client.get(DRILL.format(kpi=kpi), params={"limit": 5000})
            assert answer.status_code == 200, answer.text
            found[(login, kpi)] = answer.json()
    return found


def test_the_warmed_drill_down_is_read_from_the_cache_with_the_callers_reach(
    own_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings, _admin = own_store
    clients = {login: _client(settings, login) for login in ("admin", "manager", "rep")}
    clear_cache(settings)
    computed = _answers(clients)  # computed per request, as before the warm step
    # the company's rows, shared by every caller
    assert cache_entries(settings, "kpi_accounts") == 3
    _warmed(settings)
    assert cache_entries(settings, "kpi_accounts") == len(REGISTRY)
    monkeypatch.setattr("tillage.services.kpi_accounts.kpi_backend", _refuse)
    monkeypatch.setattr("tillage.services.kpi_accounts.snapshot_scores", _refuse)
    assert _answers(clients) == computed  # the same figures, from the cache
    admin, manager, rep = (clients[login] for login in ("admin", "manager", "rep"))
    everyone = computed[("admin", "nrr")]
    assert everyone["hidden"] == 0
    for login, client in (("manager", manager), ("rep", rep)):
        mine = _ids(client)
        answer = computed[(login, "nrr")]
        assert answer["items"] and {r["account_id"] for r in answer["items"]} <= mine
        assert answer["hidden"] > 0 and answer["count"] + answer["hidden"] == everyone["count"]
    page = admin.get("/kpis/nrr/accounts")
    assert page.status_code == 200 and "/accounts/" in page.text
    # the segment cut reads the scores (and is refused here): only that cut needs them
    with pytest.raises(AssertionError, match="computed again"):
        admin.get(DRILL.format(kpi="nrr"), params={"by": "segment", "value": "A"})
    for client in clients.values():
        client.__exit__(None, None, None)


def _snapshots(client: TestClient) -> tuple[int, int]:
    ids = sorted(s["id"] for s in client.get("/api/v1/snapshots").json())
    return ids[0], ids[-1]


def test_a_diff_is_kept_per_pair_and_filter_until_the_store_changes(
    own_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings, admin_client = own_store
    admin, manager = admin_client(), _client(settings, "manager")
    first, last = _snapshots(admin)
    path = f"/api/v1/diffs?from={first}&to={last}"
    clear_cache(settings)
    computed = {login: c.get(path).json() for login, c in (("admin", admin), ("manager", manager))}
    assert cache_entries(settings, "diff") == 2  # one per caller's filter
    assert computed["manager"]["accounts"] < computed["admin"]["accounts"]
    mine = _ids(manager)
    assert {m["account_id"] for m in computed["manager"]["moved_accounts"]} <= mine
    monkeypatch.setattr("tillage.services.diffs.snapshot_pair", _refuse)
    assert admin.get(path).json() == computed["admin"]  # read back, not computed
    assert manager.get(path).json() == computed["manager"]
    with pytest.raises(AssertionError, match="computed again"):  # another cut: not kept yet
        admin.get(path + "&by=zone")
    engine = make_engine(settings.resolved_database_url)
    with Session(engine) as session:
        record_import(session, dt.datetime(2026, 10, 2))
    engine.dispose()
    with pytest.raises(AssertionError, match="computed again"):  # the store changed
        admin.get(path)
    monkeypatch.undo()
    assert admin.get(path).json() == computed["admin"]  # the same figures, computed again
    manager.__exit__(None, None, None)


def test_the_warm_step_keeps_the_companys_diff_of_the_newest_two_snapshots(
    own_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings, admin_client = own_store
    engine = make_engine(settings.resolved_database_url)
    with Session(engine) as session:
        newest = latest_snapshot(session)
        as_of, before = newest.as_of, newest.id
    with engine.connect() as connection:  # a second snapshot: the same accounts, LTV doubled
        scores = pd.read_sql_query(
            text(
                "SELECT account_id, revenue_12m, tenure_months, ltv, ltv_low, ltv_high, "
                "churn_risk, zone FROM account_scores WHERE snapshot_id = :id"
            ),
            connection,
            params={"id": before},
        )
    scores[["ltv", "ltv_low", "ltv_high"]] *= 2.0
    after = write_snapshot(
        engine,
        as_of=as_of + dt.timedelta(days=1),
        created_at=dt.datetime(2026, 10, 2, 9, 0),
        scores=scores,
        label="test",
    )
    with Session(engine) as session:
        assert "diff" in warm_pages(session, settings)
    engine.dispose()
    monkeypatch.setattr("tillage.services.diffs.snapshot_pair", _refuse)
    answer = admin_client().get(f"/api/v1/diffs?from={before}&to={after}")  # read back
    assert answer.status_code == 200, answer.text
    assert answer.json()["accounts"] == len(scores)
