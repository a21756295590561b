"""Server time of every dashboard page and API route, first request and repeated, on a store.

Run from the repository root on a scored store (``tillage demo --no-serve`` builds one)::

    python benchmarks/pages.py --database-url sqlite:////path/to/demo/tillage.db
    python benchmarks/pages.py --database-url postgresql+psycopg://postgres@127.0.0.1/db

The app (:func:`tillage.server.create_app`) is served in this process (Starlette's test
client: no network, no second process), so a figure is the server's own time for the request,
the rendering included. Each route is asked three times as the demo's admin (and the pages that
depend on the caller's reach also as the manager), each holding a fresh read token:

- ``first``: the first request after the cache was emptied (``page_cache`` rows deleted) —
  what the first user after a scoring run or an import waits;
- ``again``: the same request again (served from the per-snapshot page cache where the route
  has one);
- ``304``: the request with ``If-None-Match`` set to the ETag of the answer (routes without an
  ETag show ``-``).

The load average is printed beside the table: other work on the machine slows every figure.
"""

from __future__ import annotations

import argparse
import datetime as dt
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

NOW = dt.datetime(2026, 10, 1, 9, 0)


def _load() -> str:
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


def _tokens(engine) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """A fresh read token for the demo's admin, manager and rep."""
    found = {}
    with session_scope(engine) as session:
        for login in ("admin", "manager", "rep"):
            _row, secret = create_token(
                session, find_user(session, login), name="pages", scopes=["read"], now=NOW
            )
            found[login] = secret
    return found


def _targets(engine) -> tuple[str, int, str, str]:  # type: ignore[no-untyped-def]
    """The demo rep's key (1on1, departure), the top account's id, a search word and the
    quarter of the newest snapshot (the review's default, calendar quarters)."""
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
    period = f"{as_of.year}-Q{(as_of.month - 1) // 3 + 1}"
    return str(rep_key), int(top), name[1:3], period


def routes(rep: str, account: int, word: str, period: str) -> list[tuple[str, str]]:
    """(login, path) of every page and API route measured."""
    pages = [
        "/portfolio",
        "/accounts",
        f"/accounts?search={word}",
        f"/accounts/{account}",
        "/plans",
        "/kpis",
        "/kpis?by=rep",
        "/kpis?by=team",
        "/kpis?by=segment",
        "/review",
        f"/one-on-one/{rep}",
        f"/departure?rep={rep}",
        "/renewals",
        "/deals",
        "/data",
    ]
    api = [
        "/api/v1/accounts",
        "/api/v1/accounts?limit=50",
        f"/api/v1/accounts?search={word}",
        f"/api/v1/accounts/{account}",
        "/api/v1/portfolio",
        "/api/v1/plans",
        "/api/v1/kpis",
        "/api/v1/kpis?by=rep",
        f"/api/v1/reviews/{period}",
        f"/api/v1/one-on-one/{rep}",
        f"/api/v1/simulate/departure?rep={rep}",
        "/api/v1/renewals",
        "/api/v1/deals",
    ]
    reached = ["/kpis", "/kpis?by=rep", "/review", "/accounts", f"/one-on-one/{rep}"]
    return (
        [("admin", p) for p in pages + api]
        + [("manager", p) for p in reached]
        + [("rep", p) for p in ("/kpis", f"/one-on-one/{rep}", "/accounts")]
    )


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument(
        "--only", help="measure only the routes containing this text (e.g. accounts)"
    )
    args = parser.parse_args()
    engine = make_engine(args.database_url)
    tokens = _tokens(engine)
    rep, account, word, period = _targets(engine)
    _clear_cache(engine)
    engine.dispose()
    settings = Settings(
        database_url=args.database_url,
        secret_key=secrets.token_urlsafe(32),
        data_dir=Path(os.environ.get("TMPDIR", "/tmp")),
    )
    with TestClient(create_app(settings)) as client:
        client.get("/healthz")
        accounts = client.get(
            "/api/v1/accounts?limit=50", headers={"Authorization": f"Bearer {tokens['admin']}"}
        ).json()
        cursor = accounts.get("next_cursor")
        measured = routes(rep, account, word, period)
        if cursor:
            measured.insert(1, ("admin", f"/api/v1/accounts?limit=50&cursor={cursor}"))
            measured.insert(2, ("manager", "/api/v1/accounts?limit=50"))
        if args.only:
            measured = [(login, path) for login, path in measured if args.only in path]
        print(f"store: {args.database_url.split('@')[-1]}  load before: {_load()}")
        head = f"{'first ms':>9} {'again ms':>9} {'304 ms':>7}"
        print(f"{'login':8} {'route':58} {'status':>6} {head}")
        worst = 0.0
        for login, path in measured:
            headers = {"Authorization": f"Bearer {tokens[login]}", "Accept-Language": "ja"}
            first, status, _etag = _timed(client, path, headers)
            again, _status, etag = _timed(client, path, headers)
            revalidated = "-"
            if etag:
                ms, code, _ = _timed(client, path, {**headers, "If-None-Match": etag})
                revalidated = f"{ms:7.0f}" if code == 304 else f"{code}!"
            worst = max(worst, again)
            times = f"{first:9.0f} {again:9.0f} {revalidated:>7}"
            print(f"{login:8} {path[:58]:58} {status:>6} {times}")
        print(f"slowest repeated request: {worst:.0f} ms  load after: {_load()}")


if __name__ == "__main__":
    main()
