"""Account notes and the new roles' reach: who sees and writes which account's notes, the audit
log, and customer success seeing exactly the account teams they sit on (a small demo company)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from tillage.errors import NotFoundError, ParameterError, PermissionDenied
from tillage.services.activities import log_activity
from tillage.services.notes import account_notes, add_note, edit_note, handover_notes
from tillage.store.access import ROLE_SCOPES, Principal, account_filter
from tillage.store.records import AuditEntry
from tillage.store.schema import Account, AccountTeamMember, Activity, Rep
from tillage.store.users import create_user, principal_for

from ..scored_demo import load_demo

NOW = dt.datetime(2026, 10, 1, 9, 0)


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    _company, engine, _url = load_demo(tmp_path_factory.mktemp("notes") / "n.db", 120, 13, 6)
    return engine


def _who(role: str, rep_key: str | None = None, user_id: int | None = None) -> Principal:
    return Principal(
        user_id=user_id,
        login=f"{role}-{rep_key or 'x'}",
        display_name=role,
        role=role,
        rep_key=rep_key,
        scopes=ROLE_SCOPES[role],
    )


def _csm(session: Session) -> tuple[Rep, set[int]]:
    """A person on account teams, and the accounts of those teams."""
    rep_id = session.scalars(
        select(AccountTeamMember.rep_id).order_by(AccountTeamMember.id)
    ).first()
    rep = session.get(Rep, rep_id)
    assert rep is not None
    teams = set(
        session.scalars(
            select(AccountTeamMember.account_id).where(AccountTeamMember.rep_id == rep.id)
        )
    )
    return rep, teams


def test_success_sees_exactly_the_account_teams_they_sit_on(engine: Engine) -> None:
    with Session(engine) as session:
        rep, teams = _csm(session)
        owned = set(session.scalars(select(Account.id).where(Account.owner_id == rep.id)))
        seen = set(
            session.scalars(select(Account.id).where(account_filter(_who("success", rep.key))))
        )
        every = set(session.scalars(select(Account.id)))
    assert teams and seen == teams
    assert owned - teams, "the person also owns accounts, which success does not show"
    assert not (owned - teams) & seen
    for role in ("marketing", "finance"):
        with Session(engine) as session:
            assert (
                set(session.scalars(select(Account.id).where(account_filter(_who(role))))) == every
            )


def test_a_note_is_shared_with_every_role_that_sees_the_account_and_audited(
    engine: Engine,
) -> None:
    with Session(engine) as session:
        rep, teams = _csm(session)
        account_id = min(teams)
        success = _who("success", rep.key)
        note = add_note(session, success, account_id, "  予算は来期に持ち越し  ", now=NOW)
        assert note.text == "予算は来期に持ち越し" and note.author == success.login
        for reader in ("marketing", "finance", "admin"):
            texts = [
                n.text for n in account_notes(session, account_filter(_who(reader)), account_id)
            ]
            assert "予算は来期に持ち越し" in texts, reader
        owner_id = session.get(Account, account_id).owner_id  # type: ignore[union-attr]
        owner = _who("rep", session.get(Rep, owner_id).key)  # type: ignore[union-attr]
        assert [n.id for n in account_notes(session, account_filter(owner), account_id)] == [
            note.id
        ]
        logged = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "note.add").order_by(AuditEntry.id)
        ).all()
        assert logged[-1].object_id == str(account_id)
        assert logged[-1].detail == {"note_id": note.id, "text": "予算は来期に持ち越し"}


def test_finance_reads_but_never_writes(engine: Engine) -> None:
    with Session(engine) as session:
        account_id = session.scalars(select(Account.id)).first()
        with pytest.raises(PermissionDenied):
            add_note(session, _who("finance"), account_id, "read-only?", now=NOW)  # type: ignore[arg-type]


def test_success_cannot_see_or_write_outside_their_teams(engine: Engine) -> None:
    with Session(engine) as session:
        rep, teams = _csm(session)
        outside = session.scalars(select(Account.id).where(Account.id.not_in(teams))).first()
        assert outside is not None
        success = _who("success", rep.key)
        with pytest.raises(NotFoundError):
            add_note(session, success, outside, "not mine", now=NOW)
        with pytest.raises(NotFoundError):
            account_notes(session, account_filter(success), outside)


def test_only_the_author_or_an_admin_edits_and_the_audit_keeps_both_texts(engine: Engine) -> None:
    with Session(engine) as session:
        account_id = session.scalars(select(Account.id).order_by(Account.id.desc())).first()
        user = create_user(
            session,
            login="mkt@example.com",
            display_name="Marketing",
            role="marketing",
            password="pw-12345678",
            now=NOW,
        )
        session.commit()
        author = principal_for(user, via="session")
        note = add_note(session, author, account_id, "ウェビナー参加", now=NOW)  # type: ignore[arg-type]
        with pytest.raises(PermissionDenied):
            edit_note(session, _who("marketing"), account_id, note.id, "changed", now=NOW)  # type: ignore[arg-type]
        later = NOW + dt.timedelta(hours=1)
        edited = edit_note(session, author, account_id, note.id, "ウェビナー2回参加", now=later)  # type: ignore[arg-type]
        assert edited.edited and edited.updated_at == later and edited.created_at == NOW
        entry = session.scalars(
            select(AuditEntry)
            .where(AuditEntry.action == "note.edit")
            .order_by(AuditEntry.id.desc())
        ).first()
        assert entry is not None
        assert entry.detail == {
            "note_id": note.id,
            "before": "ウェビナー参加",
            "text": "ウェビナー2回参加",
        }
        with pytest.raises(ParameterError):
            add_note(session, author, account_id, "   ", now=NOW)  # type: ignore[arg-type]
        with pytest.raises(ParameterError):
            add_note(session, author, account_id, "x" * 4001, now=NOW)  # type: ignore[arg-type]


def test_handover_carries_the_newest_notes_of_each_account(engine: Engine) -> None:
    with Session(engine) as session:
        first, second = session.scalars(select(Account.id).order_by(Account.id).limit(2)).all()
        _, before = handover_notes(session, [first, second], per_account=3)
        admin = _who("admin")
        for hour in range(5):
            add_note(
                session, admin, first, f"note {hour}", now=NOW + dt.timedelta(days=30, hours=hour)
            )
        newest, counts = handover_notes(session, [first, second], per_account=3)
    assert [n.text for n in newest[first]] == ["note 4", "note 3", "note 2"]
    assert counts[first] == before.get(first, 0) + 5
    assert counts.get(second, 0) == before.get(second, 0)
    assert len(newest.get(second, [])) == min(3, counts.get(second, 0))


def test_success_logs_an_activity_the_engagement_features_will_count(engine: Engine) -> None:
    with Session(engine) as session:
        rep, teams = _csm(session)
        account_id = max(teams)
        success = _who("success", rep.key)
        when = dt.datetime(2026, 9, 29, 15, 0)
        logged = log_activity(
            session,
            success,
            account_id,
            type="qbr",
            occurred_at=when,
            subject="四半期レビュー",
            duration_minutes=60,
            now=NOW,
        )
        row = session.get(Activity, logged.id)
        assert row is not None
        assert (row.account_id, row.rep_id, row.type, row.occurred_at) == (
            account_id,
            rep.id,
            "qbr",
            when,
        )
        assert row.key.startswith("tillage-activity-")
        entry = session.scalars(
            select(AuditEntry)
            .where(AuditEntry.action == "activity.log")
            .order_by(AuditEntry.id.desc())
        ).first()
        assert entry is not None and entry.detail["activity_id"] == logged.id  # type: ignore[index]
        outside = session.scalars(select(Account.id).where(Account.id.not_in(teams))).first()
        with pytest.raises(NotFoundError):
            log_activity(
                session,
                success,
                outside,
                type="call",
                occurred_at=when,
                subject=None,
                duration_minutes=None,
                now=NOW,
            )  # type: ignore[arg-type]
        for role in ("marketing", "finance"):
            with pytest.raises(PermissionDenied):
                log_activity(
                    session,
                    _who(role),
                    account_id,
                    type="call",
                    occurred_at=when,
                    subject=None,
                    duration_minutes=None,
                    now=NOW,
                )
        with pytest.raises(ParameterError):
            log_activity(
                session,
                success,
                account_id,
                type="call",
                occurred_at=NOW + dt.timedelta(days=3),
                subject=None,
                duration_minutes=None,
                now=NOW,
            )
        with pytest.raises(ParameterError):
            log_activity(
                session,
                success,
                account_id,
                type="lunch",
                occurred_at=when,
                subject=None,
                duration_minutes=None,
                now=NOW,
            )
