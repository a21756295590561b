"""/api/v1/imports: upload a CSV or XLSX file into the store (admins), and the imports log.

An upload is read by the same importer as ``tillage import`` (:func:`tillage.ingest.import_path`):
all rows or none. A refused file (malformed, wrongly encoded, failing validation) answers 422
with the validation report in the error's ``problems``; a file over ``upload_limit_mb`` answers
413 before it is read. Imports, refused ones included, are audit-logged (``import``,
``import.refused``).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from fastapi import File, Form, Query, Request, UploadFile
from pydantic import BaseModel
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tillage.api.auth import AdminRole, CurrentUser, client_address, protected_router
from tillage.api.deps import SessionDep, SettingsDep
from tillage.api.errors import ErrorBody, ErrorResponse, ProblemOut
from tillage.config import Settings
from tillage.errors import DataValidationError, Problem, TooLarge
from tillage.ingest import ImportResult, import_path
from tillage.ingest.currency import parse_rates
from tillage.ingest.mapping import KEYED_TABLES, Mapping, parse_mapping
from tillage.ingest.readers import EXCEL_SUFFIXES, TEXT_SUFFIXES, read_file
from tillage.store.access import Principal
from tillage.store.imports_log import list_imports
from tillage.store.schema import Base, Import
from tillage.store.users import audit, utcnow
from tillage.strategy.scoring import resolve_strategy

PATH = "/api/v1/imports"
router = protected_router(prefix=PATH, tags=["imports"], dependencies=[AdminRole])
SUFFIXES = TEXT_SUFFIXES | EXCEL_SUFFIXES
CHUNK = 1 << 20
MULTIPART_SLACK = 64 * 1024  # bytes of form fields and boundaries besides the file
MAX_MAPPING = 200_000  # bytes


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
    imported_at: dt.datetime
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
                raise TooLarge(_too_large(self.limit - MULTIPART_SLACK))
            return message

        await self.app(scope, counted, send)

    async def _refuse(self, send: Send) -> None:
        error = ErrorBody(type="TooLarge", message=_too_large(self.limit - MULTIPART_SLACK))
        body = json.dumps(ErrorResponse(error=error).model_dump(exclude_none=True)).encode()
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


def _too_large(limit: int) -> str:
    return (
        f"the file is larger than the upload limit of {limit / 1e6:g} MB "
        "(setting upload_limit_mb): split it, or import it with `tillage import`"
    )


def safe_name(name: str | None) -> str:
    base = Path(name or "").name
    base = re.sub(r"[^\w.\- ]", "_", base).strip(" .")[:200]
    return base or "upload.csv"


def save_upload(upload: UploadFile, folder: Path, limit: int) -> Path:
    """Write ``upload`` into ``folder`` under a safe name; refuse other types than CSV, TSV and
    XLSX, empty files, and files over ``limit`` bytes."""
    name = safe_name(upload.filename)
    if Path(name).suffix.lower() not in SUFFIXES:
        raise DataValidationError(
            f"{name}: upload a .csv, .tsv or .xlsx file",
            [Problem(name, None, None, Path(name).suffix, "unsupported file type")],
        )
    path = folder / name
    size = 0
    # readable by the server's user only, whatever the umask
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as out:
        while block := upload.file.read(CHUNK):
            size += len(block)
            if size > limit:
                raise TooLarge(_too_large(limit))
            out.write(block)
    if size == 0:
        raise DataValidationError(
            f"{name}: the file is empty", [Problem(name, None, None, None, "empty file")]
        )
    return path


def _identity_mapping(path: Path, table: str) -> Mapping:
    """A mapping for a file whose columns are named as ``table``'s canonical columns."""
    if table not in KEYED_TABLES:
        raise DataValidationError(
            f"unknown table {table!r}: choose one of {', '.join(KEYED_TABLES)}"
        )
    known = set(Base.metadata.tables[table].columns.keys()) - {"id", "key"}
    header = [str(c) for sheet in read_file(path).values() for c in sheet.columns]
    columns = {c: c for c in dict.fromkeys(header) if c in known}
    if "key" not in header:
        raise DataValidationError(
            f"{path.name}: a file for table {table} needs a `key` column",
            [Problem(path.name, 1, "key", None, "required column is missing from the file")],
        )
    spec = {
        "name": f"upload:{table}",
        "tables": [{"table": table, "key": ["key"], "columns": columns}],
    }
    return Mapping.model_validate(spec)


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


