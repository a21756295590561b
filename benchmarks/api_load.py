"""Load test of the API on PostgreSQL: 100,000 accounts, 50 concurrent clients, latency per route.

Run from the repository root (PostgreSQL on ``TILLAGE_TEST_POSTGRES_URL``, default the local
server as user postgres)::

    python benchmarks/api_load.py [--accounts 100000] [--clients 50] [--seconds 60] [--workers 2]
                                  [--think 0] [--rebuild] [--database-url URL]

1. Serves the scored store of ``--database-url`` (a demo scored as ``tillage demo`` scores it,
   with its logins), or builds, or reuses when it already holds that many accounts, the database
   ``tillage_bench_api``: the demo company's teams, reps, accounts and account teams
   (``DemoConfig(n_accounts=…)``; orders are not needed to serve scores) and one snapshot of
   scores drawn from seeded distributions (LTV log-normal with its interval, churn risk Beta,
   zones from LTV) — this measures serving, not scoring.
2. Starts ``tillage serve --workers N`` (uvicorn; default 2 worker processes) on a free port
   with a secret key.
3. Drives it with ``--clients`` concurrent httpx clients for ``--seconds``, back to back (a
   stress test: 50 clients then measure throughput as much as latency) or, with ``--think S``,
   pausing S seconds on average between requests as people reading pages do; each holding a
   read token of the demo admin, manager or rep (in turn, so visibility filters are exercised),
   requesting the account list (pages by offset and by cursor, sometimes filtered or searched),
   an account's detail, and the portfolio.
4. Prints p50 / p95 / p99 latency (ms), requests and errors per route, the load average
   before and after the run (the machine's other work shows there), and the CPU time per request
   spent by the server's processes, by PostgreSQL's and by this driver (read from ``/proc``):
   on a machine the driver shares, back-to-back latency is the sum of the three divided by the
   cores. Target: p95 < 150 ms, no errors.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import random
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
from sqlalchemy import create_engine, func, make_url, select, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from tillage.demo import DemoConfig, generate  # noqa: E402
from tillage.demo.users import create_demo_users  # noqa: E402
from tillage.store.database import make_engine, migrate, session_scope  # noqa: E402
from tillage.store.load import replace_all  # noqa: E402
from tillage.store.schema import Account, AccountScore  # noqa: E402
from tillage.store.snapshots import write_snapshot  # noqa: E402
from tillage.store.users import create_token, find_user  # noqa: E402
from tillage.strategy.zones import assign_zones  # noqa: E402

DATABASE = "tillage_bench_api"
NOW = dt.datetime(2026, 10, 1, 9, 0)
SEARCHES = ("株式会社", "acc-0001", "工業", "ACC-00")


def _admin_url() -> str:
    return os.environ.get(
        "TILLAGE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    )


def _database_url(rebuild: bool) -> str:
    admin_url = make_url(_admin_url())
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        exists = connection.scalar(
            text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": DATABASE}
        )
        if exists and rebuild:
            connection.execute(text(f'DROP DATABASE "{DATABASE}" WITH (FORCE)'))
        if not exists or rebuild:
            connection.execute(text(f'CREATE DATABASE "{DATABASE}"'))
    admin.dispose()
    return admin_url.set(database=DATABASE).render_as_string(hide_password=False)


def _scores(accounts: pd.DataFrame, as_of: dt.date, seed: int = 11) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = len(accounts)
    ltv = rng.lognormal(mean=15.0, sigma=1.2, size=n).round(0)
    width = rng.uniform(0.15, 0.6, size=n)
    since = pd.to_datetime(accounts["customer_since"])
    tenure = ((pd.Timestamp(as_of) - since).dt.days / 30.4375).fillna(0).clip(lower=0)
    return pd.DataFrame(
        {
            "account_id": accounts["id"].to_numpy(),
            "revenue_12m": (ltv * rng.uniform(0.1, 0.5, size=n)).round(0),
            "tenure_months": tenure.to_numpy(),
            "ltv": ltv,
            "ltv_low": (ltv * (1 - width)).round(0),
            "ltv_high": (ltv * (1 + width)).round(0),
            "churn_risk": rng.beta(2.0, 6.0, size=n),
            "zone": assign_zones(pd.Series(ltv)).to_numpy(),
        }
    )


def build(url: str, n_accounts: int) -> None:
    """Load the demo's people and accounts and write one snapshot, unless already there."""
    engine = make_engine(url)
    migrate(engine)
    with session_scope(engine) as session:
        have = session.scalar(select(func.count()).select_from(Account)) or 0
        scored = session.scalar(select(func.count()).select_from(AccountScore)) or 0
    if have == n_accounts and scored >= n_accounts:
        print(f"reusing {DATABASE}: {have:,} accounts, {scored:,} scores")
        engine.dispose()
        return
    start = time.perf_counter()
    config = DemoConfig(n_accounts=n_accounts, orders_per_account=1.0)
    tables = generate(config).tables
    keep = ("teams", "reps", "accounts", "account_team_members")
    replace_all(engine, {name: tables[name] for name in keep})
    write_snapshot(
        engine,
        as_of=config.as_of,
        created_at=NOW,
        scores=_scores(tables["accounts"], config.as_of),
        label="api load benchmark",
    )
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM users"))
    create_demo_users(engine, now=NOW)
    with engine.connect() as connection:
        connection.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE"))
    engine.dispose()
    print(f"built {DATABASE}: {n_accounts:,} accounts in {time.perf_counter() - start:.0f} s")


