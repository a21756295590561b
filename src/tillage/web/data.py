"""The Data page: upload an export, read its validation report, confirm the import; the log.

Two steps, each through the functions behind ``POST /api/v1/imports``
(:mod:`tillage.services.imports`) and with its rule (admins only): *validate* saves the upload
(:mod:`tillage.web.staging`) and runs the import as a dry run, which writes nothing and shows
every problem by file, row and column; *import* runs the same import for real on the kept file,
all rows or none. Refusals are audit-logged (``import.refused``) and imports too (``import``),
as through the API. The history is :func:`tillage.store.imports_log.list_imports`, the twin of
``GET /api/v1/imports``.

An upload over ``upload_limit_mb`` is stopped twice: in the browser before it is sent (the form
knows the limit), and by :class:`tillage.api.imports.UploadLimit` (mounted by
:mod:`tillage.server`), which sends the browser back to ``/data?refused=too-large`` without
reading the body.
"""

from __future__ import annotations

import time
from typing import Annotated

import pandas as pd
from fastapi import File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.orm import Session

from tillage.config import Settings
from tillage.errors import (
    ConfigurationError,
    DataValidationError,
    NotFoundError,
    TooLarge,
    rows_affected,
)
from tillage.i18n import gettext_for, table_labels
from tillage.ingest import ImportResult
from tillage.ingest.mapping import KEYED_TABLES
from tillage.services.imports import (
    EXPORT_SUFFIXES,
    EXPORTS,
    choose_mapping,
    import_upload,
    import_uploaded_file,
    refusals_audited,
    safe_name,
    store_quality,
)
from tillage.serving.auth import AdminRole, CurrentUser, client_address, protected_router
from tillage.serving.deps import LanguageDep, SessionDep, SettingsDep
from tillage.store.access import Principal
from tillage.store.imports_log import list_imports
from tillage.web import staging
from tillage.web.jobs import jobs_context
from tillage.web.render import page

UPLOAD_PATH = "/data/validate"
TOO_LARGE = "/data?refused=too-large"
HISTORY_ROWS = 50
SHOWN_PROBLEMS = 500  # rows of a validation report shown on the page
TOKEN_FIELD = Form(min_length=22, max_length=22, pattern=staging.TOKEN.pattern)

router = protected_router(include_in_schema=False, dependencies=[AdminRole])
TillageFileError = DataValidationError | ConfigurationError


def shown_value(value: object) -> str:
    """A cell's value as the report shows it: empty for a missing one (None, NaN, NA)."""
    if value is None or (not isinstance(value, list | dict | tuple) and pd.isna(value)):
        return ""
    return str(value)


def _page(
    request: Request,
    session: Session,
    settings: Settings,
    lang: str,
    principal: Principal,
    *,
    status_code: int = 200,
    **context: object,
) -> HTMLResponse:
    """The Data page: the upload form, the report in ``context`` if any, and the history."""
    request.app.state.freshness = None  # where imports and re-scores end: the banner asks anew
    response = page(
        request,
        lang,
        "data.html",
        principal,
        tables=KEYED_TABLES,
        exports=EXPORTS,
        table_label=table_labels(lang),
        accept=",".join(sorted(EXPORT_SUFFIXES)),
        limit_bytes=settings.upload_limit_bytes,
        limit_mb=f"{settings.upload_limit_mb:g}",
        history=list_imports(session, limit=HISTORY_ROWS),
        quality=store_quality(session, gettext_for(lang)),
        shown_problems=SHOWN_PROBLEMS,
        shown_value=shown_value,
        **jobs_context(session, settings, lang),
        **{"refused": None, "checked": None, "token": None, "notice": None, "table": "", **context},
    )
    response.status_code = status_code
    return response


def _refusal(exc: TillageFileError) -> dict[str, object]:
    """What the page shows of a refused upload: the reason and every problem found."""
    problems = exc.problems if isinstance(exc, DataValidationError) else []
    problems = sorted(problems, key=lambda p: (p.file, p.row or 0, p.column or ""))
    return {
        "message": str(exc).split("\n", 1)[0] if problems else str(exc),
        "problems": problems,
        "errors": rows_affected(problems),
        "too_large": isinstance(exc, TooLarge),
        "choice": False,
    }


