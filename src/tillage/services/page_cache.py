"""The per-snapshot page cache: what the slow pages compute (KPI tables, the period review, 1on1
agendas, departure simulations, list totals) computed once per state of the store and kept in
the ``page_cache`` table.

**Why a cache table read on demand, not tables written by the scoring run.** What a page shows
depends on more than the snapshot: the period and cut the user picks, the language, the caller's
reach (a manager's review counts only their accounts), and data that can change after the run
(an import, a logged activity, a saved strategy). Materialising every combination in the
scoring run would cost minutes per run for pages nobody opens, and still go stale on the next
import. A row here is written the first time a combination is asked for and read by every later
request, from every server process, until the store changes.

**The key** (:func:`cache_key`) is the SHA-256 of the page's kind, its parameters and the store
version (:func:`tillage.store.page_cache.store_version`): the newest complete snapshot (id, as-of
date, when it was written), the newest strategy version, import and activity. So a new snapshot,
a strategy saved or accepted from a review, an import, or an activity logged from the page makes
every key new; the old rows are deleted on the next write (or with their snapshot). Where the
answer depends on who asks, the parameters hold the caller's reach (:func:`reach_key`): ``all``
for an admin, else the role, the linked rep and the ids of the reps reached.

**Payloads**: typed answers (pydantic models) as their JSON (floats round-trip exactly), frames
as Parquet (dtypes kept). A value read back is equal to the value computed, so a page and its
``/api/v1`` twin stay identical whichever of them filled the cache.

The cache is an optimisation only: a store without the table (not yet migrated) or a failed
read or write computes the page as before.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import weakref
from collections.abc import Callable
from dataclasses import replace
from typing import TypeVar

import pandas as pd
from pydantic import BaseModel
from sqlalchemy import ColumnElement, Engine, create_engine, event, inspect
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from tillage import __version__
from tillage.store.access import Principal, reach_ids
from tillage.store.page_cache import StoreVersion, get_entry, get_slice, put_entry, store_version
from tillage.store.users import utcnow

M = TypeVar("M", bound=BaseModel)
log = logging.getLogger(__name__)


def cache_key(kind: str, version: StoreVersion, params: dict[str, object]) -> str:
    """The SHA-256 (hex) of ``kind``, the store ``version``, ``params`` and tillage's version
    (a new release may compute a page differently)."""
    text = json.dumps(
        [kind, __version__, version.parts(), params], sort_keys=True, default=str
    ).encode()
    return hashlib.sha256(text).hexdigest()


def reach_key(session: Session, principal: Principal) -> str:
    """Who the answer is for, as far as it changes the answer: ``all`` for an admin, else the
    role, linked rep and the sorted ids of the reps in reach."""
    if principal.is_admin:
        return "all"
    ids = sorted(reach_ids(session, principal) or ())
    return f"{principal.role}:{principal.rep_key}:{','.join(map(str, ids))}"


def filter_key(visible: ColumnElement[bool]) -> str:
    """The SHA-256 of the caller's account filter as SQL with its values written in (the same
    for every caller who sees the same accounts by the same rule). Compiled once per filter
    object (:func:`tillage.store.access.account_filter` hands out one per role and rep)."""
    found = _FILTER_KEYS.get(id(visible))
    if found is not None and found[0] is visible:
        return found[1]
    text = str(visible.compile(compile_kwargs={"literal_binds": True}))
    key = hashlib.sha256(text.encode()).hexdigest()
    if len(_FILTER_KEYS) >= 1024:
        _FILTER_KEYS.clear()
    _FILTER_KEYS[id(visible)] = (visible, key)  # the filter held, so its id is not reused
    return key


_FILTER_KEYS: dict[int, tuple[ColumnElement[bool], str]] = {}


_WRITERS: weakref.WeakKeyDictionary[Engine, Engine] = weakref.WeakKeyDictionary()
_TABLES: weakref.WeakKeyDictionary[Engine, bool] = weakref.WeakKeyDictionary()  # found
WRITE_WAIT = 1.0
"""Seconds a cache write waits for a connection of its own before it gives up (the page is
then computed again by the next request; nothing waits on the request's pool)."""


def _engine(session: Session) -> Engine:
    bind = session.get_bind()
    return bind if isinstance(bind, Engine) else bind.engine


def _has_table(session: Session) -> bool:
    """Whether the store has the ``page_cache`` table (once found, not asked again per engine),
    asked on the session's own connection: a request never holds one connection while it
    waits for a second (with every request doing so, the pool would run dry)."""
    engine = _engine(session)
    if engine not in _TABLES:
        try:
            if not inspect(session.connection()).has_table("page_cache"):
                return False
        except SQLAlchemyError:
            return False
        _TABLES[engine] = True
    return True


def _writer(engine: Engine) -> Engine:
    """The engine cache writes use: for a server database, a small pool of its own (a write
    waits at most :data:`WRITE_WAIT` for a connection, so requests that each hold one of the
    app's connections never wait on each other for a second one); an embedded store's own."""
    if engine.dialect.name == "sqlite":
        return engine
    if engine not in _WRITERS:
        writer = create_engine(
            engine.url, pool_size=1, max_overflow=2, pool_timeout=WRITE_WAIT, pool_pre_ping=True
        )
        _WRITERS[engine] = writer
        event.listen(engine, "engine_disposed", lambda _engine: writer.dispose())
    return _WRITERS[engine]


def _read(session: Session, key: str) -> bytes | None:
    """Read on the request's own session and connection (no second connection per request);
    a store without the table reads nothing."""
    if not _has_table(session):
        return None
    try:
        return get_entry(session, key)
    except SQLAlchemyError as exc:  # a locked store: compute as before
        log.debug("page cache not read: %s", exc)
        return None


def _write(
    session: Session,
    version: StoreVersion,
    kind: str,
    key: str,
    payload: bytes,
    *,
    replacing: bool = False,
) -> None:
    """Write on a short session of its own: the request's session and its transaction are left
    as they are, whatever happens to the cache. ``replacing``: a row under ``key`` is replaced
    (else the first write of a key stays)."""
    if not _has_table(session):
        return
    try:
        with Session(bind=_writer(_engine(session))) as own:
            put_entry(
                own, version.snapshot_id, kind, key, payload, now=utcnow(), replacing=replacing
            )
    except SQLAlchemyError as exc:
        log.debug("page cache not written: %s", exc)


class PageCache:
    """The cache as of the store's current version (read once, at creation): :meth:`get` and
    :meth:`put` payloads by kind and parameters. Without a complete snapshot it holds nothing."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.version = store_version(session)

    def get(self, kind: str, params: dict[str, object]) -> bytes | None:
        """The payload of ``kind`` with ``params``, or ``None``."""
        if self.version is None:
            return None
        return _read(self.session, cache_key(kind, self.version, params))

    def slice(self, kind: str, params: dict[str, object], start: int, length: int) -> bytes | None:
        """Bytes ``start … start + length`` of the payload of ``kind`` with ``params`` (fewer
        past its end), or ``None`` when it is not kept."""
        if self.version is None or not _has_table(self.session):
            return None
        try:
            return get_slice(self.session, cache_key(kind, self.version, params), start, length)
        except SQLAlchemyError as exc:  # a locked store: compute as before
            log.debug("page cache not read: %s", exc)
            return None

    def put(
        self, kind: str, params: dict[str, object], payload: bytes, *, replacing: bool = False
    ) -> None:
        """Keep ``payload`` for ``kind`` with ``params`` (nothing without a snapshot);
        ``replacing``: in place of what the key held."""
        if self.version is not None:
            key = cache_key(kind, self.version, params)
            _write(self.session, self.version, kind, key, payload, replacing=replacing)

    def narrowed(self, **parts: object) -> PageCache:
        """This cache with keys that name the store version with ``parts`` set (e.g.
        ``marks=(0, "")``): for a payload that a change of those parts leaves as it is (a
        plan mark does not change the contact cadence), or that checks them itself."""
        narrow = PageCache.__new__(PageCache)
        narrow.session = self.session
        narrow.version = None if self.version is None else replace(self.version, **parts)  # type: ignore[arg-type]
        return narrow


def cached_bytes(
    session: Session, kind: str, params: dict[str, object], compute: Callable[[], bytes]
) -> bytes:
    """The payload of ``kind`` with ``params`` for the store's current version: read from the
    cache, else ``compute()``-d and stored. Without a complete snapshot nothing is cached."""
    cache = PageCache(session)
    found = cache.get(kind, params)
    if found is not None:
        return found
    payload = compute()
    cache.put(kind, params, payload)
    return payload


def cached_model(
    session: Session,
    kind: str,
    params: dict[str, object],
    model: type[M],
    compute: Callable[[], M],
) -> M:
    """:func:`cached_bytes` for a pydantic ``model``: its JSON is what is stored."""
    computed: list[M] = []

    def encode() -> bytes:
        computed.append(compute())
        return computed[0].model_dump_json().encode()

    payload = cached_bytes(session, kind, params, encode)
    return computed[0] if computed else model.model_validate_json(payload)


def frame_bytes(frame: pd.DataFrame) -> bytes:
    """``frame`` as Parquet bytes (index and dtypes kept)."""
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=True)
    return buffer.getvalue()


def bytes_frame(payload: bytes) -> pd.DataFrame:
    """The frame :func:`frame_bytes` wrote."""
    return pd.read_parquet(io.BytesIO(payload))


def strategy_digest(strategy: BaseModel) -> str:
    """The SHA-256 of ``strategy``'s JSON: a page computed with a strategy given explicitly (a
    file, a currency) is kept apart from one computed with the strategy in force."""
    return hashlib.sha256(strategy.model_dump_json().encode()).hexdigest()


def cached_pieces(
    session: Session,
    kind: str,
    params: dict[str, object],
    names: tuple[str, ...],
    compute: Callable[[], dict[str, bytes]],
) -> dict[str, bytes]:
    """The payloads ``names`` of ``kind`` with ``params``, each kept on a row of its own: read
    from the cache when every one is there, else ``compute()``-d (all of them) and kept. For
    the company-wide pieces several pages are built from (reach applied after reading)."""
    cache = PageCache(session)
    found = {name: cache.get(kind, {**params, "piece": name}) for name in names}
    if all(payload is not None for payload in found.values()):
        return found  # type: ignore[return-value]
    computed = compute()
    for name in names:
        cache.put(kind, {**params, "piece": name}, computed[name])
    return computed
