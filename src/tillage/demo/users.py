"""The demo's users: an admin, the manager of the first team, a rep of that team and a rep of
another team; a customer-success user (the person who sits on the most account teams as CSM
outside the first team), a marketing user and a finance / executive user; with known passwords
(printed by ``tillage demo``, listed in docs/demo.md).

These passwords are public: never use them outside the demo store.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Engine, delete, exists, func, select

from tillage.store.database import session_scope
from tillage.store.schema import Account, AccountTeamMember, Rep, User
from tillage.store.users import create_user


@dataclass(frozen=True)
class DemoUser:
    """A demo login, its password and role, and the rep row it stands for (if any)."""

    login: str
    password: str
    role: str
    rep_key: str | None
    display_name: str


DEMO_PASSWORDS = {
    "admin": "demo-admin",
    "manager": "demo-manager",
    "rep": "demo-rep",
    "rep2": "demo-rep2",
    "success": "demo-success",
    "marketing": "demo-marketing",
    "finance": "demo-finance",
}


def _owner_in_team(session, team_id: int | None, other: bool) -> Rep:  # type: ignore[no-untyped-def]
    owns = exists().where(Account.owner_id == Rep.id)
    team = Rep.team_id != team_id if other else Rep.team_id == team_id
    rep = session.scalars(
        select(Rep).where(Rep.role == "rep", team, owns).order_by(Rep.id).limit(1)
    ).first()
    if rep is None:  # pragma: no cover - the demo always has reps with accounts in every team
        raise LookupError("the demo store has no rep owning accounts")
    return rep


def _csm_outside(session, teams: set[int | None]) -> Rep:  # type: ignore[no-untyped-def]
    """The person outside ``teams`` on the most account teams as CSM (anyone's team when the
    demo has no CSM outside them)."""
    seats = func.count(AccountTeamMember.id)
    query = (
        select(Rep)
        .join(AccountTeamMember, AccountTeamMember.rep_id == Rep.id)
        .where(AccountTeamMember.role == "csm")
        .group_by(Rep.id)
        .order_by(seats.desc(), Rep.id)
        .limit(1)
    )
    rep = session.scalars(query.where(Rep.team_id.not_in(teams))).first()
    rep = rep or session.scalars(query).first()
    if rep is None:  # pragma: no cover - the demo always has account teams with CSMs
        raise LookupError("the demo store has no CSM on an account team")
    return rep


#: Display names of the demo users without a rep, in the demo company's locale.
STAFF_NAMES: dict[str, dict[str, str]] = {
    "ja": {
        "admin": "システム管理者",
        "marketing": "マーケティング部",
        "finance": "経営企画・財務部",
    },
    "en": {"admin": "Admin", "marketing": "Marketing", "finance": "Finance"},
}


def create_demo_users(engine: Engine, *, now: dt.datetime, locale: str = "ja") -> list[DemoUser]:
    """Replace every user of the demo store with the seven demo users; return them. Users
    without a rep are named in the demo company's ``locale`` (:data:`STAFF_NAMES`)."""
    staff = STAFF_NAMES.get(locale, STAFF_NAMES["en"])
    with session_scope(engine) as session:
        manager = session.scalars(
            select(Rep).where(Rep.role == "manager").order_by(Rep.id).limit(1)
        ).one()
        rep = _owner_in_team(session, manager.team_id, other=False)
        rep2 = _owner_in_team(session, manager.team_id, other=True)
        users = [
            DemoUser("admin", DEMO_PASSWORDS["admin"], "admin", None, staff["admin"]),
            DemoUser("manager", DEMO_PASSWORDS["manager"], "manager", manager.key, manager.name),
            DemoUser("rep", DEMO_PASSWORDS["rep"], "rep", rep.key, rep.name),
            DemoUser("rep2", DEMO_PASSWORDS["rep2"], "rep", rep2.key, rep2.name),
        ]
        csm = _csm_outside(session, {manager.team_id, rep2.team_id})
        users += [
            DemoUser("success", DEMO_PASSWORDS["success"], "success", csm.key, csm.name),
            DemoUser(
                "marketing", DEMO_PASSWORDS["marketing"], "marketing", None, staff["marketing"]
            ),
            DemoUser("finance", DEMO_PASSWORDS["finance"], "finance", None, staff["finance"]),
        ]
        session.execute(delete(User))
        for user in users:
            create_user(
                session,
                login=user.login,
                display_name=user.display_name,
                role=user.role,
                password=user.password,
                rep_key=user.rep_key,
                now=now,
            )
    return users
