"""Expensive test stores built once per test run, also when pytest-xdist spreads the tests over
several worker processes (``scripts/test`` runs ``-n auto``).

The first worker that asks builds the folder under a file lock in the run's shared temporary
folder; the others wait for it. Every worker then works on a private copy, so a test that writes
to its store never reaches another worker's. Without xdist the folder is simply built in place.
"""

from __future__ import annotations

import fcntl
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest


def built_once(
    tmp_path_factory: pytest.TempPathFactory, name: str, build: Callable[[Path], None]
) -> Path:
    """A folder of this worker's own, holding what ``build(folder)`` wrote into a fresh folder."""
    mine = tmp_path_factory.mktemp(name)
    if os.environ.get("PYTEST_XDIST_WORKER") is None:
        build(mine)
        return mine
    # the workers' base folders are <run's base>/gw0, gw1, …: their parent is this run's alone
    shared = tmp_path_factory.getbasetemp().parent / f"once-{name}"
    done = shared / ".built"
    with open(f"{shared}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if not done.exists():
            shutil.rmtree(shared, ignore_errors=True)
            shared.mkdir()
            build(shared)
            done.touch()
    shutil.copytree(shared, mine, dirs_exist_ok=True, ignore=shutil.ignore_patterns(".built"))
    return mine
