"""/api/v1/imports: upload a CSV or XLSX file into the store (admins), and the imports log.

An upload is read by the same importer as ``tillage import`` (:func:`tillage.ingest.import_path`):
all rows or none. A refused file (malformed, wrongly encoded, failing validation) answers 422
with the validation report in the error's ``problems``; a file over ``upload_limit_mb`` answers
413 before it is read. Imports, refused ones included, are audit-logged (``import``,
``import.refused``).
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import File, Form, Query, Request, UploadFile
from pydantic import BaseModel
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tillage.errors import DataValidationError, Problem, TooLarge
from tillage.ingest import ImportResult
from tillage.services.imports import (
    import_uploaded_file,
    refusals_audited,
    safe_name,
    too_large_message,
)
from tillage.serving.auth import AdminRole, CurrentUser, client_address, protected_router
from tillage.serving.deps import SessionDep, SettingsDep
from tillage.serving.errors import ErrorBody, ErrorResponse, ProblemOut
from tillage.store.imports_log import list_imports
from tillage.store.schema import Import
from tillage.timestamps import LocalTimestamp

PATH = "/api/v1/imports"
router = protected_router(prefix=PATH, tags=["imports"], dependencies=[AdminRole])
MULTIPART_SLACK = 64 * 1024  # bytes of form fields and boundaries besides the file


class TableCountsOut(BaseModel):
    """Rows of one canonical table in an import."""

    read: int
    inserted: int
    updated: int
    unchanged: int
    rejected: int


class QualityNoteOut(BaseModel):
    """What the stored data cannot support: ``code`` (stable), ``effect`` (``blank``: a figure
    will be empty; ``assumed``: a strategy default is used), the message in the caller's
    language, and ``missing`` of ``total`` rows concerned."""

    code: str
    effect: str
    message: str
    missing: int
    total: int


class ImportOut(BaseModel):
    """What an import read and changed; ``id`` is its row in the imports log (``null`` for a
    dry run, which writes nothing); ``warnings`` lists problems that did not block it."""

    id: int | None
    dry_run: bool
    source: str
    format: str
    checksum: str
    rows_read: int
    rows_rejected: int
    inserted: int
    updated: int
    unchanged: int
    tables: dict[str, TableCountsOut]
    warnings: list[ProblemOut]
    quality: list[QualityNoteOut] = []


class ImportLogOut(BaseModel):
    """One logged import: when (business time zone), by whom, what, and what it changed."""

    id: int
    imported_at: LocalTimestamp
    imported_by: str | None
    source: str
    format: str
    mapping: str | None
    checksum: str
    rows_read: int
    rows_inserted: int
    rows_updated: int
    rows_unchanged: int
    rows_rejected: int
    warnings: int
    tables: dict[str, Any] | None


class UploadLimit:
    """ASGI middleware: refuse an upload to :data:`PATH` larger than ``limit`` bytes with 413
    before reading it (by its Content-Length; a body sent without one is cut off at the
    limit).

    ``pages`` maps the dashboard's upload paths to the page an oversized upload is sent back to
    (a 303 redirect, which the page turns into a message in the visitor's language): a browser
    shows a redirect, where a bare 413 would replace the form with an error.
    """

    def __init__(self, app: ASGIApp, limit: int, pages: dict[str, str] | None = None) -> None:
        self.app = app
        self.limit = limit + MULTIPART_SLACK
        self.pages = dict(pages or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path")
        if (
            scope["type"] != "http"
            or scope["method"] != "POST"
            or (path != PATH and path not in self.pages)
        ):
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        length = headers.get(b"content-length", b"").decode("latin-1")
        if length.isdigit() and int(length) > self.limit:
            if path in self.pages:
                await _redirect(send, self.pages[path])
            else:
                await self._refuse(send)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit:
                raise TooLarge(too_large_message(self.limit - MULTIPART_SLACK))
            return message

        await self.app(scope, counted, send)

    async def _refuse(self, send: Send) -> None:
        error = ErrorBody(type="TooLarge", message=too_large_message(self.limit - MULTIPART_SLACK))
        body = json.dumps(ErrorResponse(error=error).content()).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


async def _redirect(send: Send, location: str) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 303,
            "headers": [(b"location", location.encode()), (b"content-length", b"0")],
        }
    )
    await send({"type": "http.response.body", "body": b""})


def _problems(problems: list[Problem]) -> list[ProblemOut]:
    return ErrorBody.of(DataValidationError("", problems)).problems or []


def _out(result: ImportResult) -> ImportOut:
    return ImportOut(
        id=result.import_id,
        dry_run=result.dry_run,
        source=result.source,
        format=result.format,
        checksum=result.checksum,
        rows_read=result.rows_read,
        rows_rejected=result.rows_rejected,
        inserted=result.inserted,
        updated=result.updated,
        unchanged=result.unchanged,
        tables={t: TableCountsOut(**vars(c)) for t, c in result.tables.items()},
        warnings=_problems(result.warnings),
        quality=[QualityNoteOut(**vars(n)) for n in result.quality],
    )


@router.post(
    "",
    status_code=201,
    responses={
        413: {"model": ErrorResponse, "description": "File over the upload limit"},
    },
)
def post_import(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    principal: CurrentUser,
    file: Annotated[UploadFile, File(description="CSV, TSV or XLSX file")],
    mapping: Annotated[
        UploadFile | None, File(description="Mapping (TOML) saying what the file holds")
    ] = None,
    table: Annotated[
        str | None,
        Form(max_length=40, description="Or: the canonical table whose column names it uses"),
    ] = None,
    dry_run: Annotated[bool, Form(description="Check only; write nothing")] = False,
) -> ImportOut:
    """Import one file, validated and atomic (admins): give ``mapping`` (as for
    ``tillage import --mapping``) or ``table``. Refused files answer 422 with the validation
    report (``error.problems``) and write nothing."""
    client = client_address(request)
    with (
        refusals_audited(session, principal, client, safe_name(file.filename)),
        tempfile.TemporaryDirectory(prefix="tillage-upload-") as folder,
    ):
        checked = import_uploaded_file(
            session,
            settings,
            principal,
            file,
            mapping,
            table,
            Path(folder),
            client=client,
            dry_run=dry_run,
        )
    return _out(checked.result)


@router.get("")
def get_imports(
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> list[ImportLogOut]:
    """The imports log, newest first (admins)."""
    return [_log(row) for row in list_imports(session, limit=limit, offset=offset)]


def _log(row: Import) -> ImportLogOut:
    return ImportLogOut.model_validate(row, from_attributes=True)
