"""Users, API tokens and the audit log: the store side of logging in.

Passwords are hashed with argon2id (:mod:`pwdlib`); API tokens are random 256-bit strings of
which only the SHA-256 is stored (a fast hash is right for high-entropy secrets). Every
function takes the time ``now`` (naive UTC) as an argument: nothing here reads the clock, and the
caller commits.

Login throttling lives in the store, so it holds across server processes and restarts: failed
logins are audit entries (``login.failed``). It slows guessing without ever locking the real
user out (OWASP's "slow down online guessing" with device cookies):

* per login name: the first :data:`FREE_FAILURES` failures since its last successful login
  (within :data:`LOGIN_WINDOW`) cost nothing; after that each attempt must wait
  :func:`backoff` seconds after the previous failure — 1, 2, 4 … doubling up to
  :data:`MAX_LOGIN_DELAY`. Nothing is ever refused for longer than that;
* per client address: after :data:`FREE_FAILURES_PER_CLIENT` failures within
  :data:`THROTTLE_WINDOW`, attempts from it wait 1, 2, 4 … up to :data:`MAX_CLIENT_DELAY`
  seconds after its last failure (one address may be a whole office behind a proxy: it is
  slowed, not shut);
* a browser that has logged in as this user before (``device``: the nonce of its signed device
  cookie, see ``tillage.serving.auth``) is exempt from both, and is slowed only by its own failures.
  An attacker guessing from elsewhere therefore cannot keep the real user out.

Refusals raise :class:`~tillage.errors.TooManyAttempts` with the seconds to wait.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import math
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tillage.errors import (
    AuthenticationError,
    DataValidationError,
    NotFoundError,
    PermissionDenied,
    TooManyAttempts,
)
from tillage.store.access import ROLE_SCOPES, SCOPES, SEES_ALL, Principal
from tillage.store.schema import ROLES, ApiToken, AuditEntry, Rep, Team, User

MIN_PASSWORD_LENGTH = 8
THROTTLE_WINDOW = dt.timedelta(minutes=15)  # failures per client address count this long
LOGIN_WINDOW = dt.timedelta(days=1)  # failures per login (or device) count this long
FREE_FAILURES = 3  # failures of a login (or device) before attempts are slowed
FREE_FAILURES_PER_CLIENT = 20  # failures of one address before its attempts are slowed
MAX_LOGIN_DELAY = 300  # seconds: the longest wait ever asked of a login
MAX_CLIENT_DELAY = 60  # seconds: the longest wait ever asked of an address
TOKEN_PREFIX = "tlg_"

_hasher = PasswordHash((Argon2Hasher(),))


@functools.cache
def unknown_login_hash() -> str:
    """A hash to verify against when the login is unknown (the answer takes as long as for a
    real user); made when a server starts (or at the first such login), not at import: an argon2
    hash costs ~0.2 s, which every ``tillage`` command importing this module paid."""
    return _hasher.hash("tillage: no such user")


def utcnow() -> dt.datetime:
    """The current time as naive UTC, the form every time in these tables takes."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def hash_password(password: str) -> str:
    """An argon2id hash of ``password`` (refused when shorter than 8 characters)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise DataValidationError(
            f"the password is too short: use at least {MIN_PASSWORD_LENGTH} characters"
        )
    return _hasher.hash(password)


def normalize_login(login: str) -> str:
    """Logins compare without case and surrounding spaces."""
    return login.strip().lower()


def audit(
    session: Session,
    action: str,
    *,
    now: dt.datetime,
    user_id: int | None = None,
    actor: str | None = None,
    client: str | None = None,
    object_type: str | None = None,
    object_id: object = None,
    detail: dict | None = None,
) -> None:
    """Append one entry to the audit log (in the caller's transaction)."""
    session.add(
        AuditEntry(
            at=now,
            user_id=user_id,
            actor=actor,
            client=client,
            action=action,
            object_type=object_type,
            object_id=None if object_id is None else str(object_id),
            detail=detail,
        )
    )


def _check_role(role: str, rep_key: str | None) -> None:
    if role not in ROLES:
        raise DataValidationError(f"unknown role {role!r}: choose one of {', '.join(ROLES)}")
    if role not in SEES_ALL and not rep_key:
        raise DataValidationError(
            f"a {role} needs the key of their row in reps (--rep), which decides what they see"
        )


def get_user(session: Session, user_id: int) -> User:
    """The user with id ``user_id``."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFoundError(f"user {user_id} does not exist")
    return user


def find_user(session: Session, login: str) -> User:
    """The user with login ``login``; :class:`NotFoundError` names the login otherwise."""
    user = session.scalars(select(User).where(User.login == normalize_login(login))).first()
    if user is None:
        raise NotFoundError(f"no user with login {login!r}: see `tillage users list`")
    return user


def list_users(session: Session) -> Sequence[User]:
    """Every user, by login."""
    return session.scalars(select(User).order_by(User.login)).all()


def rep_exists(session: Session, rep_key: str) -> bool:
    """Whether the store has a rep with natural key ``rep_key``."""
    return session.scalar(select(func.count()).where(Rep.key == rep_key)) == 1


@dataclass(frozen=True)
class RepLabel:
    """A rep as a user list names them: key, name and team name (``None`` without a team)."""

    key: str
    name: str
    team: str | None


def rep_labels(session: Session) -> dict[str, RepLabel]:
    """Every rep by natural key, in order of name."""
    rows = session.execute(
        select(Rep.key, Rep.name, Team.name)
        .outerjoin(Team, Team.id == Rep.team_id)
        .order_by(Rep.name, Rep.key)
    )
    return {key: RepLabel(key, name, team) for key, name, team in rows}


def create_user(
    session: Session,
    *,
    login: str,
    display_name: str,
    role: str,
    password: str | None,
    now: dt.datetime,
    rep_key: str | None = None,
    by: Principal | None = None,
) -> User:
    """Add a user; ``password`` ``None`` makes a user that can only use tokens made for it."""
    login = normalize_login(login)
    if not login:
        raise DataValidationError("the login is empty")
    _check_role(role, rep_key)
    if session.scalars(select(User.id).where(User.login == login)).first() is not None:
        raise DataValidationError(f"a user with login {login!r} already exists")
    user = User(
        login=login,
        display_name=display_name or login,
        role=role,
        rep_key=rep_key if role != "admin" else None,
        password_hash=None if password is None else hash_password(password),
        disabled=False,
        session_epoch=0,
        created_at=now,
    )
    session.add(user)
    session.flush()
    audit(
        session,
        "user.create",
        now=now,
        user_id=by.user_id if by else None,
        actor=by.login if by else None,
        object_type="user",
        object_id=user.id,
        detail={"login": login, "role": role, "rep_key": user.rep_key},
    )
    return user


def update_user(
    session: Session,
    user: User,
    *,
    now: dt.datetime,
    by: Principal | None = None,
    display_name: str | None = None,
    role: str | None = None,
    rep_key: str | None = None,
    disabled: bool | None = None,
    password: str | None = None,
) -> User:
    """Change a user's fields; disabling or a new password ends every session of the user."""
    changed: dict[str, object] = {}
    if role is not None or rep_key is not None:
        new_role = role or user.role
        new_key = rep_key if rep_key is not None else user.rep_key
        _check_role(new_role, new_key)
        user.role, user.rep_key = new_role, new_key if new_role != "admin" else None
        changed.update(role=user.role, rep_key=user.rep_key)
    if display_name is not None:
        user.display_name = changed["display_name"] = display_name
    if disabled is not None:
        user.disabled = changed["disabled"] = disabled
    if password is not None:
        user.password_hash = hash_password(password)
        changed["password"] = "changed"
    if disabled or password is not None or role is not None:
        user.session_epoch += 1
    audit(
        session,
        "user.update",
        now=now,
        user_id=by.user_id if by else None,
        actor=by.login if by else None,
        object_type="user",
        object_id=user.id,
        detail=changed,
    )
    return user


def backoff(failures: int, free: int, cap: int) -> int:
    """Seconds to wait after the latest of ``failures`` recent failures: 0 for the first
    ``free``, then ``2**(failures - free)`` (1, 2, 4 …) capped at ``cap``."""
    if failures < free:
        return 0
    return min(cap, 2 ** min(failures - free, 30))


def _failure_times(session: Session, since: dt.datetime, **where: str) -> list[dt.datetime]:
    query = select(AuditEntry.at, AuditEntry.detail).where(
        AuditEntry.action == "login.failed", AuditEntry.at > since
    )
    if "login" in where:
        query = query.where(AuditEntry.actor == where["login"])
    if "client" in where:
        query = query.where(AuditEntry.client == where["client"])
    rows = session.execute(query).all()
    if "device" in where:
        rows = [r for r in rows if (r.detail or {}).get("device") == where["device"]]
    return [r.at for r in rows]


def _wait(times: list[dt.datetime], free: int, cap: int, now: dt.datetime) -> int:
    """Whole seconds still to wait (0: go ahead) after the failures at ``times``."""
    delay = backoff(len(times), free, cap)
    if not delay:
        return 0
    remaining = (max(times) + dt.timedelta(seconds=delay) - now).total_seconds()
    return max(0, math.ceil(remaining))


def check_throttle(
    session: Session,
    login: str,
    client: str | None,
    *,
    now: dt.datetime,
    device: str | None = None,
) -> None:
    """Raise :class:`TooManyAttempts` if this attempt comes too soon after recent failures of
    ``login`` or ``client`` (or, from a known ``device``, of that device); see the module."""
    login = normalize_login(login)
    last_ok = session.scalar(select(User.last_login_at).where(User.login == login))
    since = max(now - LOGIN_WINDOW, last_ok) if last_ok else now - LOGIN_WINDOW
    if device is not None:
        waits = [
            _wait(
                _failure_times(session, since, login=login, device=device),
                FREE_FAILURES,
                MAX_LOGIN_DELAY,
                now,
            )
        ]
    else:
        waits = [
            _wait(_failure_times(session, since, login=login), FREE_FAILURES, MAX_LOGIN_DELAY, now)
        ]
        if client:
            recent = _failure_times(session, now - THROTTLE_WINDOW, client=client)
            waits.append(_wait(recent, FREE_FAILURES_PER_CLIENT, MAX_CLIENT_DELAY, now))
    wait = max(waits)
    if wait > 0:
        raise TooManyAttempts(
            f"too many failed logins; try again in {wait} seconds", retry_after=wait
        )


def authenticate(
    session: Session,
    login: str,
    password: str,
    *,
    client: str | None,
    now: dt.datetime,
    device: str | None = None,
) -> User:
    """The user whose ``login`` and ``password`` these are, after the throttle check.

    Records ``login`` or ``login.failed`` in the audit log; the caller commits even on failure
    (the failure record is what throttles). Unknown logins, wrong passwords and disabled users
    get the same :class:`AuthenticationError` and take the same time. ``device`` is the nonce of
    the caller's device cookie when it was issued to this login (see :func:`check_throttle`).
    """
    login = normalize_login(login)
    check_throttle(session, login, client, now=now, device=device)
    user = session.scalars(select(User).where(User.login == login)).first()
    stored = user.password_hash if user is not None and user.password_hash else unknown_login_hash()
    valid, new_hash = _hasher.verify_and_update(password, stored)
    if user is None or user.disabled or not user.password_hash or not valid:
        audit(
            session,
            "login.failed",
            now=now,
            user_id=user.id if user else None,
            actor=login,
            client=client,
            object_type="user",
            object_id=user.id if user else None,
            detail={"device": device} if device else None,
        )
        raise AuthenticationError("wrong login or password")
    if new_hash is not None:
        user.password_hash = new_hash
    user.last_login_at = now
    audit(session, "login", now=now, user_id=user.id, actor=login, client=client)
    return user


def principal_for(user: User, *, via: str, scopes: Iterable[str] | None = None) -> Principal:
    """The :class:`Principal` of ``user``: all scopes of the role, or ``scopes`` within them."""
    allowed = ROLE_SCOPES.get(user.role, frozenset())
    return Principal(
        user_id=user.id,
        login=user.login,
        display_name=user.display_name,
        role=user.role,
        rep_key=user.rep_key,
        scopes=allowed if scopes is None else allowed & frozenset(scopes),
        via=via,
    )


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(
    session: Session,
    user: User,
    *,
    name: str,
    scopes: Iterable[str],
    now: dt.datetime,
    expires_at: dt.datetime | None = None,
    client: str | None = None,
    by: Principal | None = None,
) -> tuple[ApiToken, str]:
    """A new API token for ``user``: returns the row and the token, shown this once only."""
    wanted = sorted(set(scopes), key=SCOPES.index) if set(scopes) <= set(SCOPES) else None
    if not wanted:
        raise DataValidationError(f"token scopes must be a non-empty subset of {', '.join(SCOPES)}")
    beyond = set(wanted) - ROLE_SCOPES[user.role]
    if beyond:
        raise PermissionDenied(
            f"a {user.role} cannot hold the scope(s) {', '.join(sorted(beyond))}"
        )
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user_id=user.id,
        name=name,
        prefix=secret[:12],
        token_hash=_token_hash(secret),
        scopes=" ".join(wanted),
        created_at=now,
        expires_at=expires_at,
    )
    session.add(token)
    session.flush()
    audit(
        session,
        "token.create",
        now=now,
        user_id=by.user_id if by else user.id,
        actor=by.login if by else user.login,
        client=client,
        object_type="api_token",
        object_id=token.id,
        detail={"for": user.login, "name": name, "scopes": token.scopes},
    )
    return token, secret


