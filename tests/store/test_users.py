"""Users, tokens, the audit log and the visibility filter on both databases."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys

import pandas as pd
import pytest
from sqlalchemy import Engine, select

from tillage.errors import AuthenticationError, DataValidationError, TooManyAttempts
from tillage.store.access import Principal, account_filter, reach_reps
from tillage.store.database import session_scope
from tillage.store.load import replace_all
from tillage.store.schema import Account, AuditEntry
from tillage.store.users import (
    FREE_FAILURES,
    FREE_FAILURES_PER_CLIENT,
    MAX_CLIENT_DELAY,
    MAX_LOGIN_DELAY,
    authenticate,
    backoff,
    create_token,
    create_user,
    find_user,
    principal_for,
    principal_for_token,
    rep_labels,
    revoke_token,
    update_user,
)

NOW = dt.datetime(2026, 10, 1, 9, 0)
SECOND = dt.timedelta(seconds=1)


def _org(engine: Engine) -> None:
    """Two teams; manager M1 runs team 1 (reps R1, R2), team 2 has rep R3."""
    reps = pd.DataFrame(
        {
            "id": [1, 2, 3, 4],
            "key": ["M1", "R1", "R2", "R3"],
            "name": ["m1", "r1", "r2", "r3"],
            "role": ["manager", "rep", "rep", "rep"],
            "team_id": [1, 1, 1, 2],
            "manager_id": pd.array([None, 1, 1, None], "Int64"),
        }
    )
    accounts = pd.DataFrame(
        {"id": [1, 2, 3, 4], "key": list("abcd"), "name": list("ABCD"), "owner_id": [2, 3, 4, 4]}
    )
    members = pd.DataFrame({"id": [1], "account_id": [4], "rep_id": [2]})
    teams = pd.DataFrame({"id": [1, 2], "key": ["T1", "T2"], "name": ["t1", "t2"]})
    replace_all(
        engine,
        {"teams": teams, "reps": reps, "accounts": accounts, "account_team_members": members},
    )


def test_visibility_by_role(engine: Engine) -> None:
    _org(engine)
    with session_scope(engine) as session:
        users = {
            "admin": create_user(
                session, login="a", display_name="", role="admin", password=None, now=NOW
            ),
            "m1": create_user(
                session,
                login="m",
                display_name="",
                role="manager",
                password=None,
                now=NOW,
                rep_key="M1",
            ),
            "r1": create_user(
                session,
                login="r1",
                display_name="",
                role="rep",
                password=None,
                now=NOW,
                rep_key="R1",
            ),
            "r3": create_user(
                session,
                login="r3",
                display_name="",
                role="rep",
                password=None,
                now=NOW,
                rep_key="R3",
            ),
            "ghost": create_user(
                session,
                login="g",
                display_name="",
                role="rep",
                password=None,
                now=NOW,
                rep_key="NOPE",
            ),
        }
        seen = {
            name: set(
                session.scalars(
                    select(Account.key).where(account_filter(principal_for(u, via="session")))
                )
            )
            for name, u in users.items()
        }
    assert seen == {
        "admin": {"a", "b", "c", "d"},
        "m1": {"a", "b", "d"},  # team 1's accounts, and d where R1 sits on the account team
        "r1": {"a", "d"},
        "r3": {"c", "d"},
        "ghost": set(),
    }


def test_reach_reps_by_role(engine: Engine) -> None:
    _org(engine)

    def keys(role: str, rep_key: str | None) -> list[tuple[str, str | None, str]]:
        principal = Principal(None, "x", "", role, rep_key)
        with session_scope(engine) as session:
            return [(r.key, r.team, r.role) for r in reach_reps(session, principal)]

    everyone = [("M1", "t1", "manager"), ("R1", "t1", "rep"), ("R2", "t1", "rep")]
    assert keys("admin", None) == [*everyone, ("R3", "t2", "rep")]  # by team, then name
    assert keys("manager", "M1") == everyone
    assert keys("rep", "R3") == [("R3", "t2", "rep")]
    assert keys("rep", None) == [] and keys("manager", "NOPE") == []


def test_passwords_tokens_and_throttling(engine: Engine) -> None:
    with session_scope(engine) as session:
        with pytest.raises(DataValidationError, match="rep"):
            create_user(session, login="x", display_name="", role="rep", password=None, now=NOW)
        user = create_user(
            session,
            login="Root@Example.com",
            display_name="",
            role="admin",
            password="root-pass-1",
            now=NOW,
        )
        assert user.login == "root@example.com" and user.password_hash.startswith("$argon2id$")
        row, secret = create_token(session, user, name="t", scopes=["read"], now=NOW)
        assert row.token_hash != secret and secret not in row.prefix + row.token_hash
        assert principal_for_token(session, secret, now=NOW).scopes == {"read"}
        for minute in range(5):
            with pytest.raises(AuthenticationError):
                authenticate(
                    session,
                    "root@example.com",
                    "bad-password",
                    client="10.0.0.1",
                    now=NOW + dt.timedelta(minutes=minute),
                )
        with pytest.raises(TooManyAttempts):
            authenticate(session, "ROOT@example.com", "root-pass-1", client="10.0.0.2", now=NOW)
        later = NOW + dt.timedelta(minutes=5)
        assert authenticate(session, "root@example.com", "root-pass-1", client=None, now=later)
        revoke_token(session, row.id, by=principal_for(user, via="session"), now=later)
        with pytest.raises(AuthenticationError, match="revoked"):
            principal_for_token(session, secret, now=later)
        update_user(session, find_user(session, "root@example.com"), disabled=True, now=later)
        actions = [e.action for e in session.scalars(select(AuditEntry).order_by(AuditEntry.id))]
    assert actions[:2] == ["user.create", "token.create"]
    assert actions.count("login.failed") == 5
    assert actions[-3:] == ["login", "token.revoke", "user.update"]


def test_rep_labels_name_each_rep_and_team(engine: Engine) -> None:
    _org(engine)
    with session_scope(engine) as session:
        labels = rep_labels(session)
    assert list(labels) == ["M1", "R1", "R2", "R3"]  # by name
    assert (labels["R3"].name, labels["R3"].team) == ("r3", "t2")


def _root(session) -> None:  # type: ignore[no-untyped-def]
    create_user(
        session, login="root", display_name="", role="admin", password="root-pass-1", now=NOW
    )


def _fail(session, login: str, client: str, at: dt.datetime, device: str | None = None) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(AuthenticationError):
        authenticate(session, login, "wrong-password", client=client, now=at, device=device)


def _attack(session, logins: list[str], client: str, t: dt.datetime, cap: int) -> dt.datetime:  # type: ignore[no-untyped-def]
    """Fail once for each of ``logins`` as fast as the throttle allows (waiting whatever it
    asks, never more than ``cap`` seconds); the time after the last failure."""
    for login in logins:
        while True:
            try:
                _fail(session, login, client, t)
                break
            except TooManyAttempts as exc:
                assert 0 < exc.retry_after <= cap
                t += dt.timedelta(seconds=exc.retry_after)
    return t


def test_backoff_doubles_from_the_free_failures_up_to_its_cap() -> None:
    assert [backoff(n, 3, 300) for n in range(12)] == [0, 0, 0, 1, 2, 4, 8, 16, 32, 64, 128, 256]
    assert backoff(13, 3, 300) == backoff(10_000, 3, 300) == 300


def test_unknown_names_from_one_address_slow_it_but_never_lock_the_admin_out(
    engine: Engine,
) -> None:
    with session_scope(engine) as session:
        _root(session)
        authenticate(session, "root", "root-pass-1", client="10.0.0.1", now=NOW, device="dev-1")
        # an attacker behind the office's proxy tries 25 names as fast as allowed
        names = [f"nobody-{i}" for i in range(FREE_FAILURES_PER_CLIENT + 5)]
        t = _attack(session, names, "10.0.0.1", NOW + SECOND, MAX_CLIENT_DELAY)
        assert t - NOW < dt.timedelta(minutes=2)
        # the admin's known browser logs in at once, on the same address
        assert authenticate(
            session, "root", "root-pass-1", client="10.0.0.1", now=t, device="dev-1"
        )
        # a new browser on that address is slowed for a moment, never locked out
        with pytest.raises(TooManyAttempts) as slowed:
            authenticate(session, "root", "root-pass-1", client="10.0.0.1", now=t)
        assert 0 < slowed.value.retry_after <= MAX_CLIENT_DELAY
        later = t + dt.timedelta(seconds=slowed.value.retry_after)
        assert authenticate(session, "root", "root-pass-1", client="10.0.0.1", now=later)
        # and another address is not slowed at all
        assert authenticate(session, "root", "root-pass-1", client="10.0.0.2", now=later)


def test_failures_on_a_chosen_user_cannot_lock_them_out(engine: Engine) -> None:
    with session_scope(engine) as session:
        _root(session)
        authenticate(session, "root", "root-pass-1", client="10.0.0.1", now=NOW, device="dev-1")
        t = _attack(session, ["root"] * 5, "203.0.113.9", NOW + SECOND, MAX_LOGIN_DELAY)
        # the user's known browser logs in at once
        assert authenticate(
            session, "root", "root-pass-1", client="10.0.0.1", now=t, device="dev-1"
        )
        # the attacker again; a new browser of the user waits seconds, not minutes
        t = _attack(session, ["root"] * 5, "203.0.113.9", t + SECOND, MAX_LOGIN_DELAY)
        with pytest.raises(TooManyAttempts) as slowed:
            authenticate(session, "root", "root-pass-1", client="10.0.0.2", now=t)
        assert slowed.value.retry_after <= backoff(5, FREE_FAILURES, MAX_LOGIN_DELAY)
        wait = dt.timedelta(seconds=slowed.value.retry_after)
        assert authenticate(session, "root", "root-pass-1", client="10.0.0.2", now=t + wait)
        # a persistent guesser gets 15 tries in no less than 20 minutes, never waiting beyond the
        # cap; the known browser is never refused meanwhile
        start = t + wait + SECOND
        t = _attack(session, ["root"] * 15, "203.0.113.9", start, MAX_LOGIN_DELAY)
        assert t - start > dt.timedelta(minutes=20)
        assert authenticate(
            session, "root", "root-pass-1", client="10.0.0.1", now=t, device="dev-1"
        )
        # failures from the known browser itself slow that browser
        for _ in range(FREE_FAILURES):
            _fail(session, "root", "10.0.0.1", t + SECOND, device="dev-1")
        with pytest.raises(TooManyAttempts):
            authenticate(
                session, "root", "root-pass-1", client="10.0.0.1", now=t + SECOND, device="dev-1"
            )


def test_a_tillage_process_hashes_passwords_with_argon2id_at_its_full_cost() -> None:
    """The tests' own processes hash cheaply (tests/conftest.py); tillage itself does not."""
    code = "from tillage.store.users import hash_password; print(hash_password('correct horse'))"
    done = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.startswith("$argon2id$v=19$m=65536,t=3,p=4$"), done.stdout
