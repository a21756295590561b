"""ETags for answers computed from one snapshot: ``304 Not Modified`` without recomputing.

A route whose answer depends only on the store's state (the newest snapshot, strategy version,
import and activity: :func:`tillage.store.page_cache.store_version`), the caller and the
request adds :data:`SnapshotETag` to its dependencies (after its role check). The dependency
computes a weak ETag from

- the store version,
- the caller: login, role, linked rep and session (its CSRF token, which the page's forms
  carry; a token's id for bearer calls), so no two users or sessions share one,
- the language and the request's path and query,
- tillage's version;

answers ``304`` with that ETag when ``If-None-Match`` names it, and otherwise has the ETag
added to the ``200`` answer (:class:`tillage.web.security.SecurityHeaders` writes it).

``Cache-Control`` stays ``no-store`` (issue 20, item 9): the browser keeps neither the page nor
its back/forward-cache copy, so Back after logging out never shows data (a ``no-cache`` page
may still be restored from the back/forward cache without asking the server). The ETag serves
clients that keep their own copy — API pollers, BI refreshes, scripts — and costs the server
four one-row reads when it matches.
"""

from __future__ import annotations

import hashlib
import json

from fastapi import Depends, FastAPI, Request
from fastapi.responses import Response

from tillage import __version__
from tillage.serving.auth import CurrentUser
from tillage.serving.deps import LanguageDep, SessionDep
from tillage.store.page_cache import store_version

STATE_KEY = "etag"
"""Where the ETag of the answer waits for the security middleware (``request.state``)."""


class NotModified(Exception):
    """The client's copy (``If-None-Match``) is current: answer 304 with ``etag``."""

    def __init__(self, etag: str) -> None:
        super().__init__("not modified")
        self.etag = etag


def _matches(header: str | None, etag: str) -> bool:
    """Whether ``If-None-Match`` names ``etag`` (``*``, a list, weak or strong)."""
    if not header:
        return False
    tags = {tag.strip().removeprefix("W/") for tag in header.split(",")}
    return "*" in tags or etag.removeprefix("W/") in tags


def snapshot_etag(
    request: Request, session: SessionDep, principal: CurrentUser, lang: LanguageDep
) -> str | None:
    """The answer's ETag (see the module doc), ``None`` without a snapshot; raises
    :class:`NotModified` when the request's ``If-None-Match`` names it."""
    version = store_version(session)
    if version is None:
        return None
    caller = [
        principal.login,
        principal.role,
        principal.rep_key,
        principal.via,
        principal.token_id,
        principal.csrf_token,
    ]
    query = sorted(request.query_params.multi_items())
    text = json.dumps(
        [__version__, version.parts(), caller, lang, request.url.path, query], default=str
    )
    etag = 'W/"' + hashlib.sha256(text.encode()).hexdigest()[:40] + '"'
    if _matches(request.headers.get("if-none-match"), etag):
        raise NotModified(etag)
    setattr(request.state, STATE_KEY, etag)
    return etag


SnapshotETag = Depends(snapshot_etag)
"""Add to a route's ``dependencies`` (after its role check)."""


async def _not_modified(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, NotModified)
    return Response(status_code=304, headers={"ETag": exc.etag})


def install(app: FastAPI) -> None:
    """Answer :class:`NotModified` with ``304`` and the ETag (no body)."""
    app.add_exception_handler(NotModified, _not_modified)