def principal_for_token(session: Session, secret: str, *, now: dt.datetime) -> Principal:
    """The caller behind bearer token ``secret``; :class:`AuthenticationError` if it is unknown,
    revoked, expired, or its user is disabled."""
    row = session.execute(
        select(ApiToken, User)
        .join(User, User.id == ApiToken.user_id)
        .where(ApiToken.token_hash == _token_hash(secret))
    ).first()
    if row is None:
        raise AuthenticationError("unknown API token")
    token, user = row.ApiToken, row.User
    if token.revoked_at is not None:
        raise AuthenticationError("this API token was revoked")
    if token.expires_at is not None and token.expires_at <= now:
        raise AuthenticationError("this API token has expired; create a new one")
    if user.disabled:
        raise AuthenticationError("the user of this API token is disabled")
    if token.last_used_at is None or now - token.last_used_at > dt.timedelta(minutes=1):
        token.last_used_at = now
    principal = principal_for(user, via="token", scopes=token.scopes.split())
    return replace(principal, token_id=token.id)


def list_tokens(session: Session, user_id: int | None = None) -> Sequence[ApiToken]:
    """The tokens of one user (or of everyone), newest first."""
    query = select(ApiToken).order_by(ApiToken.id.desc())
    if user_id is not None:
        query = query.where(ApiToken.user_id == user_id)
    return session.scalars(query).all()


