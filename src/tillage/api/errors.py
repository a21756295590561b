"""The one place where tillage errors become HTTP responses, in one JSON shape::

{"error": {"type": "NotFoundError", "message": "…"}}
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from tillage.errors import (
    ConfigurationError,
    DataValidationError,
    NotFoundError,
    PermissionDenied,
    StoreError,
    TillageError,
)

STATUS = {
    NotFoundError: 404,
    PermissionDenied: 403,
    DataValidationError: 422,
    ConfigurationError: 400,
    StoreError: 503,
}


class ErrorBody(BaseModel):
    """The body of every error response."""

    type: str
    message: str


class ErrorResponse(BaseModel):
    """Every error response: ``{"error": {"type": …, "message": …}}``."""

    error: ErrorBody


def status_for(exc: TillageError) -> int:
    """The HTTP status for a tillage error (500 for anything unexpected)."""
    for cls, status in STATUS.items():
        if isinstance(exc, cls):
            return status
    return 500


def install_error_handlers(app: FastAPI) -> None:
    """Map every :class:`TillageError` to its status and the JSON error shape."""

    @app.exception_handler(TillageError)
    async def _handle(_request: Request, exc: TillageError) -> JSONResponse:
        body = ErrorResponse(error=ErrorBody(type=type(exc).__name__, message=str(exc)))
        return JSONResponse(status_code=status_for(exc), content=body.model_dump())
