"""Server time of every dashboard page and API route, first request and repeated, on a store.

Run from the repository root on a scored store (``tillage demo --no-serve`` builds one; at
100,000 accounts: ``tillage demo --accounts 100000 --no-serve --database-url …``)::

    python benchmarks/pages.py --database-url sqlite:////path/to/demo/tillage.db
    python benchmarks/pages.py --database-url postgresql+psycopg://postgres@127.0.0.1/db [--warm]

The app (:func:`tillage.server.create_app`) is served in this process (Starlette's test
client: no network, no second process), so a figure is the server's own time for the request,
the rendering included. Every GET route of the app is asked (the few left out are listed in
:data:`NOT_MEASURED` with the reason, and a route in neither list is named at the end) as the
demo's admin; the pages and routes that depend on the caller's reach also as the manager and
the rep; each holding a fresh read token. Before measuring, the process serves a few pages and
compiles every template (a running server has imported and compiled its templates: the plans
page's alone takes a third of a second), then the cache is emptied:

- ``first``: the first request after the cache was emptied (``page_cache`` rows deleted) —
  what the first user after a scoring run or an import waits; with ``--warm``, after the
  views a scoring run warms (``tillage score --warm-pages``) were computed again;
- ``again``: the same request again (served from the per-snapshot page cache where the route
  has one);
- ``304``: the request with ``If-None-Match`` set to the ETag of the answer (routes without an
  ETag show ``-``).

Every figure over :data:`LIMIT_MS` is named at the end. The load average is printed beside the
table: other work on the machine slows every figure.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import os
import secrets
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, os.environ.get("TILLAGE_SRC", str(ROOT / "src")))  # TILLAGE_SRC: another tree

from fastapi.testclient import TestClient  # noqa: E402
from sqlalchemy import delete, func, inspect, select  # noqa: E402

from tillage.config import Settings  # noqa: E402
from tillage.server import create_app  # noqa: E402
from tillage.store.database import make_engine, session_scope  # noqa: E402
from tillage.store.schema import Account, AccountScore, Snapshot  # noqa: E402
from tillage.store.users import create_token, find_user  # noqa: E402
from tillage.web.render import environment  # noqa: E402

NOW = dt.datetime(2026, 10, 1, 9, 0)
LIMIT_MS = 300
"""The server time every page and API route must stay under (issues 20 and 21)."""


def _load() -> str:
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


def _tokens(engine) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """A fresh read token for the demo's admin, manager and rep."""
    found = {}
    with session_scope(engine) as session:
        for login in ("admin", "manager", "rep"):
            scopes = ["read", "admin"] if login == "admin" else ["read"]  # users, audit, settings
            _row, secret = create_token(
                session, find_user(session, login), name="pages", scopes=scopes, now=NOW
            )
            found[login] = secret
    return found


def _targets(engine) -> tuple[str, int, str, str, str]:  # type: ignore[no-untyped-def]
    """The demo rep's key (1on1, departure), the top account's id, a search word and the
    quarter of the newest snapshot (the review's default, calendar quarters) and the diff of
    the oldest and newest snapshots."""
    with session_scope(engine) as session:
        rep_key = find_user(session, "rep").rep_key
        snapshot = session.scalar(select(func.max(Snapshot.id)))
        top = session.scalar(
            select(AccountScore.account_id)
            .where(AccountScore.snapshot_id == snapshot)
            .order_by(AccountScore.ltv.desc())
            .limit(1)
        )
        name = session.scalar(select(Account.name).where(Account.id == top)) or "ab"
        as_of = session.scalar(select(Snapshot.as_of).where(Snapshot.id == snapshot))
        oldest = session.scalar(select(func.min(Snapshot.id)))
    period = f"{as_of.year}-Q{(as_of.month - 1) // 3 + 1}"
    return str(rep_key), int(top), name[1:3], period, f"from={oldest}&to={snapshot}"


