"""Who may call what: one table, one case per route × role, so a failure names both.

Roles are the demo users: ``admin``; ``manager`` of team 1; ``rep`` in team 1; ``rep2`` in another
team; ``success`` (customer success: a CSM on account teams in a third team, who sees those
accounts only); ``marketing`` and ``finance`` (every account; no per-rep coaching data; finance
read-only); and ``anon`` (no credentials). Pages send anonymous visitors to /login (303) instead
of 401.
Every route of the app must appear here or in ``PUBLIC``, and every route outside ``PUBLIC``
must carry the authorization dependency, so a new route cannot ship without access control.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from tillage.config import Settings
from tillage.labels import unique_labels
from tillage.server import create_app
from tillage.services.jobs import queue_job
from tillage.services.notes import add_note
from tillage.services.overrides import set_override
from tillage.serving.auth import (
    SESSION_COOKIE,
    authorize,
    authorize_admin,
    authorize_own_session,
)
from tillage.store.access import OPERATOR
from tillage.store.database import make_engine, session_scope
from tillage.store.schema import Account, AccountTeamMember, Rep, SnapshotAction, User
from tillage.store.snapshots import latest_snapshot
from tillage.store.strategies import save_strategy
from tillage.store.users import create_token, find_user, principal_for

from .conftest import app_for, login

ROLES = ("admin", "manager", "rep", "rep2", "success", "marketing", "finance", "anon")
NOW = dt.datetime(2026, 10, 1, 9, 0)
UNTIL = (dt.datetime.now(dt.UTC).date() + dt.timedelta(days=30)).isoformat()  # an override's expiry

PUBLIC = {
    ("GET", "/"),
    ("GET", "/login"),
    ("POST", "/login"),
    ("POST", "/api/v1/auth/token"),
    ("GET", "/healthz"),
    ("GET", "/static/{name}"),
    ("GET", "/openapi.json"),
    ("GET", "/api/docs"),
    ("GET", "/static/swagger-ui/{name}"),
}


@dataclass(frozen=True)
class Case:
    """A request and the status each role gets: admin, manager, rep, rep2, success,
    marketing, finance, anon."""

    method: str
    route: str
    expect: tuple[int, int, int, int, int, int, int, int]
    path: str = ""
    body: dict | None = None
    files: dict[str, tuple[str, bytes]] | None = None
    form: bool = False  # send ``body`` as an HTML form, as the dashboard's pages do

    def url(self, ids: dict[str, int | str]) -> str:
        return (self.path or self.route).format(**ids)


A, P = 401, 303  # anonymous: the API answers 401, pages redirect to /login
MATRIX = [
    Case("GET", "/api/v1/me", (200, 200, 200, 200, 200, 200, 200, A)),
    Case("GET", "/api/v1/auth/tokens", (200, 200, 200, 200, 200, 200, 200, A)),
    Case(
        "DELETE",
        "/api/v1/auth/tokens/{token_id}",
        (200, 404, 200, 404, 404, 404, 403, A),
        path="/api/v1/auth/tokens/{rep_token}",
    ),
    Case("GET", "/api/v1/accounts", (200, 200, 200, 200, 200, 200, 200, A)),
    Case("GET", "/api/v1/portfolio", (200, 200, 200, 200, 200, 200, 200, A)),
    Case(
        "GET",
        "/api/v1/accounts/{account_id}",
        (200, 200, 200, 404, 404, 200, 200, A),
        path="/api/v1/accounts/{rep_account}",
    ),
    Case(
        "GET",
        "/api/v1/accounts/{account_id}",
        (200, 404, 404, 200, 404, 200, 200, A),
        path="/api/v1/accounts/{rep2_account}",
    ),
    Case("GET", "/api/v1/accounts.csv", (200, 200, 200, 200, 200, 200, 200, A)),
    Case("GET", "/api/v1/snapshots", (200, 200, 200, 200, 200, 200, 200, A)),
    Case(
        "GET",
        "/api/v1/snapshots/{snapshot_id}",
        (200, 200, 200, 200, 200, 200, 200, A),
        path="/api/v1/snapshots/{snapshot}",
    ),
    Case("GET", "/api/v1/kpis", (200, 200, 200, 200, 403, 403, 403, A), path="/api/v1/kpis?by=rep"),
    Case("GET", "/api/v1/strategy", (200, 200, 200, 200, 200, 200, 200, A)),
    Case(
        "POST",
        "/api/v1/strategy/validate",
        (200, 200, 200, 200, 200, 200, 403, A),
        body={"text": "discount_rate = 0.2"},
    ),
    Case(
        "PUT",
        "/api/v1/strategy",
        (200, 403, 403, 403, 403, 403, 403, A),
        body={"text": "discount_rate = 0.1", "comment": "matrix {n}"},
    ),
    Case("GET", "/api/v1/strategy/versions", (200, 200, 200, 200, 200, 200, 200, A)),
    Case(
        "GET",
        "/api/v1/strategy/versions/{version_id}",
        (200, 200, 200, 200, 200, 200, 200, A),
        path="/api/v1/strategy/versions/{strategy_version}",
    ),
    Case("GET", "/api/v1/imports", (200, 403, 403, 403, 403, 403, 403, A)),
    Case(
        "POST",
        "/api/v1/imports",
        (201, 403, 403, 403, 403, 403, 403, A),
        body={"table": "teams", "dry_run": "true"},
        files={"file": ("teams.csv", b"key,name\nTEAM-MATRIX,Matrix\n")},
    ),
    Case("GET", "/api/v1/jobs", (200, 403, 403, 403, 403, 403, 403, A)),
    Case(
        "GET",
        "/api/v1/jobs/{job_id}",
        (200, 403, 403, 403, 403, 403, 403, A),
        path="/api/v1/jobs/{job}",
    ),
    # a job is queued (the ids fixture): an admin's second one is refused as busy
    Case("POST", "/api/v1/jobs", (409, 403, 403, 403, 403, 403, 403, A), body={"kind": "rescore"}),
    Case("GET", "/api/v1/freshness", (200, 200, 200, 200, 200, 200, 200, A)),
    Case(
        "POST",
        "/api/v1/plans/marks",
        (200, 200, 200, 404, 403, 403, 403, A),  # a rep marks their own accounts' actions only
        body={
            "account": "{rep_planned}",
            "month": "{plan_month}",
            "action": "{rep_planned_action}",
            "status": "done",
        },
    ),
    Case(
        "POST",
        "/api/v1/plans/marks",
        (200, 404, 404, 200, 403, 403, 403, A),
        body={
            "account": "{rep2_planned}",
            "month": "{plan_month}",
            "action": "{rep2_planned_action}",
            "status": "skipped",
            "note": "matrix {n}",
        },
    ),
    Case("GET", "/api/v1/users", (200, 403, 403, 403, 403, 403, 403, A)),
    Case(
        "POST",
        "/api/v1/users",
        (201, 403, 403, 403, 403, 403, 403, A),
        body={"login": "new-{n}", "role": "rep", "rep_key": "REP-0010", "password": "pw-12345678"},
    ),
    Case(
        "PATCH",
        "/api/v1/users/{user_id}",
        (200, 403, 403, 403, 403, 403, 403, A),
        path="/api/v1/users/{rep2_user}",
        body={"display_name": "Rep Two"},
    ),
    Case("GET", "/api/v1/deals", (200, 200, 200, 200, 200, 200, 200, A)),
    Case("GET", "/api/v1/plans", (200, 200, 200, 200, 403, 403, 403, A)),
    Case(
        "GET",
        "/api/v1/plans",
        (200, 404, 404, 200, 403, 403, 403, A),
        path="/api/v1/plans?rep={rep2_key}",
    ),
    Case(
        "GET",
        "/api/v1/plans",
        (200, 200, 200, 404, 403, 403, 403, A),
        path="/api/v1/plans?rep={rep_key}",
    ),
    Case(
        "GET",
        "/api/v1/diffs",
        (200, 200, 200, 200, 200, 200, 200, A),
        path="/api/v1/diffs?from={snapshot}&to={snapshot}",
    ),
    Case(
        "GET",
        "/api/v1/reviews/{period}",
        (200, 200, 403, 403, 403, 403, 403, A),
        path="/api/v1/reviews/2026-Q3",
    ),
    Case(
        "POST",
        "/api/v1/reviews/{period}/accept",
        (422, 403, 403, 403, 403, 403, 403, A),
        path="/api/v1/reviews/2026-Q3/accept",
        body={"keys": ["no-such-change"]},
    ),
    Case(
        "GET",
        "/api/v1/one-on-one/{rep}",
        (200, 200, 200, 404, 403, 403, 403, A),
        path="/api/v1/one-on-one/{rep_key}",
    ),
    Case(
        "GET",
        "/api/v1/one-on-one/{rep}",
        (200, 404, 404, 200, 403, 403, 403, A),
        path="/api/v1/one-on-one/{rep2_key}?lang=en",
    ),
    Case(
        "GET",
        "/api/v1/simulate/departure",
        (200, 200, 403, 403, 403, 403, 403, A),
        path="/api/v1/simulate/departure?rep={rep_key}",
    ),
    Case(
        "GET",
        "/api/v1/simulate/departure",
        (200, 404, 403, 403, 403, 403, 403, A),
        path="/api/v1/simulate/departure?rep={rep2_key}",
    ),
    Case(
        "GET",
        "/api/v1/accounts/{account_id}/overview",
        (200, 200, 200, 404, 404, 200, 200, A),
        path="/api/v1/accounts/{rep_account}/overview",
    ),
    Case(
        "GET",
        "/api/v1/accounts/{account_id}/overview",
        (200, 404, 404, 200, 404, 200, 200, A),
        path="/api/v1/accounts/{rep2_account}/overview",
    ),
    Case(
        "GET",
        "/api/v1/renewals",
        (200, 200, 200, 200, 200, 200, 200, A),
        path="/api/v1/renewals?days=365",
    ),
    Case("GET", "/api/v1/audit", (200, 403, 403, 403, 403, 403, 403, A)),
    Case("GET", "/api/v1/overrides", (200, 200, 200, 200, 200, 200, 200, A)),
    Case(
        "POST",
        "/api/v1/overrides",
        (201, 201, 403, 403, 403, 403, 403, A),  # a manager within reach; reps never
        body={
            "account": "{rep_account}",
            "field": "priority",
            "value": "90",
            "reason": "matrix {n}",
            "expires_on": UNTIL,
        },
    ),
    Case(
        "POST",
        "/api/v1/overrides",
        (201, 404, 403, 403, 403, 403, 403, A),  # out of the manager's reach
        body={
            "account": "{rep2_account}",
            "field": "cell",
            "value": "nurture",
            "reason": "matrix {n}",
            "expires_on": UNTIL,
        },
    ),
    Case(
        "DELETE",
        "/api/v1/overrides/{override_id}",
        (200, 404, 403, 403, 403, 403, 403, A),
        path="/api/v1/overrides/{rep2_override}",
    ),
    Case(
        "POST",
        "/accounts/{account_id}/overrides",
        (303, 303, 403, 403, 403, 403, 403, P),
        path="/accounts/{rep_account}/overrides",
        body={"field": "cell", "value": "deepen", "reason": "page {n}", "expires_on": UNTIL},
        form=True,
    ),
    Case("GET", "/portfolio", (200, 200, 200, 200, 200, 200, 200, P)),
    Case("GET", "/accounts", (200, 200, 200, 200, 200, 200, 200, P)),
    Case(
        "GET",
        "/accounts/{account_id}",
        (200, 200, 200, 404, 404, 200, 200, P),
        path="/accounts/{rep_account}",
    ),
    Case(
        "GET",
        "/accounts/{account_id}",
        (200, 404, 404, 200, 404, 200, 200, P),
        path="/accounts/{rep2_account}",
    ),
    Case("GET", "/plans", (200, 200, 200, 200, 403, 403, 403, P)),
    Case("GET", "/plans", (200, 404, 404, 200, 403, 403, 403, P), path="/plans?rep={rep2_key}"),
    Case("GET", "/plans", (200, 200, 200, 404, 403, 403, 403, P), path="/plans?rep={rep_key}"),
    Case("GET", "/kpis", (200, 200, 200, 200, 403, 403, 403, P), path="/kpis?by=rep"),
    Case("GET", "/review", (200, 200, 403, 403, 403, 403, 403, P), path="/review?period=2026-Q3"),
    Case(
        "POST",
        "/review/{period}/accept",
        (422, 403, 403, 403, 403, 403, 403, P),
        path="/review/2026-Q3/accept",
        body={},
        form=True,
    ),
    Case("GET", "/one-on-one", (200, 200, 303, 303, 403, 403, 403, P)),
    Case(
        "GET",
        "/one-on-one/{rep}",
        (200, 200, 200, 404, 403, 403, 403, P),
        path="/one-on-one/{rep_key}",
    ),
    Case(
        "GET",
        "/one-on-one/{rep}",
        (200, 404, 404, 200, 403, 403, 403, P),
        path="/one-on-one/{rep2_key}",
    ),
    Case("GET", "/renewals", (200, 200, 200, 200, 200, 200, 200, P)),
    Case("GET", "/deals", (200, 200, 200, 200, 200, 200, 200, P), path="/deals?zone=A"),
    Case("GET", "/departure", (200, 200, 403, 403, 403, 403, 403, P)),
    Case(
        "GET", "/departure", (200, 200, 403, 403, 403, 403, 403, P), path="/departure?rep={rep_key}"
    ),
    Case(
        "GET",
        "/departure",
        (200, 404, 403, 403, 403, 403, 403, P),
        path="/departure?rep={rep2_key}",
    ),
    Case("POST", "/logout", (303, 303, 303, 303, 303, 303, 303, P)),
    Case("GET", "/data", (200, 403, 403, 403, 403, 403, 403, P)),
    Case(
        "POST",
        "/data/validate",
        (200, 403, 403, 403, 403, 403, 403, P),
        body={"table": "teams"},
        files={"file": ("teams.csv", b"key,name\nTEAM-MATRIX,Matrix\n")},
    ),
    Case(
        "POST",
        "/data/confirm",
        (404, 403, 403, 403, 403, 403, 403, P),  # an admin's unknown upload is not found
        body={"token": "A" * 22},
        form=True,
    ),
    Case("POST", "/data/rescore", (303, 403, 403, 403, 403, 403, 403, P), body={}, form=True),
    Case(
        "POST",
        "/plans/mark",
        (303, 303, 303, 404, 403, 403, 403, P),
        body={
            "account": "{rep_planned}",
            "month": "{plan_month}",
            "action": "{rep_planned_action}",
            "status": "done",
        },
        form=True,
    ),
    Case("GET", "/settings", (200, 403, 403, 403, 403, 403, 403, P)),
    Case(
        "POST",
        "/settings/strategy",
        (200, 403, 403, 403, 403, 403, 403, P),
        body={"text": "discount_rate = 0.2", "action": "validate"},
        form=True,
    ),
    Case("GET", "/settings/users", (200, 403, 403, 403, 403, 403, 403, P)),
    Case(
        "POST",
        "/settings/users",
        (303, 403, 403, 403, 403, 403, 403, P),
        body={"login": "web-{n}", "role": "rep", "rep_key": "REP-0010", "password": "pw-12345678"},
        form=True,
    ),
    Case(
        "POST",
        "/settings/users/{user_id}",
        (303, 403, 403, 403, 403, 403, 403, P),
        path="/settings/users/{rep2_user}",
        body={"disabled": "false"},
        form=True,
    ),
    Case("GET", "/api/v1/kpis", (200, 200, 200, 200, 200, 200, 200, A)),
    Case(
        "GET",
        "/api/v1/kpis",
        (200, 200, 200, 200, 403, 403, 200, A),
        path="/api/v1/kpis?by=team",
    ),
    Case(
        "GET",
        "/api/v1/kpis",
        (200, 200, 200, 200, 200, 200, 200, A),
        path="/api/v1/kpis?by=segment",
    ),
    Case("GET", "/kpis", (200, 200, 200, 200, 403, 403, 200, P), path="/kpis?by=team"),
    # the accounts behind a KPI figure: the company's for everyone (their accounts), a rep's
    # for who may see KPIs by rep and reaches that rep
    Case(
        "GET",
        "/api/v1/kpis/{kpi}/accounts",
        (200, 200, 200, 200, 200, 200, 200, A),
        path="/api/v1/kpis/nrr/accounts",
    ),
    Case(
        "GET",
        "/api/v1/kpis/{kpi}/accounts",
        (200, 200, 200, 404, 403, 403, 403, A),
        path="/api/v1/kpis/nrr/accounts?by=rep&value={rep_label}",
    ),
    Case(
        "GET",
        "/kpis/{kpi}/accounts",
        (200, 200, 200, 404, 403, 403, 403, P),
        path="/kpis/nrr/accounts?by=rep&value={rep_label}",
    ),
    Case(
        "GET",
        "/plans/tasks.csv",
        (200, 200, 200, 200, 403, 403, 403, P),
        path="/plans/tasks.csv?layout=hubspot-tasks",
    ),
    Case(
        "GET",
        "/plans/tasks.csv",
        (200, 404, 404, 200, 403, 403, 403, P),
        path="/plans/tasks.csv?layout=salesforce-tasks&rep={rep2_key}",
    ),
    Case(
        "GET",
        "/api/v1/accounts/{account_id}",
        (200, 404, 404, 404, 200, 200, 200, A),
        path="/api/v1/accounts/{success_account}",
    ),
    Case(
        "GET",
        "/api/v1/accounts/{account_id}/overview",
        (200, 404, 404, 404, 200, 200, 200, A),
        path="/api/v1/accounts/{success_account}/overview",
    ),
    Case(
        "GET",
        "/accounts/{account_id}",
        (200, 404, 404, 404, 200, 200, 200, P),
        path="/accounts/{success_account}",
    ),
    Case(
        "GET",
        "/api/v1/accounts/{account_id}/notes",
        (200, 200, 200, 404, 404, 200, 200, A),
        path="/api/v1/accounts/{rep_account}/notes",
    ),
    Case(
        "GET",
        "/api/v1/accounts/{account_id}/notes",
        (200, 404, 404, 404, 200, 200, 200, A),
        path="/api/v1/accounts/{success_account}/notes",
    ),
    Case(
        "POST",
        "/api/v1/accounts/{account_id}/notes",
        (201, 201, 201, 404, 404, 201, 403, A),
        path="/api/v1/accounts/{rep_account}/notes",
        body={"text": "matrix {n}"},
    ),
    Case(
        "POST",
        "/api/v1/accounts/{account_id}/notes",
        (201, 404, 404, 404, 201, 201, 403, A),
        path="/api/v1/accounts/{success_account}/notes",
        body={"text": "matrix {n}"},
    ),
    Case(
        "PATCH",
        "/api/v1/accounts/{account_id}/notes/{note_id}",
        (200, 403, 200, 404, 404, 403, 403, A),  # the author (rep) or an admin
        path="/api/v1/accounts/{rep_account}/notes/{rep_note}",
        body={"text": "matrix {n}"},
    ),
    Case(
        "POST",
        "/api/v1/accounts/{account_id}/activities",
        (201, 201, 201, 404, 404, 403, 403, A),
        path="/api/v1/accounts/{rep_account}/activities",
        body={"type": "call", "occurred_at": "2026-09-29T10:00:00", "subject": "matrix {n}"},
    ),
    Case(
        "POST",
        "/api/v1/accounts/{account_id}/activities",
        (201, 404, 404, 404, 201, 403, 403, A),
        path="/api/v1/accounts/{success_account}/activities",
        body={"type": "qbr", "occurred_at": "2026-09-29T10:00:00", "duration_minutes": 60},
    ),
    Case(
        "POST",
        "/accounts/{account_id}/activities",
        (303, 303, 303, 404, 404, 403, 403, P),
        path="/accounts/{rep_account}/activities",
        body={"type": "visit", "day": "2026-09-28", "subject": "page {n}"},
        form=True,
    ),
    Case(
        "POST",
        "/accounts/{account_id}/notes",
        (303, 303, 303, 404, 404, 303, 403, P),
        path="/accounts/{rep_account}/notes",
        body={"text": "page {n}"},
        form=True,
    ),
]
_counter = itertools.count()


def _owned_account(session: Session, login: str) -> int:
    rep_key = find_user(session, login).rep_key
    return session.scalars(
        select(Account.id).join(Rep, Rep.id == Account.owner_id).where(Rep.key == rep_key)
    ).first()


def _team_account(session: Session, login: str) -> int:
    rep_key = find_user(session, login).rep_key
    return session.scalars(
        select(AccountTeamMember.account_id)
        .join(Rep, Rep.id == AccountTeamMember.rep_id)
        .where(Rep.key == rep_key)
        .order_by(AccountTeamMember.account_id)
    ).first()


def _planned_action(session: Session, login: str) -> tuple[int, str, str]:
    """An action of the newest plan on an account the user's rep owns: account, action, month."""
    rep_key = find_user(session, login).rep_key
    account, action, month = session.execute(
        select(SnapshotAction.account_id, SnapshotAction.action, SnapshotAction.month)
        .join(Account, Account.id == SnapshotAction.account_id)
        .join(Rep, Rep.id == Account.owner_id)
        .where(Rep.key == rep_key)
        .order_by(SnapshotAction.id.desc())
        .limit(1)
    ).one()
    return int(account), str(action), month.isoformat()


