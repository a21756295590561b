"""Where an import's files come from: one file, an export folder, or a delivered ``.zip``.

:class:`Sources` finds the files a table mapping names (by glob, ignoring case, only those a
reader can read), reads each once, renames its headers by the mapping's ``headers`` aliases,
and turns a file no reader can read (a CSV with a broken line, a truncated workbook, a damaged
Parquet file) into problems of the import's report instead of an exception, so the import ends
in a report either way.

:func:`unpacked` opens a ``.zip`` as delivered by Salesforce's weekly data export (one CSV per
object, sometimes inside one folder) into a private temporary folder (mode 0700), refusing
members that would land outside it, and removes it afterwards.
"""

from __future__ import annotations

import fnmatch
import os
import shutil
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import pandas as pd

from tillage.errors import ConfigurationError, DataValidationError, Problem
from tillage.ingest.mapping import Mapping, rename_headers
from tillage.ingest.readers import (
    EXCEL_SUFFIXES,
    PARQUET_SUFFIXES,
    TEXT_SUFFIXES,
    Translate,
    read_file,
)

READABLE_SUFFIXES = TEXT_SUFFIXES | EXCEL_SUFFIXES | PARQUET_SUFFIXES
MAX_UNPACKED_BYTES = 4 << 30  # a zip bomb stops here (4 GiB unpacked)
TEMPORARY_PREFIXES = ("tillage-upload-", "tillage-zip-", "tillage-stdin-")
LEFTOVER_AGE = 3600  # seconds after which a temporary import folder is a leftover


@dataclass
class Sources:
    """The files of one import and what reading them found."""

    root: Path
    single: Path | None
    mapping: Mapping | None = None
    translate: Translate = field(default=lambda text: text)
    problems: list[Problem] = field(default_factory=list)
    cache: dict[tuple[Path, str | None], dict[str, pd.DataFrame]] = field(default_factory=dict)

    def read(self, path: Path, sheet: str | None) -> dict[str, pd.DataFrame]:
        """Every sheet of ``path`` (headers renamed); ``{}`` with problems when unreadable."""
        if (path, sheet) not in self.cache:
            skip_rows = self.mapping.skip_rows if self.mapping is not None else 0
            try:
                sheets = read_file(
                    path,
                    sheet=sheet,
                    skip_rows=skip_rows,
                    problems=self.problems,
                    translate=self.translate,
                )
            except DataValidationError as exc:
                self.problems.extend(
                    exc.problems or [Problem(path.name, None, None, None, str(exc))]
                )
                sheets = {}
            if self.mapping is not None:
                sheets = {name: rename_headers(f, self.mapping) for name, f in sheets.items()}
            self.cache[(path, sheet)] = sheets
        return self.cache[(path, sheet)]

    def files(self, pattern: str | None) -> list[Path]:
        """Files matching ``pattern`` (every file for ``None`` when importing one file)."""
        if self.single is not None:
            if pattern is None or fnmatch.fnmatch(self.single.name.lower(), pattern.lower()):
                return [self.single]
            return []
        if pattern is None:
            raise ConfigurationError(
                "the mapping's tables need a `file` pattern when importing a folder"
            )
        return self.matching(pattern)

    def matching(self, pattern: str) -> list[Path]:
        """Readable files of the folder whose names match ``pattern``, in name order."""
        return sorted(
            p
            for p in self.root.iterdir()
            if p.is_file()
            and p.suffix.lower() in READABLE_SUFFIXES
            and fnmatch.fnmatch(p.name.lower(), pattern.lower())
        )


def _safe_members(archive: zipfile.ZipFile, name: str) -> list[zipfile.ZipInfo]:
    members = [m for m in archive.infolist() if not m.is_dir()]
    total = 0
    for member in members:
        parts = PurePosixPath(member.filename.replace("\\", "/")).parts
        if member.filename.startswith(("/", "\\")) or ".." in parts or ":" in member.filename:
            raise DataValidationError(
                f"{name}: refused, a member would be written outside the folder",
                [Problem(name, None, None, member.filename, "unsafe path inside the zip")],
            )
        total += member.file_size
    if total > MAX_UNPACKED_BYTES:
        raise DataValidationError(
            f"{name}: refused, it unpacks to more than {MAX_UNPACKED_BYTES >> 30} GiB",
            [Problem(name, None, None, None, "the zip unpacks to too much data")],
        )
    return members


def remove_leftovers(now: float, folder: Path | None = None) -> int:
    """Remove the temporary folders of imports that never finished (a server or command killed
    mid-upload): this user's ``tillage-upload-*``, ``tillage-zip-*`` and ``tillage-stdin-*``
    folders in ``folder`` (default: the system's temporary folder) older than an hour at ``now``
    (seconds since the epoch). Returns how many were removed."""
    root = Path(folder or tempfile.gettempdir())
    removed = 0
    for entry in root.iterdir():
        try:
            if not (entry.is_dir() and entry.name.startswith(TEMPORARY_PREFIXES)):
                continue
            info = entry.stat()
            if info.st_uid == os.getuid() and now - info.st_mtime > LEFTOVER_AGE:
                shutil.rmtree(entry, ignore_errors=True)
                removed += 1
        except FileNotFoundError:  # removed meanwhile by another process
            continue
    return removed


@contextmanager
def unpacked(path: Path) -> Iterator[Path]:
    """The folder holding the files of the zip ``path``; removed when the block ends.

    When every file lies in one folder inside the zip, that folder is given.
    """
    folder = Path(tempfile.mkdtemp(prefix="tillage-zip-"))  # mode 0700: the owner only
    try:
        try:
            with zipfile.ZipFile(path) as archive:
                for member in _safe_members(archive, path.name):
                    target = folder / PurePosixPath(member.filename.replace("\\", "/"))
                    target.parent.mkdir(parents=True, exist_ok=True)
                    with archive.open(member) as src, target.open("wb") as out:
                        shutil.copyfileobj(src, out)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError) as exc:
            raise DataValidationError(
                f"{path.name}: not a readable zip archive",
                [Problem(path.name, None, None, None, f"not a readable zip archive ({exc})")],
            ) from exc
        root = folder
        while True:
            entries = [p for p in root.iterdir() if not p.name.startswith(("__MACOSX", "."))]
            if len(entries) == 1 and entries[0].is_dir():
                root = entries[0]
                continue
            break
        yield root
    finally:
        shutil.rmtree(folder, ignore_errors=True)