def routes(
    rep: str, account: int, word: str, period: str, diff: str = "from=1&to=1"
) -> list[tuple[str, str]]:
    """(login, path) of every page and API route measured (:func:`every_get_route` checks that
    no GET route of the app is left out)."""
    pages = [
        "/portfolio",
        "/accounts",
        f"/accounts?search={word}",
        "/accounts?sort=name",
        f"/accounts/{account}",
        "/plans",
        "/plans?page=2",
        "/kpis",
        "/kpis?by=rep",
        "/kpis?by=team",
        "/kpis?by=segment",
        "/kpis/nrr/accounts",
        "/review",
        "/one-on-one",
        f"/one-on-one/{rep}",
        "/departure",
        f"/departure?rep={rep}",
        "/renewals",
        "/renewals?page=2",
        "/deals",
        "/data",
        "/settings",
        "/settings/users",
    ]
    api = [
        "/api/v1/accounts",
        "/api/v1/accounts?limit=50",
        "/api/v1/accounts?limit=50&offset=5000",
        "/api/v1/accounts?limit=50&sort=name",
        "/api/v1/accounts?limit=50&zone=B&sort=churn_risk",
        f"/api/v1/accounts?search={word}",
        f"/api/v1/accounts/{account}",
        f"/api/v1/accounts/{account}/overview",
        f"/api/v1/accounts/{account}/notes",
        "/api/v1/portfolio",
        "/api/v1/plans",
        "/api/v1/kpis",
        "/api/v1/kpis?by=rep",
        "/api/v1/kpis/nrr/accounts",
        f"/api/v1/reviews/{period}",
        f"/api/v1/one-on-one/{rep}",
        f"/api/v1/simulate/departure?rep={rep}",
        "/api/v1/renewals",
        "/api/v1/deals",
        f"/api/v1/diffs?{diff}",
        "/api/v1/snapshots",
        "/api/v1/freshness",
        "/api/v1/strategy",
        "/api/v1/strategy/versions",
        "/api/v1/overrides",
        "/api/v1/imports",
        "/api/v1/jobs",
        "/api/v1/users",
        "/api/v1/audit",
        "/api/v1/auth/tokens",
        "/api/v1/me",
    ]
    reached = [
        "/portfolio",
        "/accounts",
        "/accounts?sort=name",
        f"/accounts/{account}",
        "/renewals",
        "/deals",
        "/plans",
        "/kpis",
        "/kpis?by=rep",
        "/kpis/nrr/accounts",
        "/review",
        f"/one-on-one/{rep}",
        f"/departure?rep={rep}",
        "/api/v1/accounts?limit=50",
        "/api/v1/accounts?limit=50&offset=5000",
        "/api/v1/accounts?limit=50&sort=name",
        "/api/v1/accounts?limit=50&zone=B&sort=churn_risk",
        f"/api/v1/accounts?search={word}",
        "/api/v1/portfolio",
        "/api/v1/renewals",
        "/api/v1/deals",
        "/api/v1/plans",
    ]
    mine = [
        "/portfolio",
        "/accounts",
        "/renewals",
        "/deals",
        "/plans",
        "/kpis",
        f"/one-on-one/{rep}",
        "/api/v1/accounts?limit=50",
        "/api/v1/accounts?limit=50&offset=1000",
        "/api/v1/portfolio",
        "/api/v1/plans",
    ]
    return (
        [("admin", p) for p in pages + api]
        + [("manager", p) for p in reached]
        + [("rep", p) for p in mine]
    )


NOT_MEASURED = {
    "/": "redirects to /portfolio",
    "/login": "public form",
    "/healthz": "public",
    "/openapi.json": "public schema",
    "/api/docs": "public, static",
    "/static/{name}": "static file",
    "/static/swagger-ui/{name}": "static file",
    "/api/v1/accounts.csv": "export: streams every account (measured with --exports)",
    "/plans/tasks.csv": "export (measured with --exports)",
    "/api/v1/jobs/{job_id}": "one background job (none in a fresh store)",
    "/api/v1/snapshots/{snapshot_id}": "one snapshot's record (as /api/v1/snapshots)",
    "/api/v1/strategy/versions/{version_id}": "one saved strategy (as /api/v1/strategy)",
}
"""GET routes left out of the table, and why."""


def every_get_route(app) -> list[str]:  # type: ignore[no-untyped-def]
    """The app's GET route templates that neither :func:`routes` nor :data:`NOT_MEASURED`
    covers (the benchmark says so rather than silently skip a new route)."""
    from fastapi.routing import iter_route_contexts

    templates = {c.path for c in iter_route_contexts(app.routes) if "GET" in (c.methods or ())}
    measured = {path.split("?")[0] for _login, path in routes("R", 1, "w", "P")}
    fill = {"{account_id}": "1", "{rep}": "R", "{period}": "P", "{kpi}": "nrr"}

    def concrete(template: str) -> str:
        for name, value in fill.items():
            template = template.replace(name, value)
        return template

    return sorted(t for t in templates if t not in NOT_MEASURED and concrete(t) not in measured)


def _clear_cache(engine) -> None:  # type: ignore[no-untyped-def]
    if "page_cache" in inspect(engine).get_table_names():
        from tillage.store.page_cache import PageCacheEntry

        with session_scope(engine) as session:
            session.execute(delete(PageCacheEntry))


def _timed(client: TestClient, path: str, headers: dict[str, str]) -> tuple[float, int, str]:
    start = time.perf_counter()
    response = client.get(path, headers=headers)
    return (
        (time.perf_counter() - start) * 1000,
        response.status_code,
        response.headers.get("etag", ""),
    )


