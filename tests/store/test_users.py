"""Users, tokens, the audit log and the visibility filter on both databases."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from sqlalchemy import Engine, select

from tillage.errors import AuthenticationError, DataValidationError, TooManyAttempts
from tillage.store.access import Principal, account_filter, reach_reps
from tillage.store.database import session_scope
from tillage.store.load import replace_all
from tillage.store.schema import Account, AuditEntry
from tillage.store.users import (
    MAX_FAILURES_PER_LOGIN,
    THROTTLE_WINDOW,
    authenticate,
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
        for minute in range(MAX_FAILURES_PER_LOGIN):
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
        later = NOW + THROTTLE_WINDOW + dt.timedelta(minutes=MAX_FAILURES_PER_LOGIN)
        assert authenticate(session, "root@example.com", "root-pass-1", client=None, now=later)
        revoke_token(session, row.id, by=principal_for(user, via="session"), now=later)
        with pytest.raises(AuthenticationError, match="revoked"):
            principal_for_token(session, secret, now=later)
        update_user(session, find_user(session, "root@example.com"), disabled=True, now=later)
        actions = [e.action for e in session.scalars(select(AuditEntry).order_by(AuditEntry.id))]
    assert actions[:2] == ["user.create", "token.create"]
    assert actions.count("login.failed") == MAX_FAILURES_PER_LOGIN
    assert actions[-3:] == ["login", "token.revoke", "user.update"]


def test_rep_labels_name_each_rep_and_team(engine: Engine) -> None:
    _org(engine)
    with session_scope(engine) as session:
        labels = rep_labels(session)
    assert list(labels) == ["M1", "R1", "R2", "R3"]  # by name
    assert (labels["R3"].name, labels["R3"].team) == ("r3", "t2")