@router.get("/data", response_class=HTMLResponse)
def data_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    lang: LanguageDep,
    principal: CurrentUser,
    refused: Annotated[str | None, Query(pattern="^too-large$")] = None,
    imported: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    notice: Annotated[str | None, Query(pattern="^busy$")] = None,
) -> HTMLResponse:
    """The upload form, the re-score button with the jobs, and the imports log (twin of
    ``GET /api/v1/imports``; the jobs: ``GET /api/v1/jobs``)."""
    if refused:
        notice = "too-large"
    elif imported:
        notice = "imported"
    return _page(request, session, settings, lang, principal, notice=notice, imported=imported)


@router.post(UPLOAD_PATH, response_class=HTMLResponse)
def validate_upload(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    lang: LanguageDep,
    principal: CurrentUser,
    file: Annotated[UploadFile, File()],
    mapping: Annotated[UploadFile | None, File()] = None,
    table: Annotated[str, Form(max_length=40)] = "",
) -> HTMLResponse:
    """Step 1: keep the upload and check it by a dry run; shows the report (422 when refused)
    and, for a clean file, the button that imports it."""
    if mapping is not None and not mapping.filename:
        mapping = None  # the form's mapping field left empty
    client = client_address(request)
    name = safe_name(file.filename)
    root = staging.staging_root(settings.data_dir)
    token, folder = staging.new_folder(root, time.time())
    try:
        with refusals_audited(session, principal, client, name):
            checked = import_uploaded_file(
                session,
                settings,
                principal,
                file,
                mapping,
                table or None,
                folder,
                client=client,
                dry_run=True,
                lang=lang,
            )
    except (DataValidationError, ConfigurationError) as exc:
        staging.discard(root, token)
        refused = {**_refusal(exc), "choice": (mapping is None) == (not table)}
        return _page(
            request,
            session,
            settings,
            lang,
            principal,
            status_code=422,
            refused=refused,
            source=name,
            table=table,
        )
    staged = staging.Staged(
        token,
        principal.user_id,
        checked.path.name,
        table or None,
        checked.mapping_text,
        checked.mapping_name,
    )
    staging.keep(root, staged)
    result = _checked(checked.result)
    return _page(request, session, settings, lang, principal, checked=result, token=token)


def _checked(result: ImportResult) -> dict[str, object]:
    """What the page shows of a clean dry run: the rows read per table, and the warnings."""
    return {
        "source": result.source,
        "rows_read": result.rows_read,
        "tables": result.tables,
        "warnings": result.warnings,
        "quality": result.quality,
    }


@router.post("/data/confirm", response_class=HTMLResponse)
def confirm_upload(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    lang: LanguageDep,
    principal: CurrentUser,
    token: Annotated[str, TOKEN_FIELD],
) -> HTMLResponse:
    """Step 2: import the validated upload ``token`` (all rows or none), then show the log."""
    root = staging.staging_root(settings.data_dir)
    try:
        staged, path = staging.claim(root, token, principal.user_id, time.time())
    except NotFoundError:
        return _page(request, session, settings, lang, principal, status_code=404, notice="gone")
    client = client_address(request)
    try:
        with refusals_audited(session, principal, client, staged.name):
            chosen = choose_mapping(path, staged.mapping_text, staged.mapping_name, staged.table)
            result = import_upload(
                request.app.state.engine,
                session,
                settings,
                principal,
                path,
                chosen,
                client=client,
                dry_run=False,
                lang=lang,
            )
    except (DataValidationError, ConfigurationError) as exc:  # the store changed meanwhile
        return _page(
            request,
            session,
            settings,
            lang,
            principal,
            status_code=422,
            refused=_refusal(exc),
            source=staged.name,
        )
    finally:
        staging.discard(root, token)
    return RedirectResponse(f"/data?imported={result.import_id}", status_code=303)  # type: ignore[return-value]
