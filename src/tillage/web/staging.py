"""Uploads waiting for confirmation: the Data page's state between "validate" and "import".

A validated upload is kept in ``<data_dir>/uploads/<token>/`` (the file as uploaded, under its
safe name, and ``upload.json``: who uploaded it and what it holds) until its uploader confirms
it, or for :data:`MAX_AGE` seconds. The token is 128 random bits and answers only to the user
who uploaded it; the folder is on disk, so every server process (``tillage serve --workers N``)
finds it.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

from tillage.errors import NotFoundError

FOLDER = "uploads"
META = "upload.json"
CLAIMED = "claimed-"  # prefix of an upload's folder while it is being imported
MAX_AGE = 3600  # seconds a validated upload waits for its confirmation
TOKEN = re.compile(r"^[A-Za-z0-9_-]{22}$")


@dataclass(frozen=True)
class Staged:
    """A validated upload: the file ``name`` in folder ``token``, uploaded by ``user_id``, read
    as ``table``'s columns or with the mapping ``mapping_text`` (named ``mapping_name``)."""

    token: str
    user_id: int | None
    name: str
    table: str | None
    mapping_text: str | None
    mapping_name: str

    def path(self, root: Path) -> Path:
        """The uploaded file."""
        return root / self.token / self.name


def staging_root(data_dir: Path) -> Path:
    """Where validated uploads wait (created on first use, readable by this user only)."""
    root = data_dir / FOLDER
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    return root


def clear_stale(root: Path, now: float) -> None:
    """Remove uploads older than :data:`MAX_AGE` at ``now`` (seconds since the epoch)."""
    for folder in root.iterdir():
        try:
            if folder.is_dir() and now - folder.stat().st_mtime > MAX_AGE:
                shutil.rmtree(folder, ignore_errors=True)
        except FileNotFoundError:  # another process removed it first
            continue


def new_folder(root: Path, now: float) -> tuple[str, Path]:
    """A fresh folder for an upload and its token (stale uploads are cleared first)."""
    clear_stale(root, now)
    token = secrets.token_urlsafe(16)
    folder = root / token
    folder.mkdir(mode=0o700)
    return token, folder


def keep(root: Path, staged: Staged) -> None:
    """Record what the upload in ``staged.token``'s folder holds, for :func:`load`."""
    (root / staged.token / META).write_text(json.dumps(asdict(staged)), encoding="utf-8")


def load(root: Path, token: str, user_id: int | None, now: float) -> Staged:
    """The upload ``token`` of ``user_id``; :class:`NotFoundError` when it is unknown, someone
    else's, or older than :data:`MAX_AGE`."""
    meta = root / token / META if TOKEN.match(token) else None
    try:
        if meta is not None and now - meta.stat().st_mtime <= MAX_AGE:
            staged = Staged(**json.loads(meta.read_text(encoding="utf-8")))
            if staged.user_id == user_id and staged.path(root).is_file():
                return staged
    except (FileNotFoundError, ValueError, TypeError):
        pass
    raise NotFoundError(
        "this validated upload is gone (confirmed already, or older than an hour): "
        "upload the file again"
    )


def claim(root: Path, token: str, user_id: int | None, now: float) -> tuple[Staged, Path]:
    """Take the upload ``token`` of ``user_id`` for its import: it is moved out of reach, so a
    second confirmation (a double click) finds it gone. Returns it and the file's new path;
    :func:`discard` the token when done. :class:`NotFoundError` as for :func:`load`."""
    staged = load(root, token, user_id, now)
    claimed = root / f"{CLAIMED}{token}"
    try:
        (root / token).rename(claimed)
    except OSError:  # claimed by a concurrent request first
        raise NotFoundError("this validated upload is being imported already") from None
    os.utime(claimed)  # its hour to be cleared starts again: the import needs the file
    return staged, claimed / staged.name


def discard(root: Path, token: str) -> None:
    """Remove the upload ``token``, claimed or not (after its import, or when refused)."""
    if TOKEN.match(token):
        shutil.rmtree(root / token, ignore_errors=True)
        shutil.rmtree(root / f"{CLAIMED}{token}", ignore_errors=True)
