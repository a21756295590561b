"""The installed ``tillage`` command in a subprocess, as a user, a cron job or a CI step runs it:
its exit status, its standard output and error, its language. (``CliRunner`` calls the command
in the test's own process and once hid that every refusal exited 0.)"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"

#: Settings a test's environment must not pass on unless the test sets them.
_SETTINGS = ("TILLAGE_DATA_DIR", "TILLAGE_DATABASE_URL", "TILLAGE_LANGUAGE")


def tillage_script() -> str:
    """The console script ``tillage`` installed beside this interpreter (``pip install -e .``)."""
    beside = Path(sys.executable).with_name("tillage")
    found = str(beside) if beside.exists() else shutil.which("tillage")
    assert found, "the tillage console script is not installed (pip install -e .)"
    return found


def run_tillage(
    args: Sequence[str],
    *,
    data_dir: Path | None = None,
    database_url: str | None = None,
    lang: str | None = "ja",
    columns: int | None = None,
    env: Mapping[str, str] | None = None,
    input: str | bytes | None = None,
    cwd: Path | None = None,
    text: bool = True,
    timeout: float = 300,
    new_session: bool = False,
) -> subprocess.CompletedProcess:
    """``tillage ARGS`` run by the installed script on this tree's code (``src`` first on the
    path, so that a git worktree tests its own code), with only the settings given: the data
    folder, the store, the language (``None``: the default, Japanese) and the console width.
    ``new_session`` runs it without a terminal (a hidden prompt then reads the input)."""
    environ = {k: v for k, v in os.environ.items() if k not in _SETTINGS}
    environ["PYTHONPATH"] = os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")])
    given = {
        "TILLAGE_DATA_DIR": str(data_dir) if data_dir is not None else None,
        "TILLAGE_DATABASE_URL": database_url,
        "TILLAGE_LANGUAGE": lang,
        "COLUMNS": str(columns) if columns is not None else None,
    }
    environ.update({k: v for k, v in given.items() if v is not None})
    environ.update(env or {})
    return subprocess.run(
        [tillage_script(), *args],
        env=environ,
        input=input,
        cwd=cwd,
        capture_output=True,
        text=text,
        timeout=timeout,
        start_new_session=new_session,
    )