def tokens(url: str) -> dict[str, str]:
    """A fresh read token for each demo login."""
    engine = make_engine(url)
    found = {}
    with session_scope(engine) as session:
        for login in ("admin", "manager", "rep"):
            _row, secret = create_token(
                session, find_user(session, login), name="load", scopes=["read"], now=NOW
            )
            found[login] = secret
    engine.dispose()
    return found


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve(url: str, port: int, data_dir: Path, workers: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT / "src"),
        "TILLAGE_DATABASE_URL": url,
        "TILLAGE_SECRET_KEY": secrets.token_urlsafe(32),
        "TILLAGE_DATA_DIR": str(data_dir),
    }
    command = [sys.executable, "-c", "from tillage.cli.main import main; main()"]
    process = subprocess.Popen(
        [*command, "serve", "--port", str(port), "--workers", str(workers)],
        env=env,
        stdout=subprocess.DEVNULL,
    )
    for _ in range(200):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return process
        except httpx.TransportError:
            time.sleep(0.1)
    process.terminate()
    raise SystemExit("tillage serve did not start")


async def client_loop(
    base: str,
    token: str,
    until: float,
    seed: int,
    record: dict[str, list[float]],
    errors: dict,
    think: float = 0.0,
) -> None:
    rng = random.Random(seed)
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as client:
        first = (await client.get("/api/v1/accounts", params={"limit": 200})).json()
        ids = [item["account_id"] for item in first["items"]] or [1]
        total, cursor = first["total"], None
        while time.perf_counter() < until:
            if think > 0:  # a person reading the page before the next click
                await asyncio.sleep(rng.expovariate(1.0 / think))
                if time.perf_counter() >= until:
                    break
            pick = rng.random()
            if pick < 0.45:
                route = "GET /api/v1/accounts"
                params: dict[str, object] = {"limit": 50}
                if cursor and rng.random() < 0.5:
                    params["cursor"] = cursor
                else:
                    params["offset"] = rng.randrange(0, max(1, min(total, 10_000)))
                    if rng.random() < 0.3:
                        params["zone"] = rng.choice("ABC")
                    if rng.random() < 0.1:
                        params["q"] = rng.choice(SEARCHES)
                    if rng.random() < 0.2:
                        params["sort"] = rng.choice(["name", "churn_risk", "revenue_12m"])
                path = "/api/v1/accounts"
            elif pick < 0.85:
                route, path, params = (
                    "GET /api/v1/accounts/{id}",
                    f"/api/v1/accounts/{rng.choice(ids)}",
                    {},
                )
            else:
                route, path, params = "GET /api/v1/portfolio", "/api/v1/portfolio", {}
            start = time.perf_counter()
            try:
                response = await client.get(path, params=params)
                ok = response.status_code == 200
                if (
                    ok
                    and route == "GET /api/v1/accounts"
                    and set(params)
                    <= {
                        "limit",
                        "offset",
                        "cursor",
                    }
                ):
                    cursor = response.json()["next_cursor"]
            except httpx.HTTPError:
                ok = False
            record.setdefault(route, []).append((time.perf_counter() - start) * 1000)
            if not ok:
                errors[route] = errors.get(route, 0) + 1


