"""Logging in, sessions, CSRF, API tokens and their scopes, throttling, and password storage."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import Engine, select

from tillage.config import Settings
from tillage.errors import ConfigurationError
from tillage.server import create_app
from tillage.store.database import make_engine, migrate, session_scope
from tillage.store.schema import AuditEntry, User
from tillage.store.users import (
    FREE_FAILURES_PER_CLIENT,
    MAX_CLIENT_DELAY,
    audit,
    create_user,
    utcnow,
)

from .conftest import TEST_SECRET, login

NOW = dt.datetime(2026, 10, 1, 9, 0)


@pytest.fixture
def small(tmp_path: Path) -> Iterator[tuple[Settings, Engine]]:
    """A store of its own (no accounts) with one rep-less admin ``root`` / ``root-pass-1``."""
    settings = Settings(data_dir=tmp_path, secret_key=TEST_SECRET, _env_file=None)
    engine = make_engine(settings.resolved_database_url)
    migrate(engine)
    with session_scope(engine) as session:
        create_user(
            session,
            login="root",
            display_name="Root",
            role="admin",
            password="root-pass-1",
            now=NOW,
        )
    yield settings, engine
    engine.dispose()


def _token(client: TestClient, user: str, password: str, scopes: list[str]) -> str:
    response = client.post(
        "/api/v1/auth/token", json={"login": user, "password": password, "scopes": scopes}
    )
    assert response.status_code == 201, response.text
    return response.json()["token"]


def test_session_cookie_is_signed_httponly_lax(
    client_as: Callable[[str | None], TestClient],
) -> None:
    client = client_as(None)
    client.get("/login")
    response = client.post(
        "/login",
        data={
            "login": "rep",
            "password": "demo-rep",
            "csrf_token": client.cookies["tillage_login_csrf"],
            "next": "/accounts?zone=A",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303 and response.headers["location"] == "/accounts?zone=A"
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "secure" not in cookie
    assert client.get("/api/v1/me").status_code == 200
    # flip one character in the middle of the signature: each of those carries 6 bits of it
    # (the last character of a base64 signature may carry padding bits that decoding ignores)
    value, signature = client.cookies["tillage_session"].rsplit(".", 1)
    middle = len(signature) // 2
    flipped = "B" if signature[middle] == "A" else "A"
    tampered = f"{value}.{signature[:middle]}{flipped}{signature[middle + 1 :]}"
    client.cookies.clear()
    client.cookies.set("tillage_session", tampered)
    assert client.get("/api/v1/me").status_code == 401  # tampered


def test_secure_cookie_over_https(demo_settings: Settings) -> None:
    with TestClient(create_app(demo_settings), base_url="https://testserver") as client:
        client.get("/login")
        response = client.post(
            "/login",
            data={
                "login": "rep",
                "password": "demo-rep",
                "csrf_token": client.cookies["tillage_login_csrf"],
            },
            follow_redirects=False,
        )
        assert "; secure" in response.headers["set-cookie"].lower()
        assert client.get("/api/v1/me").status_code == 200


def test_wrong_password_and_login_csrf_are_refused(
    client_as: Callable[[str | None], TestClient],
) -> None:
    client = client_as(None)
    page = client.get("/login")
    assert "ログイン" in page.text
    token = client.cookies["tillage_login_csrf"]
    wrong = client.post("/login", data={"login": "rep2", "password": "nope", "csrf_token": token})
    assert wrong.status_code == 401 and "パスワードが正しくありません" in wrong.text
    forged = client.post(
        "/login", data={"login": "rep2", "password": "demo-rep2", "csrf_token": "forged"}
    )
    assert forged.status_code == 403 and "tillage_session" not in client.cookies


def test_login_never_redirects_off_site(client_as: Callable[[str | None], TestClient]) -> None:
    client = client_as(None)
    client.get("/login")
    response = client.post(
        "/login",
        data={
            "login": "manager",
            "password": "demo-manager",
            "csrf_token": client.cookies["tillage_login_csrf"],
            "next": "//evil.example/",
        },
        follow_redirects=False,
    )
    assert response.headers["location"] == "/portfolio"


def test_session_changes_need_the_csrf_token(
    client_as: Callable[[str | None], TestClient], session_cookies: dict[str, str]
) -> None:
    client = login(client_as(None), "admin")
    body = {"display_name": "Admin"}
    me = client.get("/api/v1/me").json()
    target = f"/api/v1/users/{me['user']['id']}"
    assert client.patch(target, json=body).status_code == 403
    refused = client.patch(target, json=body, headers={"X-CSRF-Token": "wrong"})
    assert refused.status_code == 403
    assert "CSRF" in refused.json()["error"]["message"]
    assert client.post("/logout", data={"csrf_token": "wrong"}).status_code == 403
    ok = client.patch(target, json=body, headers={"X-CSRF-Token": me["csrf_token"]})
    assert ok.status_code == 200
    out = client.post("/logout", data={"csrf_token": me["csrf_token"]}, follow_redirects=False)
    assert out.status_code == 303
    assert client.get("/accounts", follow_redirects=False).headers["location"].startswith("/login")
    # logging out ended every admin session: renew the shared one for the other tests
    session_cookies["admin"] = login(client, "admin").cookies["tillage_session"]
    assert client.get("/api/v1/me").status_code == 200


def test_token_scopes_and_revocation(small: tuple[Settings, Engine]) -> None:
    settings, _engine = small
    with TestClient(create_app(settings)) as client:
        read = _token(client, "root", "root-pass-1", ["read"])
        full = _token(client, "root", "root-pass-1", ["read", "write", "admin"])
        as_read = {"Authorization": f"Bearer {read}"}
        as_full = {"Authorization": f"Bearer {full}"}
        assert client.get("/api/v1/me", headers=as_read).json()["scopes"] == ["read"]
        # bearer requests need no CSRF token, but need the scope
        assert client.get("/api/v1/users", headers=as_read).status_code == 403
        assert client.get("/api/v1/users", headers=as_full).status_code == 200
        tokens = client.get("/api/v1/auth/tokens", headers=as_full).json()
        assert all("token" not in t and "token_hash" not in t for t in tokens)
        read_id = next(t["id"] for t in tokens if t["scopes"] == ["read"])
        assert client.delete(f"/api/v1/auth/tokens/{read_id}", headers=as_read).status_code == 403
        revoked = client.delete(f"/api/v1/auth/tokens/{read_id}", headers=as_full)
        assert revoked.status_code == 200 and revoked.json()["revoked_at"]
        refused = client.get("/api/v1/me", headers=as_read)
        assert refused.status_code == 401 and refused.headers["www-authenticate"] == "Bearer"
        assert "revoked" in refused.json()["error"]["message"]
        bogus = client.get("/api/v1/me", headers={"Authorization": "Bearer tlg_nope"})
        assert bogus.status_code == 401


def test_rep_cannot_get_an_admin_token_and_disabled_users_lose_tokens(
    small: tuple[Settings, Engine],
) -> None:
    settings, engine = small
    with session_scope(engine) as session:
        create_user(
            session,
            login="someone",
            display_name="",
            role="rep",
            rep_key="REP-0009",
            password="some-pass-1",
            now=NOW,
        )
    with TestClient(create_app(settings)) as client:
        refused = client.post(
            "/api/v1/auth/token",
            json={"login": "someone", "password": "some-pass-1", "scopes": ["admin"]},
        )
        assert refused.status_code == 403
        token = _token(client, "someone", "some-pass-1", ["read", "write"])
        headers = {"Authorization": f"Bearer {token}"}
        assert client.get("/api/v1/accounts", headers=headers).status_code == 404  # no snapshot
        root = _token(client, "root", "root-pass-1", ["read", "write", "admin"])
        users = client.get("/api/v1/users", headers={"Authorization": f"Bearer {root}"}).json()
        someone = next(u["id"] for u in users if u["login"] == "someone")
        client.patch(
            f"/api/v1/users/{someone}",
            json={"disabled": True},
            headers={"Authorization": f"Bearer {root}"},
        )
        assert client.get("/api/v1/me", headers=headers).status_code == 401


def _form_login(client: TestClient, user: str, password: str) -> httpx.Response:
    client.get("/login?lang=ja")
    return client.post(
        "/login",
        data={
            "login": user,
            "password": password,
            "csrf_token": client.cookies.get("tillage_login_csrf") or "",
        },
        follow_redirects=False,
    )


def test_throttling_slows_attackers_without_locking_users_out(
    small: tuple[Settings, Engine],
) -> None:
    settings, engine = small
    app = create_app(settings)
    office = ("10.0.0.1", 50000)  # one address: the office behind its proxy
    with (
        TestClient(app, client=office) as known,
        TestClient(app, client=office) as attacker,
        TestClient(app, client=office) as new_browser,
    ):
        assert _form_login(known, "root", "root-pass-1").status_code == 303
        assert known.cookies.get("tillage_device")  # this browser is now known for root
        # 20 failed logins under unknown names, then 5 on root, as fast as they are answered
        statuses = []
        for login in [f"nobody-{i}" for i in range(FREE_FAILURES_PER_CLIENT)] + ["root"] * 5:
            response = attacker.post(
                "/api/v1/auth/token", json={"login": login, "password": "guess-1234"}
            )
            statuses.append(response.status_code)
            if response.status_code == 429:
                assert 0 < int(response.headers["retry-after"]) <= MAX_CLIENT_DELAY
                assert response.json()["error"]["type"] == "TooManyAttempts"
        assert statuses[:FREE_FAILURES_PER_CLIENT] == [401] * FREE_FAILURES_PER_CLIENT
        assert 429 in statuses  # the attacker is slowed
        with session_scope(engine) as session:  # and keeps going: 10 more failures just now
            for i in range(10):
                audit(session, "login.failed", now=utcnow(), actor=f"x{i}", client=office[0])
        # the admin's known browser logs in at once, from the same address
        assert _form_login(known, "root", "root-pass-1").status_code == 303
        # a new browser there is asked to wait seconds (in Japanese), never locked out
        slowed = _form_login(new_browser, "root", "root-pass-1")
        assert slowed.status_code == 429
        wait = int(slowed.headers["retry-after"])
        assert 0 < wait <= MAX_CLIENT_DELAY
        shown = f"{wait} 秒後" if wait < 60 else f"{-(-wait // 60)} 分後"
        assert f"ログインの失敗が多すぎます。{shown}に再度お試しください。" in slowed.text
    with session_scope(engine) as session:
        actions = [e.action for e in session.scalars(select(AuditEntry).order_by(AuditEntry.id))]
    assert actions.count("login") == 2
    assert actions.count("login.failed") == statuses.count(401) + 10


def test_passwords_are_argon2_and_never_returned(
    client: TestClient, demo_settings: Settings
) -> None:
    engine = make_engine(demo_settings.resolved_database_url)
    with session_scope(engine) as session:
        hashes = list(session.scalars(select(User.password_hash)))
    engine.dispose()
    assert hashes and all(h.startswith("$argon2id$") for h in hashes)
    for path in ("/api/v1/users", "/api/v1/me"):
        response = client.get(path)
        assert response.status_code == 200
        text = response.text
        assert "argon2" not in text and "password" not in text


def test_logins_and_changes_are_audited(demo_settings: Settings) -> None:
    engine = make_engine(demo_settings.resolved_database_url)
    with session_scope(engine) as session:
        actions = set(session.scalars(select(AuditEntry.action)))
    engine.dispose()
    assert {"user.create", "login"} <= actions


def test_secret_key_is_required_and_placeholders_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="TILLAGE_SECRET_KEY"):
        create_app(Settings(data_dir=tmp_path, _env_file=None))
    for placeholder in ("changethis", "x" * 40, "short-but-random"):
        with pytest.raises(ValidationError, match="secret_key"):
            Settings(data_dir=tmp_path, secret_key=placeholder, _env_file=None)
