"""Response headers that keep the dashboard's data where it belongs, and the offline API docs.

Every response gets:

* its ETag when the route computed one (:mod:`tillage.serving.etag`: answers of one snapshot);
* ``Cache-Control: no-store`` unless the route set its own (only the public static files do):
  neither the browser's cache nor its back/forward cache keeps a page or an API answer, so Back
  after logging out shows the login page, not the accounts of the user who left;
* a ``Content-Security-Policy`` that allows scripts, styles, fonts and connections from this
  server only (no inline scripts: the pages' scripts are files in ``web/static``; inline styles
  stay allowed because Plotly.js injects its own) and no framing,
  with ``X-Frame-Options: DENY`` for old browsers, ``X-Content-Type-Options: nosniff`` and
  ``Referrer-Policy: same-origin``.

An unexpected exception answers 500 in the JSON error shape (API) or as the localised error page
(dashboard), with the same headers.

``/api/docs`` is Swagger UI 5 (it reads the OpenAPI 3.1 that FastAPI writes) from the installed
``fastapi-offline`` package's bundled copy (served under ``/static/swagger-ui/``; only its files
are used), started by ``static/api-docs.js``: it works offline and needs no CDN.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tillage import __version__
from tillage.errors import ConfigurationError, NotFoundError
from tillage.serving.etag import STATE_KEY as ETAG_STATE

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        # Plotly.js adds its own <style> elements and style attributes; inline *styles* stay
        # allowed (no script runs from a style), inline *scripts* do not
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
HEADERS: dict[str, str] = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}
NO_STORE = "no-store"
SWAGGER_FILES = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
    "favicon.png": "image/png",
}
STATIC_CACHE = "public, max-age=86400"

log = logging.getLogger(__name__)
docs = APIRouter(include_in_schema=False)


class SecurityHeaders:
    """ASGI middleware adding :data:`HEADERS` to every HTTP response, and ``Cache-Control:
    no-store`` to every response that does not set its own caching."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = secured(list(message.get("headers", [])))
                etag = scope.get("state", {}).get(ETAG_STATE)
                if etag and message.get("status") == 200:  # an answer of a SnapshotETag route
                    headers.append((b"etag", etag.encode()))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


def secured(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """``headers`` (raw ASGI pairs) with the security headers, and ``no-store`` if uncached."""
    present = {name.lower() for name, _value in headers}
    added = [
        (name.lower().encode(), value.encode())
        for name, value in HEADERS.items()
        if name.lower().encode() not in present
    ]
    if b"cache-control" not in present:
        added.append((b"cache-control", NO_STORE.encode()))
    return headers + added


@lru_cache(maxsize=1)
def swagger_ui_dir() -> Path:
    """The folder of Swagger UI's files inside the installed ``fastapi-offline`` package."""
    try:
        import fastapi_offline
    except ImportError as exc:  # pragma: no cover - a broken install
        raise ConfigurationError(
            "fastapi-offline is not installed: install it (a tillage dependency), whose bundled "
            "Swagger UI files /api/docs serves"
        ) from exc
    return Path(fastapi_offline.__file__).with_name("static")


DOCS_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>tillage API {version}</title>
<link rel="stylesheet" href="/static/swagger-ui/swagger-ui.css?v={version}">
<link rel="icon" href="/static/swagger-ui/favicon.png?v={version}">
</head>
<body>
<div id="swagger-ui" data-openapi-url="/openapi.json"></div>
<script src="/static/swagger-ui/swagger-ui-bundle.js?v={version}"></script>
<script src="/static/api-docs.js?v={version}"></script>
</body>
</html>
"""


@docs.get("/api/docs")
def api_docs() -> HTMLResponse:
    """Swagger UI for ``/openapi.json``, from this server's own files."""
    return HTMLResponse(DOCS_PAGE.format(version=__version__))


@docs.get("/static/swagger-ui/{name}")
def swagger_file(name: str) -> FileResponse:
    """One of Swagger UI's files from the installed package (public, cached for a day)."""
    if name not in SWAGGER_FILES:
        raise NotFoundError(f"no Swagger UI file {name!r}")
    return FileResponse(
        swagger_ui_dir() / name,
        media_type=SWAGGER_FILES[name],
        headers={"Cache-Control": STATIC_CACHE},
    )


async def _server_error(request: Request, exc: Exception) -> Response:
    """An unexpected exception: 500 in the API's error shape, or the dashboard's error page."""
    from tillage.serving.errors import ErrorBody, ErrorResponse, is_api_path
    from tillage.web.pages import error_page

    log.exception("unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
    if is_api_path(request.url.path):
        body = ErrorResponse(
            error=ErrorBody(
                type="InternalError",
                message="an unexpected error occurred; the server log has the details",
            )
        )
        response: Response = JSONResponse(status_code=500, content=body.content())
    else:
        response = error_page(request, 500, "")
    response.headers.update(HEADERS)
    response.headers["Cache-Control"] = NO_STORE
    return response


def install(app: FastAPI) -> None:
    """Add the security headers, the 500 handler and the offline API docs to ``app``
    (create it with ``docs_url=None, redoc_url=None``)."""
    app.add_middleware(SecurityHeaders)
    app.add_exception_handler(Exception, _server_error)
    app.include_router(docs)
