"""The entry point turns usage errors into a message and exit status 2, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

RUN_CLI = "import sys; from tillage.cli.main import main; sys.argv[0] = 'tillage'; main()"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["review", "--period", "2026-Q3", "--format", "xml"], "Invalid value for --format"),
        (["one-on-one", "--rep", "R1", "--format", "xml"], "Invalid value for --format"),
        (["--bogus"], "No such option: --bogus"),
    ],
)
def test_usage_errors_are_a_message_and_status_2(
    args: list[str], message: str, tmp_path: Path
) -> None:
    env = {**os.environ, "TILLAGE_DATA_DIR": str(tmp_path), "TILLAGE_LANGUAGE": "en"}
    done = subprocess.run(
        [sys.executable, "-c", RUN_CLI, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert message in done.stderr
    assert "Traceback" not in done.stderr + done.stdout