_ids: dict[str, dict[str, int | str]] = {}
_csrf: dict[str, dict[str, str]] = {}


def _rep_label(session: Session, user: str) -> str:
    """How KPI rows by rep name ``user``'s rep (:mod:`tillage.labels`)."""
    labels = unique_labels(session.execute(select(Rep.id, Rep.key, Rep.name)).all())
    return labels[session.scalar(select(Rep.id).where(Rep.key == find_user(session, user).rep_key))]


@pytest.fixture
def ids(demo_settings: Settings) -> dict[str, int | str]:
    url = demo_settings.resolved_database_url
    if url in _ids:
        return _ids[url]
    engine = make_engine(url)
    with session_scope(engine) as session:
        found = {
            "rep_account": _owned_account(session, "rep"),
            "rep2_account": _owned_account(session, "rep2"),
            "success_account": _team_account(session, "success"),
            "rep2_user": find_user(session, "rep2").id,
            "rep_key": find_user(session, "rep").rep_key,
            "rep2_key": find_user(session, "rep2").rep_key,
            "rep_label": _rep_label(session, "rep"),
            "snapshot": latest_snapshot(session).id,
            "strategy_version": save_strategy(session, "", now=NOW, comment="matrix").id,
        }
        for who in ("rep", "rep2"):
            account, action, month = _planned_action(session, who)
            found[f"{who}_planned"], found[f"{who}_planned_action"] = account, action
            found["plan_month"] = month
        found["rep2_override"] = set_override(
            session,
            OPERATOR,
            int(found["rep2_account"]),
            "priority",
            "50",
            reason="matrix",
            expires_on=dt.date.fromisoformat(UNTIL),
            now=NOW,
        ).id
    with Session(engine) as session:  # add_note commits, as set_override does
        rep_user = find_user(session, "rep")
        found["rep_note"] = add_note(
            session,
            principal_for(rep_user, via="session"),
            int(found["rep_account"]),
            "matrix",
            now=NOW,
        ).id
    with Session(engine) as session:  # a job queued: see POST /api/v1/jobs
        found["job"] = queue_job(session, OPERATOR, kind="rescore", now=NOW).id
    engine.dispose()
    _ids[url] = found
    return found


