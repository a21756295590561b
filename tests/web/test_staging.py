"""Validated uploads wait for their own uploader only, and not longer than an hour."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tillage.errors import NotFoundError
from tillage.web import staging


def _staged(root: Path, now: float) -> staging.Staged:
    token, folder = staging.new_folder(root, now)
    (folder / "teams.csv").write_text("key,name\nT,x\n")
    staged = staging.Staged(token, 7, "teams.csv", "teams", None, "")
    staging.keep(root, staged)
    return staged


def test_an_upload_answers_to_its_uploader_until_discarded(tmp_path: Path) -> None:
    root = staging.staging_root(tmp_path)
    now = os.stat(root).st_mtime
    staged = _staged(root, now)
    assert staging.load(root, staged.token, 7, now) == staged
    assert staged.path(root).read_text().startswith("key,name")
    for token, user in ((staged.token, 8), ("../" + staged.token[3:], 7), ("x" * 22, 7)):
        with pytest.raises(NotFoundError, match="upload the file again"):
            staging.load(root, token, user, now)
    # claimed for its import, it is gone for a second confirmation
    claimed, path = staging.claim(root, staged.token, 7, now)
    assert claimed == staged and path.read_text().startswith("key,name")
    with pytest.raises(NotFoundError):
        staging.claim(root, staged.token, 7, now)
    staging.discard(root, staged.token)
    assert list(root.iterdir()) == []


def test_old_uploads_expire_and_are_cleared(tmp_path: Path) -> None:
    root = staging.staging_root(tmp_path)
    now = os.stat(root).st_mtime
    old = _staged(root, now)
    later = now + staging.MAX_AGE + 1
    with pytest.raises(NotFoundError):
        staging.load(root, old.token, 7, later)
    fresh = _staged(root, later)  # making a new one clears the stale
    assert [p.name for p in root.iterdir()] == [fresh.token]