def revoke_token(
    session: Session, token_id: int, *, by: Principal, now: dt.datetime, client: str | None = None
) -> ApiToken:
    """Revoke a token: one's own, or anyone's for an admin. Others' tokens are not found."""
    token = session.get(ApiToken, token_id)
    if token is None or (token.user_id != by.user_id and not by.is_admin):
        raise NotFoundError(f"API token {token_id} does not exist")
    if token.revoked_at is None:
        token.revoked_at = now
        audit(
            session,
            "token.revoke",
            now=now,
            user_id=by.user_id,
            actor=by.login,
            client=client,
            object_type="api_token",
            object_id=token.id,
        )
    return token


def audit_entries(session: Session, *, limit: int = 100) -> Sequence[AuditEntry]:
    """The newest audit entries."""
    return session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)).all()


def audit_page(
    session: Session, *, action: str | None = None, limit: int = 100, offset: int = 0
) -> tuple[int, Sequence[AuditEntry]]:
    """The number of audit entries (of ``action`` when given) and the page of them at
    ``offset``, newest first."""
    query = select(AuditEntry)
    if action is not None:
        query = query.where(AuditEntry.action == action)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    page = query.order_by(AuditEntry.id.desc()).limit(limit).offset(offset)
    return int(total), session.scalars(page).all()
