"""The one place where tillage errors become HTTP responses, in one JSON shape::

{"error": {"type": "NotFoundError", "message": "…"}}

Requests the API refuses before any tillage code runs get the same shape: invalid parameters or
body 422 (type ``RequestValidationError``), an unreadable body 400 and unknown paths 404 (type
``HTTPError``).

Dashboard pages (paths outside ``/api/``) get the same status with a small HTML page instead,
and an anonymous visitor is sent to ``/login`` rather than shown a 401.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import BaseModel
from starlette.exceptions import HTTPException

from tillage.errors import (
    AuthenticationError,
    Busy,
    ConfigurationError,
    DataValidationError,
    NotFoundError,
    PermissionDenied,
    StoreError,
    TillageError,
    TooLarge,
    TooManyAttempts,
)

STATUS = {
    AuthenticationError: 401,
    Busy: 409,
    TooLarge: 413,
    TooManyAttempts: 429,
    NotFoundError: 404,
    PermissionDenied: 403,
    DataValidationError: 422,
    ConfigurationError: 400,
    StoreError: 503,
}


class ProblemOut(BaseModel):
    """One problem of refused input data, located as the user sees the file (``row`` as a
    spreadsheet numbers it, the header being row 1)."""

    severity: str
    file: str
    row: int | None
    column: str | None
    value: str | None
    reason: str
    rows: int = 1
    """How many rows this line stands for: 1, or N for "N more rows: …"."""


class ErrorBody(BaseModel):
    """The body of every error response; ``problems`` (refused data only) is the validation
    report: every problem found, not just the first."""

    type: str
    message: str
    problems: list[ProblemOut] | None = None

    @classmethod
    def of(cls, exc: TillageError) -> ErrorBody:
        problems = None
        if isinstance(exc, DataValidationError) and exc.problems:
            problems = [
                ProblemOut(
                    severity=p.severity,
                    file=p.file,
                    row=p.row,
                    column=p.column,
                    value=None if p.value is None else str(p.value),
                    reason=p.reason,
                    rows=p.rows,
                )
                for p in exc.problems
            ]
        return cls(type=type(exc).__name__, message=str(exc), problems=problems)


class ErrorResponse(BaseModel):
    """Every error response: ``{"error": {"type": …, "message": …}}``."""

    error: ErrorBody

    def content(self) -> dict:
        """The JSON body: ``problems`` left out when there are none, and each problem with every
        key of its schema (``row``, ``column`` and ``value`` as null where the problem has none;
        leaving them out would break the schema that requires them)."""
        body = self.model_dump()
        if body["error"]["problems"] is None:
            del body["error"]["problems"]
        return body


def status_for(exc: TillageError) -> int:
    """The HTTP status for a tillage error (500 for anything unexpected)."""
    for cls, status in STATUS.items():
        if isinstance(exc, cls):
            return status
    return 500


def is_api_path(path: str) -> bool:
    """Whether ``path`` belongs to the JSON API (the rest are dashboard pages)."""
    return path.startswith("/api/") or path == "/openapi.json"


def _headers(exc: TillageError) -> dict[str, str]:
    if isinstance(exc, AuthenticationError):
        return {"WWW-Authenticate": "Bearer"}
    if isinstance(exc, TooManyAttempts):
        return {"Retry-After": str(exc.retry_after)}
    return {}


ErrorPage = Callable[[Request, int, str], Response]
"""Renders the HTML twin of the JSON error shape: ``(request, status, message) → page``."""


def install_error_handlers(app: FastAPI, page: ErrorPage | None = None) -> None:
    """Map every :class:`TillageError` to its status and the JSON error shape; on dashboard paths
    to ``page`` (the dashboard's error page, handed in by the app factory so that this module
    never imports :mod:`tillage.web`; without it dashboard paths get the JSON shape too)."""

    def _page(request: Request, status: int, message: str) -> Response | None:
        return (
            None
            if page is None or is_api_path(request.url.path)
            else page(request, status, message)
        )

    @app.exception_handler(TillageError)
    async def _handle(request: Request, exc: TillageError) -> Response:
        status = status_for(exc)
        if page is not None and not is_api_path(request.url.path):
            if status == 401:
                target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)
            return page(request, status, str(exc))
        body = ErrorResponse(error=ErrorBody.of(exc))
        return JSONResponse(status_code=status, content=body.content(), headers=_headers(exc))

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error.get('loc', ()))}: {error.get('msg', '')}"
            for error in exc.errors()[:10]
        )
        message = f"the request was refused: {problems}"
        shown = _page(request, 422, message)
        if shown is not None:
            return shown
        body = ErrorResponse(error=ErrorBody(type="RequestValidationError", message=message))
        return JSONResponse(status_code=422, content=body.content())

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> Response:
        shown = _page(request, exc.status_code, str(exc.detail))
        if shown is not None:
            return shown
        body = ErrorResponse(error=ErrorBody(type="HTTPError", message=str(exc.detail)))
        return JSONResponse(
            status_code=exc.status_code,
            content=body.content(),
            headers=exc.headers,
        )


VALIDATION_RESPONSE: dict[int | str, dict] = {
    400: {"model": ErrorResponse, "description": "Unreadable body (not JSON or not UTF-8)"},
    422: {"model": ErrorResponse, "description": "Refused parameters or body"},
}
"""Declare on every route: invalid requests answer in the one error shape, not FastAPI's."""
