"""The per-snapshot page cache and the ETags of snapshot answers, on the scored 300-account demo
(tillage.services.page_cache, tillage.serving.etag): a cached answer equals the computed one,
the page's KPI trend and the API's period share their rows, any change of the store (import,
activity, strategy, snapshot) computes anew, and a current copy is answered 304."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, event, func, select
from sqlalchemy.orm import Session
from tests.api.conftest import login, sqlite_copy
from tests.store_rows import import_row, record_import

from tillage.config import Settings
from tillage.kpi import REGISTRY
from tillage.server import create_app
from tillage.services.effects import company_effects, review_effects, stored_effects
from tillage.services.page_cache import PageCache
from tillage.services.strategy import strategy_in_force
from tillage.services.warm import warm_pages
from tillage.store.access import reach_ids, reach_names
from tillage.store.database import make_engine
from tillage.store.page_cache import REQUEST, clear_entries, store_version
from tillage.store.schema import (
    Activity,
    Import,
    PageCacheEntry,
    Snapshot,
    SnapshotAction,
    User,
)
from tillage.store.users import find_user, principal_for

from .cache_entries import cache_entries, clear_cache

PERIOD = "2026-Q3"


def _rep(settings: Settings) -> str:
    engine = make_engine(settings.resolved_database_url)
    with Session(engine) as session:
        key = find_user(session, "rep").rep_key
    engine.dispose()
    assert key
    return key


def _routes(rep: str) -> list[tuple[str, str]]:
    return [
        ("kpis", "/api/v1/kpis?by=rep"),
        ("kpis", "/api/v1/kpis?by=segment"),
        ("review", f"/api/v1/reviews/{PERIOD}"),
        ("agenda", f"/api/v1/one-on-one/{rep}"),
        ("departure", f"/api/v1/simulate/departure?rep={rep}"),
    ]


@pytest.mark.parametrize("login", ["admin", "manager"])
def test_a_cached_answer_equals_the_computed_one(
    demo_settings: Settings, client_as: Callable[[str | None], TestClient], login: str
) -> None:
    client = client_as(login)
    for kind, path in _routes(_rep(demo_settings)):
        clear_cache(demo_settings)
        computed = client.get(path)
        assert computed.status_code == 200, path
        assert cache_entries(demo_settings, kind) >= 1, path  # the answer was kept
        cached = client.get(path)
        assert cached.json() == computed.json(), path


def test_the_pages_trend_and_the_apis_period_share_their_rows(
    demo_settings: Settings, client_as: Callable[[str | None], TestClient]
) -> None:
    admin = client_as("admin")
    clear_cache(demo_settings)
    alone = admin.get("/api/v1/kpis?by=team").json()  # one period, computed alone
    assert cache_entries(demo_settings, "kpis") == 1
    clear_cache(demo_settings)
    assert admin.get("/kpis?by=team").status_code == 200  # five quarters in one computation
    assert cache_entries(demo_settings, "kpis") == 5
    assert admin.get("/api/v1/kpis?by=team").json() == alone  # read from the page's rows
    assert cache_entries(demo_settings, "kpis") == 5


def test_list_totals_are_counted_once_per_filter_and_reach(
    demo_settings: Settings, client_as: Callable[[str | None], TestClient]
) -> None:
    clear_cache(demo_settings)
    totals = {}
    for who in ("admin", "manager"):
        client = client_as(who)
        first = client.get("/api/v1/accounts", params={"limit": 5, "zone": "B"}).json()
        second = client.get(
            "/api/v1/accounts", params={"limit": 5, "zone": "B", "cursor": first["next_cursor"]}
        ).json()
        assert "total" in second, second
        assert second["total"] == first["total"] and second["total_ltv"] == first["total_ltv"]
        everything = client.get("/api/v1/accounts", params={"limit": 500, "zone": "B"}).json()
        assert first["total"] == len(everything["items"])
        assert first["total_ltv"] == pytest.approx(sum(i["ltv"] for i in everything["items"]))
        totals[who] = first["total"]
    assert totals["manager"] < totals["admin"]  # one entry per reach, not shared
    assert cache_entries(demo_settings, "list-total") == 2


def test_an_etag_answers_304_to_the_same_caller_only(
    demo_settings: Settings, client_as: Callable[[str | None], TestClient]
) -> None:
    admin, manager = client_as("admin"), client_as("manager")
    for path in ("/api/v1/kpis", f"/api/v1/reviews/{PERIOD}", "/kpis", "/review"):
        first = admin.get(path)
        etag = first.headers["etag"]
        assert first.status_code == 200 and etag.startswith('W/"')
        assert first.headers["cache-control"] == "no-store"  # never kept by the browser
        again = admin.get(path, headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.content == b""
        assert again.headers["etag"] == etag and again.headers["cache-control"] == "no-store"
        assert admin.get(path, headers={"If-None-Match": 'W/"other"'}).status_code == 200
        other = manager.get(path, headers={"If-None-Match": etag})
        assert other.status_code == 200 and other.headers["etag"] != etag
        english = admin.get(path, params={"lang": "en"}, headers={"If-None-Match": etag})
        assert english.status_code == 200 and english.headers["etag"] != etag
    # the role check comes first: a rep gets 403, not 304, whatever the header says
    rep = client_as("rep")
    assert rep.get(f"/api/v1/reviews/{PERIOD}", headers={"If-None-Match": "*"}).status_code == 403
    assert client_as(None).get("/api/v1/kpis", headers={"If-None-Match": "*"}).status_code == 401
    # routes without an ETag keep answering in full
    assert "etag" not in admin.get("/api/v1/accounts").headers


def test_an_import_a_strategy_or_a_snapshot_computes_anew(
    own_store: tuple[Settings, Callable[[], TestClient]],
) -> None:
    settings, admin_client = own_store
    admin = admin_client()
    engine = make_engine(settings.resolved_database_url)
    first = admin.get("/api/v1/kpis")
    etag = first.headers["etag"]
    with Session(engine) as session:
        before = store_version(session)
        record_import(session, dt.datetime(2026, 10, 2))
        after_import = store_version(session)
    assert after_import is not None and before is not None
    assert after_import.data != before.data and after_import.snapshot_id == before.snapshot_id
    changed = admin.get("/api/v1/kpis", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag
    assert changed.json() == first.json()  # the same figures, computed again
    # a saved strategy version changes the key too
    text = admin.get("/api/v1/strategy").json()["text"]
    csrf = admin.get("/api/v1/me").json()["csrf_token"]
    saved = admin.put(
        "/api/v1/strategy",
        json={"text": text + "\n# saved again\n", "comment": "test"},
        headers={"X-CSRF-Token": csrf},
    )
    assert saved.status_code in (200, 201), saved.text
    with Session(engine) as session:
        assert store_version(session).strategy > after_import.strategy  # type: ignore[union-attr]
        kept = session.scalar(select(func.count()).select_from(PageCacheEntry))
    assert admin.get("/api/v1/kpis", headers={"If-None-Match": etag}).status_code == 200
    # a new snapshot: the rows of the older one are dropped on the next write
    with Session(engine) as session:
        old = session.get(Snapshot, before.snapshot_id)
        assert old is not None and kept
        session.add(
            Snapshot(as_of=old.as_of, created_at=dt.datetime(2026, 10, 3), models=old.models)
        )
        session.commit()
        cache = PageCache(session)
        assert cache.version is not None and cache.version.snapshot_id != before.snapshot_id
        assert cache.get("test", {}) is None
        cache.put("test", {}, b"payload")
        assert cache.get("test", {}) == b"payload"
        snapshots = set(session.scalars(select(PageCacheEntry.snapshot_id)))
    assert snapshots == {cache.version.snapshot_id}
    engine.dispose()


def test_a_request_reads_the_store_version_once_until_it_writes(
    own_store: tuple[Settings, Callable[[], TestClient]],
) -> None:
    """A request's session names one version throughout (one read), a write in it reads anew;
    any other session reads the store each time."""
    settings, _client = own_store
    engine = make_engine(settings.resolved_database_url)
    reads: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        if "max(strategy_versions.id)" in statement:
            reads.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    with Session(engine) as session:
        session.info[REQUEST] = True
        first = store_version(session)
        assert store_version(session) is first and len(reads) == 1
        session.add(import_row(dt.datetime(2026, 10, 2)))
        session.flush()  # a write: read again
        second = store_version(session)
        assert len(reads) == 2 and second is not None and first is not None
        assert second.data[0] > first.data[0]
        session.execute(delete(PageCacheEntry).where(PageCacheEntry.kind == "none"))  # Core
        store_version(session)
        assert len(reads) == 3
        session.rollback()
        store_version(session)  # a new transaction: read again
        assert len(reads) == 4
    with Session(engine) as other:  # not a request's: every call reads
        store_version(other)
        store_version(other)
    assert len(reads) == 6
    event.remove(engine, "before_cursor_execute", count)
    engine.dispose()


def test_the_review_reads_the_effects_the_scoring_run_recorded(
    own_store: tuple[Settings, Callable[[], TestClient]],
) -> None:
    settings, _admin = own_store
    engine = make_engine(settings.resolved_database_url)
    with Session(engine) as session:
        snapshot = session.scalars(select(Snapshot).order_by(Snapshot.id.desc())).first()
        assert snapshot is not None
        as_of = snapshot.as_of
        # other tests of the session may have imported or logged activities on the shared
        # store since it was scored: this copy is put back to the state the run recorded
        imported, logged = snapshot.models["learned_effects"]["data"]
        session.execute(delete(Activity).where(Activity.id > logged))
        session.execute(delete(Import).where(Import.id > imported))
        session.commit()
        strategy = strategy_in_force(session, currency=settings.currency)
        stored = stored_effects(session, as_of, strategy)
        assert stored is not None  # recorded by the scoring run, and still valid
        computed = company_effects(engine, as_of, strategy)
        assert {k: v.model_dump() for k, v in stored.items()} == {
            k: v.model_dump() for k, v in computed.items()
        }
        # another date has none recorded: computed, then kept in the page cache
        other = as_of - dt.timedelta(days=30)
        assert stored_effects(session, other, strategy) is None
        first = review_effects(session, other, strategy)
        assert session.scalar(
            select(func.count()).select_from(PageCacheEntry).where(PageCacheEntry.kind == "effects")
        )
        assert review_effects(session, other, strategy) == first
        # an import after the run: the recorded effects may be stale, so they are not used
        record_import(session, dt.datetime(2026, 10, 2))
        assert stored_effects(session, as_of, strategy) is None
    engine.dispose()


def test_warming_computes_the_views_opened_first(
    warmed_store: tuple[Settings, list[str]],
) -> None:
    settings, done = warmed_store
    engine = make_engine(settings.resolved_database_url)
    with Session(engine) as session:
        # one reach per rep a rep user stands for (other tests of the run may add rep users to
        # the store this one copies)
        rep_reaches = session.scalar(
            select(func.count(func.distinct(User.rep_key))).where(
                User.role == "rep", User.disabled.is_(False)
            )
        )
        kinds = dict(
            session.execute(
                select(PageCacheEntry.kind, func.count()).group_by(PageCacheEntry.kind)
            ).all()
        )
    assert done == [
        "kpis:all",
        "kpis:rep",
        "kpis:team",
        "kpis:segment",
        f"kpi_accounts:{PERIOD}",
        "portfolio",
        "renewals",
        f"review:{PERIOD}",
        "manager reviews",
        "lists",
        "agendas",
        "1on1",
        "departures",
        "cadence",
        "data",
    ]
    # five quarters × four cuts in both languages, every KPI's drill-down rows, the admin's, the
    # manager's and each rep user's portfolio, first page of renewals and rep and team choices,
    # the admin's and the manager's account list (one total each, the API's, the page's and the
    # name order each), their reviews with the shared pieces (KPI rows, churn, meetings; no
    # snapshot starts the quarter, so no evidence), the agendas' three pieces, the departures'
    # three, the plans' cadence due days and the Data page's row counts; and the 1on1 agendas of
    # every rep for the admin, of the manager's reps and of each rep user (checked below: read,
    # not computed again)
    agendas = kinds.pop("agenda")
    assert agendas >= 3
    assert kinds == {
        "kpis": 40,
        "kpi_accounts": len(REGISTRY),
        "portfolio": 2 + rep_reaches,
        "renewals": 2 + rep_reaches,
        "filter-choices": 2 + rep_reaches,
        "list-total": 2,
        "list-order": 6,
        "review": 2,
        "review_pieces": 3,
        "agenda_pieces": 3,
        "departure_pieces": 3,
        "cadence": 1,
        "store-counts": 1,
    }
    admin = _client(settings, "admin")
    paths = ("/kpis", "/kpis?by=rep", "/kpis?by=segment", "/review", "/api/v1/kpis?by=team")
    paths += ("/data", "/plans", "/api/v1/plans", "/api/v1/plans?page=2")
    for path in (*paths, "/api/v1/portfolio", "/renewals", "/api/v1/renewals"):
        assert admin.get(path).status_code == 200
    assert admin.get("/api/v1/accounts").status_code == 200
    manager, rep = _client(settings, "manager"), _client(settings, "rep")
    assert manager.get(f"/review?period={PERIOD}").status_code == 200
    assert manager.get("/portfolio").status_code == 200
    assert manager.get("/renewals").status_code == 200
    for path in ("/portfolio", "/renewals", "/api/v1/portfolio"):
        assert rep.get(path).status_code == 200
    own = _rep(settings)
    assert rep.get(f"/one-on-one/{own}").status_code == 200
    assert manager.get(f"/one-on-one/{own}").status_code == 200  # the rep is in their reach
    assert admin.get(f"/one-on-one/{own}").status_code == 200
    # the KPI trend in the other language (last: ?lang= stays the session's language)
    other = "en" if settings.language == "ja" else "ja"
    for path in (f"/kpis?lang={other}", f"/kpis?by=rep&lang={other}"):
        assert admin.get(path).status_code == 200
    with Session(engine) as session:  # every one of them was read, none computed again
        count = session.scalar(select(func.count()).select_from(PageCacheEntry))
        assert count == 61 + 3 * (2 + rep_reaches) + len(REGISTRY) + agendas
    engine.dispose()


def _warmed(settings: Settings) -> list[str]:
    """Empty the cache, then warm it as a scoring run does; what the warm step did."""
    engine = make_engine(settings.resolved_database_url)
    with Session(engine) as session:
        clear_entries(session)
        done = warm_pages(session, settings)
    engine.dispose()
    return done


@pytest.fixture(scope="module")
def warmed_template(
    demo_stores: dict[str, Settings], tmp_path_factory: pytest.TempPathFactory
) -> tuple[Settings, list[str]]:
    """A copy of the SQLite demo store, warmed (once for the module: warming takes seconds),
    and what the warm step did."""
    path = tmp_path_factory.mktemp("warmed") / "warmed.db"
    settings = sqlite_copy(demo_stores.get("sqlite"), path)
    return settings, _warmed(settings)


@pytest.fixture
def warmed_store(
    warmed_template: tuple[Settings, list[str]], tmp_path: Path
) -> tuple[Settings, list[str]]:
    """A private copy of the warmed store (a test's requests may add entries) and what the
    warm step did."""
    template, done = warmed_template
    return sqlite_copy(template, tmp_path / "warmed.db"), done


def _refuse(*_args: object, **_kwargs: object) -> None:
    raise AssertionError("computed again after warming")


def _client(settings: Settings, user: str) -> TestClient:
    client = TestClient(create_app(settings))
    client.__enter__()
    return login(client, user)


def test_a_warmed_store_builds_each_callers_pages_without_computing_again(
    warmed_store: tuple[Settings, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """After warming, a manager's review and departure and a rep's or manager's 1on1 are built
    from the kept pieces: nothing company-wide (KPIs, key-person risk, history) is computed."""
    settings, _done = warmed_store
    rep = _rep(settings)
    for name in ("review_pieces", "agenda_pieces", "review_evidence", "kpi_backend"):
        monkeypatch.setattr(f"tillage.services.page_pieces.{name}", _refuse)
    monkeypatch.setattr("tillage.services.reviews.kpi_backend", _refuse)
    monkeypatch.setattr("tillage.services.kpis.compute_kpis", _refuse)
    monkeypatch.setattr("tillage.services.departure.departure_pieces", _refuse)
    manager, rep_client = _client(settings, "manager"), _client(settings, "rep")
    for client, path in (
        (manager, f"/review?period={PERIOD}"),
        (manager, f"/api/v1/reviews/{PERIOD}"),
        (manager, f"/one-on-one/{rep}"),
        (manager, f"/departure?rep={rep}"),
        (manager, f"/api/v1/simulate/departure?rep={rep}"),
        (rep_client, f"/one-on-one/{rep}"),
        (rep_client, f"/api/v1/one-on-one/{rep}"),
        (manager, "/kpis?by=rep"),
    ):
        assert client.get(path).status_code == 200, path
    for client in (manager, rep_client):
        client.__exit__(None, None, None)


def _visible_ids(client: TestClient) -> set[int]:
    page = client.get("/api/v1/accounts", params={"limit": 500}).json()
    assert page["total"] == len(page["items"])
    return {item["account_id"] for item in page["items"]}


def test_pages_built_from_warmed_pieces_keep_the_callers_reach(
    warmed_store: tuple[Settings, list[str]],
) -> None:
    """The pieces count every account; a manager's review and departure and a rep's agenda
    built from them show only what the caller may see."""
    settings, _done = warmed_store
    rep = _rep(settings)
    engine = make_engine(settings.resolved_database_url)
    with Session(engine) as session:
        manager_user = find_user(session, "manager")
        reps, teams = reach_names(session, principal_for(manager_user, via="session")) or (
            set(),
            set(),
        )
        reached = reach_ids(session, principal_for(manager_user, via="session")) or set()
    engine.dispose()
    admin, manager, rep_client = (
        _client(settings, "admin"),
        _client(settings, "manager"),
        _client(settings, "rep"),
    )
    review = manager.get(f"/api/v1/reviews/{PERIOD}").json()
    cuts = {(k["cut"], k["cut_value"]) for k in review["kpis"]}
    assert {v for c, v in cuts if c == "team"} <= teams
    assert {v for c, v in cuts if c == "rep"} <= reps
    every = {
        (k["cut"], k["cut_value"]) for k in admin.get(f"/api/v1/reviews/{PERIOD}").json()["kpis"]
    }
    assert {v for c, v in every if c == "team"} - teams  # the admin's pieces hold more teams
    assert all(e["rep_id"] in reached for e in review["execution"] if e["rep_id"] is not None)
    seen = _visible_ids(manager)
    departure = manager.get("/api/v1/simulate/departure", params={"rep": rep}).json()
    everyone = admin.get("/api/v1/simulate/departure", params={"rep": rep}).json()
    mine = {a["account_id"] for a in departure["accounts"]}
    assert mine and mine == {a["account_id"] for a in everyone["accounts"]} & seen
    assert departure["ltv_at_risk"] == pytest.approx(
        sum(a["ltv_at_risk"] for a in everyone["accounts"] if a["account_id"] in seen)
    )
    agenda = rep_client.get(f"/api/v1/one-on-one/{rep}").json()
    shown = {a["account_id"] for a in agenda["top_accounts"] + agenda["at_risk"]}
    shown |= {d["account_id"] for d in agenda["deals"]}
    assert shown and shown <= _visible_ids(rep_client)
    for client in (admin, manager, rep_client):
        client.__exit__(None, None, None)


def test_a_marked_action_computes_the_review_anew(
    own_store: tuple[Settings, Callable[[], TestClient]],
) -> None:
    """A plan mark changes the review's plan execution, so the cached review is not served."""
    settings, admin_client = own_store
    admin = admin_client()
    engine = make_engine(settings.resolved_database_url)
    first = admin.get(f"/api/v1/reviews/{PERIOD}")
    assert first.status_code == 200
    with Session(engine) as session:
        before = store_version(session)
        account, action, month = session.execute(
            select(SnapshotAction.account_id, SnapshotAction.action, SnapshotAction.month)
            .order_by(SnapshotAction.id.desc())
            .limit(1)
        ).one()
    csrf = admin.get("/api/v1/me").json()["csrf_token"]
    marked = admin.post(
        "/api/v1/plans/marks",
        json={"account": account, "month": month.isoformat(), "action": action, "status": "done"},
        headers={"X-CSRF-Token": csrf},
    )
    assert marked.status_code == 200, marked.text
    with Session(engine) as session:
        after = store_version(session)
    engine.dispose()
    assert before is not None and after is not None
    assert after.marks[0] == before.marks[0] + 1 and after.data == before.data
    again = admin.get(f"/api/v1/reviews/{PERIOD}", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 200 and again.headers["etag"] != first.headers["etag"]