@pytest.fixture(scope="module")
def started() -> Iterator[dict[str, TestClient]]:
    """One started client per store for the whole matrix (stopped after it): a client started
    per case ran the app's start-up and shut-down each time, and the shut-down closes the
    store's pooled connections, which the next case opened again (~9 ms a case: the module
    took 61.1 s that way, 46.4 s this way)."""
    clients: dict[str, TestClient] = {}
    yield clients
    for client in clients.values():
        client.__exit__(None, None, None)


@pytest.fixture
def matrix_client(
    demo_settings: Settings, session_cookies: dict[str, str], started: dict[str, TestClient]
) -> Callable[[str | None], TestClient]:
    """``matrix_client(role)``: the store's started client holding only ``role``'s session
    cookie (None: no cookie), as a new client would."""

    def make(user: str | None) -> TestClient:
        url = demo_settings.resolved_database_url
        if url not in started:
            started[url] = TestClient(app_for(demo_settings)).__enter__()
        client = started[url]
        client.cookies.clear()
        if user is not None:
            client.cookies.set(SESSION_COOKIE, session_cookies[user])
        return client

    return make


@pytest.mark.parametrize(("case", "role"), [(c, r) for c in MATRIX for r in ROLES], ids=str)
def test_permission_matrix(
    case: Case,
    role: str,
    ids: dict[str, int | str],
    demo_settings: Settings,
    matrix_client: Callable[[str | None], TestClient],
    csrf_tokens: dict[str, str],
    session_cookies: dict[str, str],
) -> None:
    expected = case.expect[ROLES.index(role)]
    values = dict(ids)
    if "{rep_token}" in case.path:
        engine = make_engine(demo_settings.resolved_database_url)
        with session_scope(engine) as session:
            values["rep_token"] = create_token(
                session, find_user(session, "rep"), name="m", scopes=["read"], now=NOW
            )[0].id
        engine.dispose()
    if case.route == "/logout" and role != "anon":
        client = login(matrix_client(None), role)  # logging out ends the shared session
        csrf = client.get("/api/v1/me").json()["csrf_token"]
    else:
        client = matrix_client(None if role == "anon" else role)
        csrf = csrf_tokens.get(role, "")
    body = None
    if case.body is not None:
        body = {
            k: v.format(n=next(_counter), **values) if isinstance(v, str) else v
            for k, v in case.body.items()
        }
    response = client.request(
        case.method,
        case.url(values),
        json=None if case.files or case.form else body,
        data=body if case.files or case.form else None,
        files=case.files,
        headers={"X-CSRF-Token": csrf},
        follow_redirects=False,
    )
    assert response.status_code == expected, (
        f"{case.method} {case.route} as {role}: {response.status_code} {response.text[:300]}"
    )
    if case.route == "/logout" and role != "anon":
        # logging out ends every session of the user: renew the shared one for later tests
        assert client.get("/api/v1/me").status_code == 401
        client.cookies.clear()
        login(client, role)
        session_cookies[role] = client.cookies[SESSION_COOKIE]
        csrf_tokens[role] = client.get("/api/v1/me").json()["csrf_token"]
    if expected == P and role == "anon":
        assert response.headers["location"].startswith("/login")
    if response.headers.get("content-type", "").startswith("application/json") and expected >= 400:
        assert set(response.json()) == {"error"}


