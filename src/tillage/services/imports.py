"""Importing an uploaded file (validate, then confirm): the steps of ``POST /api/v1/imports`` and
the Data page, over the same importer as ``tillage import`` (:func:`tillage.ingest.import_path`):
all rows or none. Imports, refused ones included, are audit-logged (``import``,
``import.refused``).

An upload is anything with a ``filename`` and a binary ``file`` (:class:`Upload`; a web
framework's upload object is one), so this module knows nothing of HTTP.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from tillage.config import Settings
from tillage.errors import DataValidationError, Problem, TooLarge
from tillage.ingest import ImportResult, import_path
from tillage.ingest.currency import parse_rates
from tillage.ingest.mapping import KEYED_TABLES, Mapping, builtin_mapping, parse_mapping
from tillage.ingest.quality import QualityNote, Translate, quality_notes, store_counts
from tillage.ingest.readers import EXCEL_SUFFIXES, TEXT_SUFFIXES, read_file
from tillage.services.page_cache import cached_bytes
from tillage.services.strategy import resolve_strategy
from tillage.store.access import Principal
from tillage.store.schema import Base
from tillage.store.users import audit, utcnow

SUFFIXES = TEXT_SUFFIXES | EXCEL_SUFFIXES
EXPORTS = ("salesforce", "hubspot")
"""CRM exports an upload may be named as (``table``): read with the shipped mapping, as
``tillage import`` reads them; such an upload may also be the ``.zip`` the CRM delivers."""
EXPORT_SUFFIXES = SUFFIXES | {".zip"}
CHUNK = 1 << 20
MAX_MAPPING = 200_000  # bytes


class Upload(Protocol):
    """An uploaded file: its name as the client gave it and its bytes."""

    filename: str | None
    file: BinaryIO


def too_large_message(limit: int) -> str:
    """Why a file over ``limit`` bytes is refused, and what to do instead."""
    return (
        f"the file is larger than the upload limit of {limit / 1e6:g} MB "
        "(setting upload_limit_mb): split it, or import it with `tillage import`"
    )


def safe_name(name: str | None) -> str:
    """``name`` without folders or characters outside word characters, dots, dashes and spaces."""
    base = Path(name or "").name
    base = re.sub(r"[^\w.\- ]", "_", base).strip(" .")[:200]
    return base or "upload.csv"


def save_upload(upload: Upload, folder: Path, limit: int, *, export: bool = False) -> Path:
    """Write ``upload`` into ``folder`` under a safe name; refuse other types than CSV, TSV and
    XLSX (and ZIP for an ``export``: a CRM's, or files a mapping names), empty files, and files
    over ``limit`` bytes."""
    name = safe_name(upload.filename)
    if Path(name).suffix.lower() not in (EXPORT_SUFFIXES if export else SUFFIXES):
        raise DataValidationError(
            f"{name}: upload a .csv, .tsv or .xlsx file"
            + (", or a .zip of such files" if export else ""),
            [Problem(name, None, None, Path(name).suffix, "unsupported file type")],
        )
    path = folder / name
    size = 0
    # readable by the server's user only, whatever the umask
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as out:
        while block := upload.file.read(CHUNK):
            size += len(block)
            if size > limit:
                raise TooLarge(too_large_message(limit))
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


def upload_choice(mapping: object | None, table: str | None) -> None:
    """An upload names what it holds by a mapping file, or by a table or a CRM export
    (:data:`EXPORTS`) as ``table``: exactly one of the two."""
    if (mapping is None) == (table is None):
        raise DataValidationError(
            "give either a mapping file or a table (or a CRM export), not both or neither"
        )


def read_mapping_text(upload: Upload) -> str:
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
    """The mapping an upload is read with: the uploaded mapping's text, else the shipped
    mapping of a CRM export (``table`` in :data:`EXPORTS`), else the identity mapping of
    ``table``."""
    if mapping_text is not None:
        return parse_mapping(mapping_text, source=mapping_name)
    if table in EXPORTS:
        return builtin_mapping(str(table))
    return _identity_mapping(path, str(table))


def _audit_import(
    session: Session,
    action: str,
    principal: Principal,
    client: str | None,
    detail: dict[str, object],
    import_id: int | None = None,
) -> None:
    """Audit-log an import ``action`` by ``principal`` and commit it."""
    audit(
        session,
        action,
        now=utcnow(),
        user_id=principal.user_id,
        actor=principal.login,
        client=client,
        object_type="import",
        object_id=import_id,
        detail=detail,
    )
    session.commit()


@contextmanager
def refusals_audited(
    session: Session, principal: Principal, client: str | None, name: str
) -> Iterator[None]:
    """Audit-log (``import.refused``, committed) any :class:`DataValidationError` raised inside,
    then let it through."""
    try:
        yield
    except DataValidationError as exc:
        detail = {"source": name, "problems": len(exc.problems), "reason": str(exc)[:500]}
        _audit_import(session, "import.refused", principal, client, detail)
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
        detail = {"source": result.source, "checksum": result.checksum}
        _audit_import(session, "import", principal, client, detail, result.import_id)
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
    session: Session,
    settings: Settings,
    principal: Principal,
    file: Upload,
    mapping: Upload | None,
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
    # a .zip holds several files: a CRM export's, or those a mapping file names
    zipped = table in EXPORTS or mapping is not None
    path = save_upload(file, folder, settings.upload_limit_bytes, export=zipped)
    text = None if mapping is None else read_mapping_text(mapping)
    mapping_name = safe_name(mapping.filename) if mapping is not None else ""
    result = import_upload(
        session.get_bind(),  # type: ignore[arg-type]
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


def store_quality(session: Session, translate: Translate) -> list[QualityNote]:
    """The Data page's data-quality note (:func:`tillage.ingest.quality.data_quality`), its row
    counts (a count of every order and activity, a full read of the largest tables) kept in the
    page cache for the store's state: an import changes it, so the note of a new import is
    counted anew."""
    payload = cached_bytes(
        session,
        "store-counts",
        {},
        lambda: json.dumps(store_counts(session.connection())).encode(),
    )
    return quality_notes(json.loads(payload), translate)