def _cpu_seconds(pids: set[int]) -> float:
    """User and system CPU seconds of the living processes ``pids`` (Linux ``/proc``)."""
    ticks = os.sysconf("SC_CLK_TCK")
    spent = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone since it was listed
        spent += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
    return spent / ticks


def _processes(server: int) -> dict[str, set[int]]:
    """The server's process tree and PostgreSQL's processes on this machine, by pid."""
    parents: dict[int, int] = {}
    names: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        head, _, rest = stat.rpartition(")")
        names[int(entry.name)] = head.split("(", 1)[1]
        parents[int(entry.name)] = int(rest.split()[1])
    tree = {server}
    grew = True
    while grew:
        children = {pid for pid, parent in parents.items() if parent in tree} - tree
        tree |= children
        grew = bool(children)
    return {"server": tree, "postgres": {p for p, n in names.items() if n.startswith("postgres")}}


async def drive(
    base: str,
    secrets_by_role: dict[str, str],
    clients: int,
    seconds: float,
    think: float = 0.0,
    server: int | None = None,
) -> None:
    record: dict[str, list[float]] = {}
    errors: dict[str, int] = {}
    roles = list(secrets_by_role)
    until = time.perf_counter() + seconds
    started = time.perf_counter()
    pids = _processes(server) if server is not None else {}
    cpu_before = {name: _cpu_seconds(found) for name, found in pids.items()}
    driver_before = time.process_time()
    await asyncio.gather(
        *(
            client_loop(
                base, secrets_by_role[roles[i % len(roles)]], until, i, record, errors, think
            )
            for i in range(clients)
        )
    )
    elapsed = time.perf_counter() - started
    pids = _processes(server) if server is not None else {}  # PostgreSQL's may have grown
    cpu_spent = {
        name: _cpu_seconds(found) - cpu_before.get(name, 0.0) for name, found in pids.items()
    }
    cpu_spent["driver"] = time.process_time() - driver_before
    pace = f", think time {think:g} s on average" if think > 0 else ", no think time"
    print(f"\n{clients} clients{pace}, {elapsed:.0f} s, roles {', '.join(roles)} in turn")
    print(f"{'route':<28}{'requests':>10}{'errors':>8}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}")
    for route in sorted(record):
        ms = np.array(record[route])
        p50, p95, p99 = np.percentile(ms, [50, 95, 99])
        print(
            f"{route:<28}{len(ms):>10,}{errors.get(route, 0):>8}{p50:>9.1f}{p95:>9.1f}{p99:>9.1f}"
        )
    every = np.concatenate([np.array(v) for v in record.values()])
    print(
        f"{'all':<28}{len(every):>10,}{sum(errors.values()):>8}"
        + "".join(f"{v:>9.1f}" for v in np.percentile(every, [50, 95, 99]))
        + f"   ({len(every) / elapsed:.0f} requests/s)"
    )
    print(
        "CPU ms per request: "
        + ", ".join(f"{name} {1000 * spent / len(every):.1f}" for name, spent in cpu_spent.items())
        + f" (of {elapsed * (os.cpu_count() or 1) * 1000 / len(every):.1f} ms of the machine's)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--workers", type=int, default=2, help="server worker processes")
    parser.add_argument("--rebuild", action="store_true", help="drop and rebuild the database")
    parser.add_argument(
        "--think",
        type=float,
        default=0.0,
        help="mean seconds a client waits between requests (exponential; 0: back to back)",
    )
    parser.add_argument(
        "--database-url",
        help="serve this scored store instead (e.g. the 100,000-account demo scored on "
        "PostgreSQL; it needs the demo logins admin, manager and rep)",
    )
    args = parser.parse_args()
    url = args.database_url
    if url is None:
        url = _database_url(args.rebuild)
        build(url, args.accounts)
    port = _free_port()
    with tempfile.TemporaryDirectory() as data_dir:
        server = serve(url, port, Path(data_dir), args.workers)
        print(f"{args.workers} worker(s); {_load()} before the run")
        try:
            base = f"http://127.0.0.1:{port}"
            asyncio.run(
                drive(base, tokens(url), args.clients, args.seconds, args.think, server.pid)
            )
        finally:
            server.terminate()
            server.wait(timeout=30)
    print(f"{_load()} after the run")


def _load() -> str:
    one, five, _fifteen = os.getloadavg()
    return f"load average {one:.1f} (1 min), {five:.1f} (5 min) on {os.cpu_count()} cores"


if __name__ == "__main__":
    main()