def upload_choice(mapping: object | None, table: str | None) -> None:
    """An upload names what it holds by a mapping file or a table, exactly one of the two."""
    if (mapping is None) == (table is None):
        raise DataValidationError("give either a mapping file or a table, not both or neither")


def read_mapping_text(upload: UploadFile) -> str:
    """The text of an uploaded mapping file (UTF-8, at most :data:`MAX_MAPPING` bytes)."""
    raw = upload.file.read(MAX_MAPPING + 1)
    if len(raw) > MAX_MAPPING:
        raise TooLarge(f"the mapping is larger than {MAX_MAPPING:,} bytes")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataValidationError("the mapping is not UTF-8 text") from exc


def choose_mapping(
    path: Path, mapping_text: str | None, mapping_name: str, table: str | None
) -> Mapping:
    """The mapping an upload is read with: the uploaded mapping's text, else the identity
    mapping of ``table``."""
    if mapping_text is not None:
        return parse_mapping(mapping_text, source=mapping_name)
    return _identity_mapping(path, str(table))


@contextmanager
def refusals_audited(
    session: Session, principal: Principal, client: str | None, name: str
) -> Iterator[None]:
    """Audit-log (``import.refused``, committed) any :class:`DataValidationError` raised inside,
    then let it through."""
    try:
        yield
    except DataValidationError as exc:
        audit(
            session,
            "import.refused",
            now=utcnow(),
            user_id=principal.user_id,
            actor=principal.login,
            client=client,
            object_type="import",
            detail={"source": name, "problems": len(exc.problems), "reason": str(exc)[:500]},
        )
        session.commit()
        raise


def import_upload(
    engine: Engine,
    session: Session,
    settings: Settings,
    principal: Principal,
    path: Path,
    mapping: Mapping,
    *,
    client: str | None,
    dry_run: bool,
    lang: str | None = None,
) -> ImportResult:
    """Import the saved upload ``path`` with ``mapping`` (all rows or none), as ``principal``;
    a real import is audit-logged (``import``). Problems are worded in ``lang`` (default: the
    ``language`` setting). Wrap in :func:`refusals_audited` to log refusals."""
    now = dt.datetime.now(settings.zone).replace(tzinfo=None, microsecond=0)
    strategy = resolve_strategy(engine)[0]  # its exchange_rates convert other currencies
    rates = parse_rates([r.model_dump() for r in strategy.exchange_rates], "the strategy")
    result = import_path(
        engine,
        path,
        as_of=now.date(),
        imported_at=now,
        imported_by=principal.login,
        mapping=mapping,
        timezone=settings.timezone,
        currency=settings.currency,
        rates=rates,
        lang=lang or settings.language,
        dry_run=dry_run,
    )
    if not dry_run:
        audit(
            session,
            "import",
            now=utcnow(),
            user_id=principal.user_id,
            actor=principal.login,
            client=client,
            object_type="import",
            object_id=result.import_id,
            detail={"source": result.source, "checksum": result.checksum},
        )
        session.commit()
    return result


@dataclass(frozen=True)
class CheckedUpload:
    """An upload saved and imported (or checked): where the file lies, the mapping's text and
    file name as given (``None`` / ``""`` for a table's own column names), and the result."""

    path: Path
    mapping_text: str | None
    mapping_name: str
    result: ImportResult


def import_uploaded_file(
    request: Request,
    session: Session,
    settings: Settings,
    principal: Principal,
    file: UploadFile,
    mapping: UploadFile | None,
    table: str | None,
    folder: Path,
    *,
    client: str | None,
    dry_run: bool,
    lang: str | None = None,
) -> CheckedUpload:
    """The upload steps of ``POST /api/v1/imports`` and the Data page: a mapping or a table
    (not both), the file saved in ``folder`` within the upload limit, the mapping read and
    chosen, then :func:`import_upload`. Wrap in :func:`refusals_audited` to log refusals."""
    upload_choice(mapping, table)
    path = save_upload(file, folder, settings.upload_limit_bytes)
    text = None if mapping is None else read_mapping_text(mapping)
    mapping_name = safe_name(mapping.filename) if mapping is not None else ""
    result = import_upload(
        request.app.state.engine,
        session,
        settings,
        principal,
        path,
        choose_mapping(path, text, mapping_name, table),
        client=client,
        dry_run=dry_run,
        lang=lang,
    )
    return CheckedUpload(path, text, mapping_name, result)


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
            request,
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