@pytest.fixture
def csrf_tokens(demo_settings: Settings, session_cookies: dict[str, str]) -> dict[str, str]:
    url = demo_settings.resolved_database_url
    if url in _csrf:
        return _csrf[url]
    tokens = _csrf[url] = {}
    with TestClient(app_for(demo_settings)) as client:
        for user, cookie in session_cookies.items():
            client.cookies.set(SESSION_COOKIE, cookie)
            me = client.get("/api/v1/me").json()
            assert "csrf_token" in me, (user, me)
            tokens[user] = me["csrf_token"]
    return tokens


def test_every_route_is_in_the_matrix_or_public(demo_settings: Settings) -> None:
    app = create_app(demo_settings)
    routes = {
        (method, ctx.path)
        for ctx in iter_route_contexts(app.routes)
        for method in (ctx.methods or ()) - {"HEAD"}
    }
    listed = {(c.method, c.route) for c in MATRIX} | PUBLIC
    assert routes == listed, f"unlisted: {routes - listed}; stale: {listed - routes}"


def test_every_non_public_route_requires_authorization(demo_settings: Settings) -> None:
    app = create_app(demo_settings)
    for ctx in iter_route_contexts(app.routes):
        methods = (ctx.methods or set()) - {"HEAD"}
        if {(m, ctx.path) for m in methods} <= PUBLIC:
            continue
        deps = {d.dependency for d in ctx.route.dependencies}
        assert deps & {authorize, authorize_admin, authorize_own_session}, (
            f"{methods} {ctx.path} lacks authorization"
        )


def test_lists_and_totals_only_count_what_the_role_sees(
    client_as: Callable[[str | None], TestClient], demo_settings: Settings
) -> None:
    totals = {}
    for role in ("admin", "manager", "rep", "rep2"):
        client = client_as(role)
        page = client.get("/api/v1/accounts", params={"limit": 500}).json()
        zones = client.get("/api/v1/portfolio").json()["zones"]
        assert page["total"] == len(page["items"]) == sum(z["accounts"] for z in zones)
        totals[role] = {item["account_id"] for item in page["items"]}
    assert len(totals["admin"]) == 300
    assert totals["rep"] < totals["manager"] < totals["admin"]
    assert not totals["rep2"] & totals["manager"]
    engine = make_engine(demo_settings.resolved_database_url)
    with Session(engine) as session:
        rep_key = session.scalar(select(User.rep_key).where(User.login == "rep"))
        owned = set(
            session.scalars(
                select(Account.id).join(Rep, Rep.id == Account.owner_id).where(Rep.key == rep_key)
            )
        )
    engine.dispose()
    assert owned <= totals["rep"]  # own accounts, plus those on whose account team the rep sits
