"""Who sees which accounts: the one visibility rule, as a SQL filter on ``accounts``.

Every query that returns accounts, their scores or totals over them takes the filter made here
(``visible=``), so a listing, its total, the zone totals, a search, an export and a detail page by
id all apply the same rule. The rule, by role:

- **admin** sees every account.
- **manager** sees the accounts of the people they manage — their *reach*: themselves, the reps
  whose ``manager_id`` is the manager's rep row, and every rep in the manager's team
  (``team_id``) — meaning accounts owned by someone in the reach, or on whose account team
  (``account_team_members``) someone in the reach sits.
- **rep** sees the accounts they own and those on whose account team they sit.
- **success** (customer success) sees the accounts on whose account team they sit
  (``account_team_members``), and nothing else; they may write notes on them.
- **marketing** and **finance** (finance / executive) see every account: marketing works on
  segments and nurture lists, finance on company KPIs. Neither gets per-rep coaching data (plans,
  1on1 agendas, KPIs by rep; :data:`SALES`), which the routes refuse by role. Finance is
  read-only: its users and tokens hold the ``read`` scope alone.

A manager or rep whose user has no rep link (or a link to a rep that is not in the store) sees
nothing. Surfaces turn the current user into a :class:`Principal` and ask :func:`account_filter`.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, Select, false, or_, select, true, union_all
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.elements import True_
from sqlalchemy.sql.visitors import iterate, replacement_traverse

from tillage.labels import unique_labels
from tillage.store.schema import Account, AccountScore, AccountTeamMember, Rep, Team

SCOPES: tuple[str, ...] = ("read", "write", "admin")
"""Token scopes: ``read`` for GET requests, ``write`` for changes, ``admin`` for user admin."""

ROLE_SCOPES: dict[str, frozenset[str]] = {
    "admin": frozenset(SCOPES),
    "manager": frozenset({"read", "write"}),
    "rep": frozenset({"read", "write"}),
    "success": frozenset({"read", "write"}),
    "marketing": frozenset({"read", "write"}),
    "finance": frozenset({"read"}),
}
"""The scopes each role may hold; a browser session holds all of them, a token a subset."""

SALES: tuple[str, ...] = ("admin", "manager", "rep")
"""The sales roles: the only ones that see per-rep work and coaching data (plans, 1on1
agendas, KPIs by rep)."""
SEES_ALL: tuple[str, ...] = ("admin", "marketing", "finance")
"""The roles that see every account (and every rep's name beside it)."""

AccountFilter = ColumnElement[bool]
"""A boolean SQL expression over :class:`~tillage.store.schema.Account` rows."""


@dataclass(frozen=True)
class Principal:
    """The authenticated caller of one request.

    ``via`` is ``session`` (browser cookie), ``token`` (bearer token) or ``cli`` (the operator at
    the command line). ``csrf_token`` is set for sessions only.
    """

    user_id: int | None
    login: str
    display_name: str
    role: str
    rep_key: str | None
    scopes: frozenset[str] = field(default_factory=frozenset)
    via: str = "session"
    token_id: int | None = None
    csrf_token: str | None = None

    @property
    def is_admin(self) -> bool:
        """Whether the caller has the admin role."""
        return self.role == "admin"


OPERATOR = Principal(
    user_id=None,
    login="cli",
    display_name="command line",
    role="admin",
    rep_key=None,
    scopes=frozenset(SCOPES),
    via="cli",
)
"""The person at the command line, who has the store's files and so sees everything."""


def everything() -> AccountFilter:
    """The filter that lets every account through (admins, the CLI operator)."""
    return true()


def lets_everything(visible: AccountFilter) -> bool:
    """Whether ``visible`` is :func:`everything` (a caller nothing is hidden from): no filter to
    apply and no ids to read."""
    return isinstance(visible, True_)


def rep_reach(principal: Principal) -> Select[tuple[int]] | None:
    """The ids of the reps whose accounts a manager or rep sees (their *reach*, see the module
    doc); ``None`` for a user who sees through no rep (an admin sees everything, any other
    user without a rep link nothing)."""
    if principal.role not in ROLE_SCOPES or principal.role in SEES_ALL or not principal.rep_key:
        return None
    me = select(Rep.id).where(Rep.key == principal.rep_key).scalar_subquery()
    if principal.role == "manager":
        my_team = select(Rep.team_id).where(Rep.key == principal.rep_key).scalar_subquery()
        return select(Rep.id).where(or_(Rep.id == me, Rep.manager_id == me, Rep.team_id == my_team))
    return select(Rep.id).where(Rep.id == me)


def account_filter(principal: Principal) -> AccountFilter:
    """The accounts ``principal`` may see, as a filter on ``accounts`` (see the module doc).
    The filter depends on the role and linked rep alone, so it is built once per pair (every
    request asks; the same object also lets :func:`tillage.services.page_cache.filter_key`
    compile it once)."""
    return _filter_of(principal.role, principal.rep_key)


@functools.lru_cache(maxsize=1024)
def _filter_of(role: str, rep_key: str | None) -> AccountFilter:
    principal = Principal(user_id=None, login="", display_name="", role=role, rep_key=rep_key)
    if principal.role in SEES_ALL:
        return everything()
    reach = rep_reach(principal)
    if reach is None:
        return false()
    if principal.role == "success":  # the account teams they sit on, not accounts they own
        return Account.id.in_(
            select(AccountTeamMember.account_id).where(AccountTeamMember.rep_id.in_(reach))
        )
    # Two sets of ids, each read from an index alone (accounts by owner, account-team rows by
    # rep: migration 0013), joined by OR. Under an OR, PostgreSQL keeps each IN as a *hashed*
    # subplan, built once and probed per row: a query over many accounts (a plan, a total, a
    # listing's order) reads each set once. For one account that builds both whole sets (30 ms
    # at 100,000 accounts): :func:`for_one_account` gives the form that checks one id instead.
    owned = aliased(Account)
    owned_ids = select(owned.id).where(owned.owner_id.in_(reach))
    team_ids = select(AccountTeamMember.account_id).where(AccountTeamMember.rep_id.in_(reach))
    visible = or_(Account.id.in_(owned_ids), Account.id.in_(team_ids))
    # one IN over the union, ANDed: a semi-join PostgreSQL plans per id (0.1 ms for one account;
    # 2.5× slower than the OR in a month's plan, so only where one account is asked)
    _ONE[id(visible)] = (visible, Account.id.in_(union_all(owned_ids, team_ids)))
    return visible


_ONE: dict[int, tuple[AccountFilter, AccountFilter]] = {}


def for_one_account(visible: AccountFilter) -> AccountFilter:
    """``visible`` in the form that checks one account (or a few, by id) fastest: the same
    accounts; ``visible`` itself unless :func:`account_filter` made it."""
    found = _ONE.get(id(visible))
    return found[1] if found is not None and found[0] is visible else visible


def on_rows(visible: AccountFilter, account_id: ColumnElement[int]) -> AccountFilter:
    """``visible`` (a filter on ``accounts``) as a filter on the rows of another table whose
    ``account_id`` column is given: the account's id read from that column. A query over a
    snapshot's scores or deals then needs no join to ``accounts``, and one that walks the scores
    in sort order filters as it walks (stopping at its page). Check :func:`reads_accounts` on
    the result: a filter that reads other account columns still needs the join."""
    if lets_everything(visible):
        return visible
    swap = {Account.__table__.c.id: account_id}
    return replacement_traverse(visible, {}, lambda element: swap.get(element))  # type: ignore[arg-type]


def on_score_rows(visible: AccountFilter) -> AccountFilter:
    """:func:`on_rows` on ``account_scores.account_id``."""
    return on_rows(visible, AccountScore.__table__.c.account_id)


def reads_accounts(condition: ColumnElement[bool]) -> bool:
    """Whether ``condition`` reads a column of ``accounts`` (so a query must join it)."""
    return any(
        getattr(element, "table", None) is Account.__table__ for element in iterate(condition)
    )


def reach_ids(session: Session, principal: Principal) -> set[int] | None:
    """The ids of the reps in ``principal``'s reach (see the module doc); ``None`` for a role
    that sees every account (:data:`SEES_ALL`), who reaches every rep, and an empty set for a
    user who sees through no rep."""
    if principal.role in SEES_ALL:
        return None
    reach = rep_reach(principal)
    return set() if reach is None else set(session.scalars(reach))


def reach_names(session: Session, principal: Principal) -> tuple[set[str], set[str]] | None:
    """The labels of the reps in ``principal``'s reach and of their teams (how KPI rows by rep
    and by team are labelled, :mod:`tillage.labels`); ``None`` for an admin, who sees
    every row (as every role of :data:`SEES_ALL`)."""
    if principal.role in SEES_ALL:
        return None
    reach = rep_reach(principal)
    if reach is None:
        return set(), set()
    mine = set(session.scalars(reach))
    reps = unique_labels(session.execute(select(Rep.id, Rep.key, Rep.name)).all())
    teams = unique_labels(session.execute(select(Team.id, Team.key, Team.name)).all())
    team_of = dict(session.execute(select(Rep.id, Rep.team_id).where(Rep.id.in_(mine))).all())
    return (
        {reps[i] for i in mine if i in reps},
        {teams[t] for t in team_of.values() if t is not None and t in teams},
    )


@dataclass(frozen=True)
class RepRef:
    """A rep as pickers show them: id, key, name, team name and role (``rep`` or ``manager``)."""

    id: int
    key: str
    name: str
    team: str | None
    role: str


def reach_reps(session: Session, principal: Principal) -> list[RepRef]:
    """The reps in ``principal``'s reach (every rep for an admin, none for a user who sees
    through no rep), by team name, then rep name."""
    query = select(Rep.id, Rep.key, Rep.name, Team.name, Rep.role).outerjoin(
        Team, Team.id == Rep.team_id
    )
    if principal.role not in SEES_ALL:
        reach = rep_reach(principal)
        if reach is None:
            return []
        query = query.where(Rep.id.in_(reach))
    rows = session.execute(query.order_by(Team.name, Rep.name, Rep.id)).all()
    return [RepRef(int(i), str(k), str(n), t, str(r)) for i, k, n, t, r in rows]