def _warm(database_url: str, settings: Settings) -> str:
    """Run what ``tillage score --warm-pages`` runs after a scoring run; its time."""
    from tillage.services.warm import warm_pages

    engine = make_engine(database_url)
    start = time.perf_counter()

    def step(name: str) -> None:  # on stderr, so that the slow step of a long warm shows
        print(f"{time.perf_counter() - start:8.1f} s  warm {name}  load {_load()}", file=sys.stderr)

    with session_scope(engine) as session:
        done = warm_pages(session, settings, progress=step)
    engine.dispose()
    return f"warmed {len(done)} views in {time.perf_counter() - start:.1f} s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument(
        "--only",
        help="measure only the routes containing this text (e.g. accounts; several: "
        "plans,renewals)",
    )
    parser.add_argument(
        "--warm",
        action="store_true",
        help="after emptying the cache, warm it as a scoring run does (tillage score "
        "--warm-pages): 'first' is then what the first user after a scoring run waits",
    )
    parser.add_argument(
        "--exports", action="store_true", help="also time the CSV exports (every account)"
    )
    args = parser.parse_args()
    engine = make_engine(args.database_url)
    tokens = _tokens(engine)
    rep, account, word, period, diff = _targets(engine)
    settings = Settings(
        database_url=args.database_url,
        secret_key=secrets.token_urlsafe(32),
        data_dir=Path(os.environ.get("TMPDIR", "/tmp")),
    )
    app = create_app(settings)
    with TestClient(app, raise_server_exceptions=False) as client:
        # a server process that has served pages before (imports done, templates compiled):
        # 'first' is the first request after a change of the store, not of the process
        for path in ("/portfolio", "/accounts", f"/accounts/{account}", "/api/v1/accounts"):
            client.get(path, headers={"Authorization": f"Bearer {tokens['admin']}"})
        for lang in ("ja", "en"):  # every template compiled, as a server that served them
            env = environment(lang)
            for name in env.list_templates(extensions=["html"]):
                env.get_template(name)
        _clear_cache(engine)
        engine.dispose()
        warmed = _warm(args.database_url, settings) if args.warm else "cache empty"
        # the warm step runs in the scoring process, not in a server: what it leaves in this
        # one is set aside as a server sets aside what it holds from its start (create_app's
        # freeze_heap), so that the collector's full passes do not scan it between requests
        gc.collect()
        gc.freeze()
        accounts = client.get(
            "/api/v1/accounts?limit=50", headers={"Authorization": f"Bearer {tokens['admin']}"}
        ).json()
        cursor = accounts.get("next_cursor")
        measured = routes(rep, account, word, period, diff)
        if cursor:
            measured.insert(1, ("admin", f"/api/v1/accounts?limit=50&cursor={cursor}"))
        if args.exports:
            measured += [("admin", "/api/v1/accounts.csv"), ("admin", "/plans/tasks.csv")]
        if args.only:
            texts = args.only.split(",")
            measured = [(login, path) for login, path in measured if any(t in path for t in texts)]
        print(f"store: {args.database_url.split('@')[-1]}  {warmed}  load before: {_load()}")
        head = f"{'first ms':>9} {'again ms':>9} {'304 ms':>7}"
        print(f"{'login':8} {'route':58} {'status':>6} {head}")
        worst = {"first": (0.0, ""), "again": (0.0, "")}
        over = []
        for login, path in measured:
            headers = {"Authorization": f"Bearer {tokens[login]}", "Accept-Language": "ja"}
            first, status, _etag = _timed(client, path, headers)
            again, _status, etag = _timed(client, path, headers)
            revalidated = "-"
            if etag:
                ms, code, _ = _timed(client, path, {**headers, "If-None-Match": etag})
                revalidated = f"{ms:7.0f}" if code == 304 else f"{code}!"
            if ".csv" not in path:
                worst["first"] = max(worst["first"], (first, f"{login} {path}"))
                worst["again"] = max(worst["again"], (again, f"{login} {path}"))
                if max(first, again) > LIMIT_MS:
                    over.append(f"{login} {path}")
            times = f"{first:9.0f} {again:9.0f} {revalidated:>7}"
            print(f"{login:8} {path[:58]:58} {status:>6} {times}", flush=True)
        for name, (ms, what) in worst.items():
            print(f"slowest {name} request: {ms:.0f} ms ({what})")
        print(f"over {LIMIT_MS} ms: {', '.join(over) or 'none'}  load after: {_load()}")
        left = every_get_route(app)
        if left:
            print(f"GET routes not measured: {', '.join(left)}")


if __name__ == "__main__":
    main()
