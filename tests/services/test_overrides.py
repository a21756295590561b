"""Manual overrides: who may pin an account's cell or priority, the expiry, the audit log, and
the scoring run keeping an override with the computed value beside it (a small demo company)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from tillage.errors import NotFoundError, ParameterError, PermissionDenied
from tillage.services.overrides import (
    apply_overrides,
    clear_override,
    override_list,
    set_override,
)
from tillage.services.scoring import run_scoring
from tillage.store.access import Principal, account_filter, everything
from tillage.store.records import AccountScore, AuditEntry
from tillage.store.schema import Account, Rep

from ..scored_demo import load_demo

NOW = dt.datetime(2026, 10, 1, 9, 0)
UNTIL = dt.date(2026, 12, 31)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Engine, dt.date]:
    company, engine, _url = load_demo(tmp_path_factory.mktemp("ovr") / "t.db", 120, 11, 6)
    return engine, company.config.as_of


def _principal(role: str, rep_key: str | None) -> Principal:
    return Principal(user_id=None, login=f"a-{role}", display_name=role, role=role, rep_key=rep_key)


def _manager_and_accounts(engine: Engine) -> tuple[Principal, int, int]:
    """A manager, an account in their reach and one outside it."""
    with Session(engine) as session:
        manager = session.scalars(select(Rep).where(Rep.role == "manager")).first()
        assert manager is not None
        who = _principal("manager", manager.key)
        mine = set(session.scalars(select(Account.id).where(account_filter(who))))
        every = set(session.scalars(select(Account.id)))
    assert mine and every - mine, "the demo needs accounts inside and outside the reach"
    return who, min(mine), min(every - mine)


def test_a_rep_cannot_override(demo: tuple[Engine, dt.date]) -> None:
    engine, _ = demo
    with Session(engine) as session:
        owner = session.scalars(select(Account).where(Account.owner_id.is_not(None))).first()
        assert owner is not None
        rep_key = session.get(Rep, owner.owner_id).key  # type: ignore[union-attr]
        with pytest.raises(PermissionDenied):
            set_override(
                session,
                _principal("rep", rep_key),
                owner.key,
                "cell",
                "deepen",
                reason="own account",
                expires_on=UNTIL,
                now=NOW,
            )


def test_a_manager_overrides_only_within_reach(demo: tuple[Engine, dt.date]) -> None:
    engine, _ = demo
    manager, inside, outside = _manager_and_accounts(engine)
    with Session(engine) as session:
        made = set_override(
            session,
            manager,
            inside,
            "priority",
            "95",
            reason="board visit",
            expires_on=UNTIL,
            now=NOW,
        )
        assert made.value == 95.0 and made.in_force and made.created_by == "a-manager"
        with pytest.raises(NotFoundError):
            set_override(
                session, manager, outside, "priority", "95", reason="x", expires_on=UNTIL, now=NOW
            )
        with pytest.raises(NotFoundError):  # nor clear one of an account out of reach
            admin = _principal("admin", None)
            other = set_override(
                session, admin, outside, "cell", "reduce", reason="y", expires_on=UNTIL, now=NOW
            )
            clear_override(session, manager, other.id, now=NOW)
        clear_override(session, admin, other.id, now=NOW)
        clear_override(session, manager, made.id, now=NOW)


@pytest.mark.parametrize(
    ("field", "value", "reason", "until"),
    [
        ("cell", "grow", "r", UNTIL),  # not a cell
        ("priority", "101", "r", UNTIL),  # outside 0–100
        ("cell", "deepen", "  ", UNTIL),  # no reason
        ("cell", "deepen", "r", NOW.date()),  # expires today: not after today
        ("cell", "deepen", "r", NOW.date() + dt.timedelta(days=400)),  # more than a year ahead
        ("segment", "deepen", "r", UNTIL),  # not a field
    ],
)
def test_bad_overrides_are_refused(
    demo: tuple[Engine, dt.date], field: str, value: str, reason: str, until: dt.date
) -> None:
    engine, _ = demo
    with Session(engine) as session, pytest.raises(ParameterError):
        set_override(
            session,
            _principal("admin", None),
            1,
            field,
            value,
            reason=reason,
            expires_on=until,
            now=NOW,
        )


def test_set_and_clear_are_audited_and_replace(demo: tuple[Engine, dt.date]) -> None:
    engine, _ = demo
    admin = _principal("admin", None)
    with Session(engine) as session:
        last = session.scalars(select(Account.id).order_by(Account.id.desc())).first()
        first = set_override(
            session, admin, last, "cell", "nurture", reason="pilot", expires_on=UNTIL, now=NOW
        )
        second = set_override(
            session, admin, last, "cell", "deepen", reason="new budget", expires_on=UNTIL, now=NOW
        )
        force = override_list(session, everything(), today=NOW.date(), account_id=last)
        assert [o.id for o in force] == [second.id]  # the newer replaced the older
        history = override_list(
            session, everything(), today=NOW.date(), history=True, account_id=last
        )
        assert {o.id for o in history} == {first.id, second.id}
        clear_override(session, admin, second.id, now=NOW)
        assert override_list(session, everything(), today=NOW.date(), account_id=last) == []
        entries = session.scalars(
            select(AuditEntry).where(
                AuditEntry.object_type == "account", AuditEntry.object_id == str(last)
            )
        ).all()
    actions = [e.action for e in entries]
    assert actions.count("override.set") == 2 and actions.count("override.clear") == 1
    assert entries[0].detail["reason"] == "pilot" and entries[0].actor == "a-admin"


def test_expired_overrides_are_not_applied(demo: tuple[Engine, dt.date]) -> None:
    engine, _ = demo
    admin = _principal("admin", None)
    with Session(engine) as session:
        made = set_override(
            session, admin, 3, "priority", "12", reason="short", expires_on=UNTIL, now=NOW
        )
    scores = pd.DataFrame(
        {"account_id": [3, 4], "segment": ["deepen", "reduce"], "priority": [80.0, 5.0]}
    )
    on_last_day = apply_overrides(engine, scores, UNTIL)
    after = apply_overrides(engine, scores, UNTIL + dt.timedelta(days=1))
    assert on_last_day["priority"].tolist() == [12.0, 5.0]
    assert on_last_day["computed_priority"].iloc[0] == 80.0
    assert pd.isna(on_last_day["computed_priority"].iloc[1])
    assert after["priority"].tolist() == [80.0, 5.0] and after["computed_priority"].isna().all()
    with Session(engine) as session:
        clear_override(session, admin, made.id, now=NOW)


@pytest.mark.slow  # two scoring runs of a 120-account company
def test_the_scoring_run_keeps_the_override(demo: tuple[Engine, dt.date]) -> None:
    engine, as_of = demo
    admin = _principal("admin", None)
    with Session(engine) as session:
        account = session.scalars(select(Account).order_by(Account.id)).first()
        assert account is not None
    first = run_scoring(engine, as_of, created_at=NOW)
    with Session(engine) as session:
        computed = session.scalars(
            select(AccountScore).where(
                AccountScore.snapshot_id == first, AccountScore.account_id == account.id
            )
        ).one()
        pinned_cell = "reduce" if computed.segment != "reduce" else "deepen"
        assert computed.computed_segment is None and computed.computed_priority is None
        computed_cell, computed_priority = computed.segment, computed.priority
        cell = set_override(
            session,
            admin,
            account.key,
            "cell",
            pinned_cell,
            reason="exit",
            expires_on=as_of + dt.timedelta(days=90),
            now=dt.datetime.combine(as_of, dt.time(9)),
        )
        set_override(
            session,
            admin,
            account.key,
            "priority",
            "99.5",
            reason="exit",
            expires_on=as_of + dt.timedelta(days=90),
            now=dt.datetime.combine(as_of, dt.time(9)),
        )
    again = run_scoring(engine, as_of, created_at=NOW)
    with Session(engine) as session:
        row = session.scalars(
            select(AccountScore).where(
                AccountScore.snapshot_id == again, AccountScore.account_id == account.id
            )
        ).one()
        others = session.scalars(
            select(AccountScore).where(
                AccountScore.snapshot_id == again, AccountScore.account_id != account.id
            )
        ).all()
        assert (row.segment, row.priority) == (pinned_cell, 99.5)
        assert row.computed_segment == computed_cell
        assert row.computed_priority == pytest.approx(computed_priority)
        assert all(o.computed_segment is None and o.computed_priority is None for o in others)
        clear_override(session, admin, cell.id, now=NOW)
