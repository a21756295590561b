"""Import a source (file or export folder) into the store: read, map, validate, upsert, log.

One import is one database transaction: every table's rows and the ``imports`` log row commit
together or not at all (a killed process leaves the store as it was). Nothing here reads the
clock: ``as_of`` (the business date future-dated rows are checked against) and ``imported_at``
are arguments.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from sqlalchemy import Engine, text

from tillage.errors import ConfigurationError, DataValidationError, Problem, rows_affected
from tillage.i18n import gettext_for
from tillage.ingest.currency import Rate, Rates, convert_tables
from tillage.ingest.formats import detect_format
from tillage.ingest.mapping import Mapping, TableMapping, builtin_mapping, load_mapping
from tillage.ingest.preview import likely_duplicates
from tillage.ingest.quality import QualityNote, data_quality
from tillage.ingest.sources import Sources, unpacked
from tillage.ingest.transform import TableBuilder, TableFrame
from tillage.ingest.upsert import KeyIds, upsert_table
from tillage.ingest.validate import validate
from tillage.store.database import ensure_current
from tillage.store.schema import Import
from tillage.store.statistics import refresh_statistics

SQLITE_CACHE_KIB = 128 * 1024  # during an import; SQLite's default is 2 MiB
Progress = Callable[[str, int, int], None]
"""``progress(step, done, total)``: step is 'read', 'validate' or a table name being written."""


@dataclass
class TableCounts:
    """Rows of one canonical table in an import."""

    read: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0


@dataclass
class ImportResult:
    """What an import read, found and changed."""

    source: str
    format: str
    checksum: str
    rows_read: int
    rows_rejected: int
    tables: dict[str, TableCounts]
    problems: list[Problem]
    dry_run: bool
    import_id: int | None = None
    quality: list[QualityNote] = field(default_factory=list)
    """What the store (after this import) cannot support; see :mod:`tillage.ingest.quality`."""

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity != "error"]

    @property
    def inserted(self) -> int:
        return sum(t.inserted for t in self.tables.values())

    @property
    def updated(self) -> int:
        return sum(t.updated for t in self.tables.values())

    @property
    def unchanged(self) -> int:
        return sum(t.unchanged for t in self.tables.values())


def checksum(path: Path) -> str:
    """SHA-256 of a file, or of every file of a folder (names and bytes, in name order)."""
    digest = hashlib.sha256()
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    for file in files:
        if path.is_dir():
            digest.update(str(file.relative_to(path)).encode() + b"\0")
        with file.open("rb") as handle:
            for block in iter(lambda h=handle: h.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def _joined(
    sources: Sources,
    tm: TableMapping,
    frame: pd.DataFrame,
    problems: list[Problem],
    file: str,
    _: Callable[[str], str],
) -> pd.DataFrame:
    from tillage.ingest.values import as_text

    for join in tm.join:
        matches = (
            sources.files(join.file) if sources.single is None else sources.matching(join.file)
        )
        if not matches or join.on not in frame.columns:
            problems.append(
                Problem(file, None, join.on, join.file, _("cannot join: file or column missing"))
            )
            continue
        other = pd.concat(
            [f for m in matches for f in sources.read(m, None).values()], ignore_index=True
        )
        if join.key not in other.columns:
            problems.append(
                Problem(
                    matches[0].name,
                    None,
                    join.key,
                    None,
                    _("required column is missing from the file"),
                )
            )
            continue
        other = other.assign(**{join.key: as_text(other[join.key])})
        other = other.drop_duplicates(join.key).set_index(join.key).add_prefix(join.prefix)
        on = as_text(frame[join.on])
        joined = other.reindex(on.to_numpy())
        joined.index = frame.index
        frame = pd.concat([frame, joined], axis=1)
    return frame


def _drop_repeated_keys(tables: dict[str, list[TableFrame]]) -> None:
    """Where every file of a table keeps first/last rows per key, do so across files too.

    (HubSpot: reps come from the owner columns of companies and of deals.)
    """
    for parts in tables.values():
        if len(parts) < 2 or any(p.duplicates not in ("first", "last") for p in parts):
            continue
        seen: set[str] = set()
        for part in parts:
            keep = ~part.frame["key"].isin(seen).to_numpy()
            seen.update(part.frame["key"].dropna())
            part.frame, part.rows, part.credit = (
                part.frame[keep],
                part.rows[keep],
                part.credit[keep],
            )


def resolve_mapping(path: Path, fmt: str, mapping: Mapping | Path | None) -> tuple[str, Mapping]:
    """The format name and the mapping to apply to ``path``.

    A mapping file that is missing or invalid refuses the import (the report names the file).
    """
    if isinstance(mapping, Path):
        try:
            mapping = load_mapping(mapping)
        except ConfigurationError as exc:
            reason = str(exc).split(": ", 1)[-1]
            raise DataValidationError(
                str(exc), [Problem(mapping.name, None, None, None, reason)]
            ) from exc
    if fmt == "auto":
        fmt = detect_format(path)
    if mapping is None:
        if fmt in ("salesforce", "hubspot"):
            mapping = builtin_mapping(fmt)
        else:
            raise ConfigurationError(
                f"{path.name}: a {fmt} file needs a mapping file (--mapping) saying which "
                "table and columns it holds; see docs/import.md"
            )
    return fmt, mapping


def import_path(
    engine: Engine,
    path: Path,
    *,
    as_of: dt.date,
    imported_at: dt.datetime,
    imported_by: str | None = None,
    format: str = "auto",
    mapping: Mapping | Path | None = None,
    timezone: str = "Asia/Tokyo",
    currency: str = "JPY",
    rates: Sequence[Rate] = (),
    lang: str = "en",
    dry_run: bool = False,
    progress: Progress | None = None,
) -> ImportResult:
    """Import ``path`` (a file or an export folder) into the store behind ``engine``.

    Raises :class:`DataValidationError` listing every problem when any is an error; nothing is
    written then. With ``dry_run`` everything is checked and nothing is written either way.
    Amounts in another currency than ``currency`` (the reporting one) are converted with
    ``rates`` (:mod:`tillage.ingest.currency`); a currency without a rate refuses the import.
    """
    path = Path(path)
    if not path.exists():
        raise DataValidationError(
            f"{path.name}: no such file or folder",
            [Problem(path.name, None, None, None, "no such file or folder")],
        )
    arguments = {
        "as_of": as_of,
        "imported_at": imported_at,
        "imported_by": imported_by,
        "format": format,
        "mapping": mapping,
        "timezone": timezone,
        "currency": currency,
        "lang": lang,
        "rates": rates,
        "dry_run": dry_run,
        "progress": progress,
    }
    try:
        if path.is_file() and path.suffix.lower() == ".zip":
            with unpacked(path) as folder:
                return _import(engine, folder, source=path, **arguments)  # type: ignore[arg-type]
        return _import(engine, path, source=path, **arguments)  # type: ignore[arg-type]
    except ImportRefused:
        raise
    except DataValidationError as exc:  # a zip or mapping file that cannot be read
        result = ImportResult(
            source=path.name,
            format=format,
            checksum=checksum(path),
            rows_read=0,
            rows_rejected=0,
            tables={},
            problems=exc.problems or [Problem(path.name, None, None, None, str(exc))],
            dry_run=dry_run,
        )
        raise ImportRefused(result, gettext_for(lang)) from exc


def _import(
    engine: Engine,
    path: Path,
    *,
    source: Path,
    as_of: dt.date,
    imported_at: dt.datetime,
    imported_by: str | None,
    format: str,
    mapping: Mapping | Path | None,
    timezone: str,
    currency: str,
    lang: str,
    rates: Sequence[Rate],
    dry_run: bool,
    progress: Progress | None,
) -> ImportResult:
    """:func:`import_path` on a file or folder; ``source`` is what the user named (a zip)."""
    _ = gettext_for(lang)
    ensure_current(engine)
    fmt, mapping = resolve_mapping(path, format, mapping)
    report = progress or (lambda step, done, total: None)
    problems: list[Problem] = []
    sources = Sources(
        path if path.is_dir() else path.parent, None if path.is_dir() else path, mapping, _
    )
    tables: dict[str, list[TableFrame]] = {}
    counts: dict[str, TableCounts] = {}
    skipped_by_file: dict[str, int] = {}
    for number, tm in enumerate(mapping.tables):
        report("read", number, len(mapping.tables))
        files = sources.files(tm.file)
        if not files and not tm.optional and sources.single is None:
            problems.append(
                Problem(
                    tm.file or path.name,
                    None,
                    None,
                    None,
                    _("no file matches; the mapping needs it"),
                )
            )
        builder = TableBuilder(
            mapping, tm, timezone=timezone, translate=_, problems=problems, as_of=as_of
        )
        for file in files:
            for sheet, frame in sources.read(file, tm.sheet).items():
                label = (
                    file.name
                    if file.suffix.lower() not in (".xlsx", ".xlsm")
                    else (f"{file.name}:{sheet}")
                )
                lacking = [c for c in tm.requires if c not in frame.columns]
                if lacking:
                    problems.append(
                        Problem(
                            label,
                            None,
                            ", ".join(lacking),
                            None,
                            _("column not in the file; the file is not read as {table}").format(
                                table=tm.table
                            ),
                            "warning",
                        )
                    )
                    continue
                frame = _joined(sources, tm, frame, problems, label, _)
                part = builder.build(label, frame)
                tables.setdefault(tm.table, []).append(part)
                c = counts.setdefault(tm.table, TableCounts())
                c.read += part.rows_read
                c.rejected += part.rows_skipped
                skipped_by_file[label] = max(skipped_by_file.get(label, 0), part.rows_skipped)
    problems.extend(sources.problems)  # files no reader could read
    _drop_repeated_keys(tables)
    problems.extend(convert_tables(tables, Rates(currency, rates), as_of=as_of, translate=_))
    if sources.single is not None and not tables and not sources.problems:
        problems.append(
            Problem(path.name, None, None, None, _("no table of the mapping reads this file"))
        )
    rows_read = sum(len(f) for sheets in sources.cache.values() for f in sheets.values())
    report("validate", 0, 1)
    with engine.connect() as connection:

        def store_keys(table: str) -> set[str]:
            return set(connection.execute(text(f"SELECT key FROM {table}")).scalars())

        def store_currencies(table: str) -> dict[str, set[str]]:
            rows = connection.execute(
                text(
                    f"SELECT DISTINCT a.key, t.currency FROM {table} t "
                    "JOIN accounts a ON a.id = t.account_id WHERE t.currency IS NOT NULL"
                )
            )
            found: dict[str, set[str]] = {}
            for key, code in rows:
                found.setdefault(key, set()).add(code)
            return found

        problems.extend(
            validate(
                tables,
                as_of=as_of,
                store_keys=store_keys,
                store_currencies=store_currencies,
                company_currency=currency,
                translate=_,
                outlier_factor=mapping.outlier_factor,
            )
        )
        # the duplicate preview is for a file that would import: errors come first
        if "accounts" in tables and not any(p.severity == "error" for p in problems):
            names = connection.execute(text("SELECT key, name FROM accounts")).all()
            stored = {str(key): str(name) for key, name in names}
            problems.extend(likely_duplicates(tables["accounts"], stored, translate=_))
    problems = list(dict.fromkeys(problems))  # one file feeding several tables: say it once
    result = ImportResult(
        source=source.name,
        format=fmt,
        checksum=checksum(source),
        rows_read=rows_read,
        rows_rejected=sum(skipped_by_file.values()),
        tables=counts,
        problems=problems,
        dry_run=dry_run,
    )
    if result.errors:
        raise ImportRefused(result, _)
    # A dry run writes inside the transaction and rolls back: its counts of new, updated and
    # unchanged rows and its data-quality note are those the import would give.
    with engine.connect() as connection, connection.begin() as transaction:
        if connection.dialect.name == "sqlite":
            # pysqlite opens its transaction at the first INSERT/UPDATE only: begin it now, so
            # the staging tables' DDL is inside it too (and a dry run's rollback undoes all)
            connection.exec_driver_sql("BEGIN")
            # a larger page cache speeds up index inserts
            connection.exec_driver_sql(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}")
        ids = KeyIds(connection)
        for number, (table, parts) in enumerate(tables.items()):
            report(table, number, len(tables))
            # Files mapping different columns are written apart: a column one file does not
            # map must keep its value (or server default), not become NULL.
            groups: dict[tuple[str, ...], list[pd.DataFrame]] = {}
            for part in parts:
                if len(part.frame):
                    groups.setdefault(tuple(part.frame.columns), []).append(part.frame)
            for frames in groups.values():
                frame = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
                done = upsert_table(connection, table, frame, ids)
                counts[table].inserted += done.inserted
                counts[table].updated += done.updated
                counts[table].unchanged += done.unchanged
        result.quality = data_quality(connection, _)
        if connection.dialect.name == "sqlite":
            connection.exec_driver_sql("PRAGMA cache_size = -2000")
        if dry_run:
            transaction.rollback()
            return result
        row = Import(
            imported_at=imported_at,
            imported_by=imported_by,
            source=str(source.name)[:500],
            format=fmt,
            mapping=mapping.name,
            checksum=result.checksum,
            rows_read=result.rows_read,
            rows_inserted=result.inserted,
            rows_updated=result.updated,
            rows_unchanged=result.unchanged,
            rows_rejected=result.rows_rejected,
            tables={t: vars(c) for t, c in counts.items()},
            warnings=len(result.warnings),
        )
        inserted = connection.execute(
            Import.__table__.insert().values(
                {c.name: getattr(row, c.name) for c in Import.__table__.columns if c.name != "id"}
            )
        )
        result.import_id = int(inserted.inserted_primary_key[0])
        report("done", len(tables), len(tables))
    refresh_statistics(engine, tables)  # the re-score and the pages plan with the new rows
    return result


class ImportRefused(DataValidationError):
    """An import found errors and wrote nothing; ``result`` has the counts and every problem."""

    def __init__(self, result: ImportResult, translate: Callable[[str], str]) -> None:
        self.result = result
        _ = translate
        super().__init__(
            _("{source}: {errors} errors, nothing imported").format(
                source=result.source, errors=f"{rows_affected(result.problems):,}"
            ),
            result.problems,
        )
