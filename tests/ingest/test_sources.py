"""Where an import's files come from: zips unpacked privately and safely, leftovers removed."""

from __future__ import annotations

import os
import stat
import time
import zipfile
from pathlib import Path

import pytest

from tillage.errors import DataValidationError
from tillage.ingest.sources import Sources, remove_leftovers, unpacked


def test_a_zip_opens_into_a_private_folder_removed_afterwards(tmp_path: Path) -> None:
    archive = tmp_path / "WE_00D_1.ZIP"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("export/Account.csv", "Id,Name\n1,A\n")
        zipped.writestr("export/User.csv", "Id\n")
    with unpacked(archive) as folder:
        assert sorted(p.name for p in folder.iterdir()) == ["Account.csv", "User.csv"]
        top = folder.parent  # the one folder inside the zip is given
        assert stat.S_IMODE(top.stat().st_mode) == 0o700
    assert not folder.exists() and not top.exists()


def test_a_member_outside_the_folder_is_refused(tmp_path: Path) -> None:
    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("../../escape.csv", "x\n")
    with pytest.raises(DataValidationError) as refused, unpacked(archive):
        pass
    assert refused.value.problems[0].value == "../../escape.csv"
    assert not (tmp_path.parent / "escape.csv").exists()


def test_only_readable_files_match_a_pattern(tmp_path: Path) -> None:
    for name in ("hubspot-crm-exports-all-deals-2025-11-28.csv", "deals.xlsx", "deals.pdf"):
        (tmp_path / name).write_text("x")
    found = Sources(tmp_path, None).matching("*deal*")
    assert [p.name for p in found] == ["deals.xlsx", "hubspot-crm-exports-all-deals-2025-11-28.csv"]


def test_leftovers_of_killed_imports_are_removed(tmp_path: Path) -> None:
    old = tmp_path / "tillage-upload-abc"
    fresh = tmp_path / "tillage-zip-def"
    other = tmp_path / "someone-else"
    for folder in (old, fresh, other):
        folder.mkdir()
        (folder / "customers.csv").write_text("secret")
    hours_ago = time.time() - 7200
    os.utime(old, (hours_ago, hours_ago))
    os.utime(other, (hours_ago, hours_ago))
    assert remove_leftovers(time.time(), tmp_path) == 1
    assert not old.exists() and fresh.exists() and other.exists()
