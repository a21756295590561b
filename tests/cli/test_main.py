"""The entry point turns usage errors into a message and exit status 2, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tillage.cli.commands import COMMANDS, load_command
from tillage.cli.context import state
from tillage.i18n import gettext_for

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


HEAVY = ("pandas", "numpy", "sqlalchemy", "fastapi", "scipy", "ibis", "duckdb")
PROBE = (
    "import contextlib, io, sys\n"
    "from tillage.cli.main import app\n"
    "with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):\n"
    "    app(['--help'], standalone_mode=False)\n"
    "print(','.join(m for m in {heavy!r} if m in sys.modules))\n"
)


def _probe(code: str) -> str:
    """What ``code`` prints, run by a fresh interpreter (so that nothing is imported yet)."""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_help_imports_no_heavy_library() -> None:
    """``tillage --help`` lists the commands without importing any of them."""
    assert _probe(PROBE.format(heavy=HEAVY)) == ""


SOLVERS = ("scipy.optimize", "scipy.sparse", "scipy.stats", "sklearn", "openpyxl")
LOADED = (
    "import sys\n"
    "import tillage.services.scoring, tillage.server, tillage.cli.score, tillage.cli.ltv\n"
    "print(','.join(m for m in {solvers!r} if m in sys.modules))\n"
)


def test_commands_and_the_server_start_without_the_solvers() -> None:
    """The optimisers, sparse matrices, statistics, scikit-learn and the workbook writer are
    imported where a fit, a plan or a workbook needs them (together about a second of every
    command's and server worker's start)."""
    assert _probe(LOADED.format(solvers=SOLVERS)) == ""


LIGHT_COMMANDS = (
    "ltv",
    "score",
    "accounts",
    "kpi",
    "imports",
    "clv",
    "demo",
    "serve",
    "review",
    "one_on_one",
)


@pytest.mark.parametrize("command", LIGHT_COMMANDS)
def test_a_commands_help_and_usage_errors_load_no_heavy_library(command: str) -> None:
    """The modules of the most used commands import the models, the store and the features in
    their bodies: their help and usage errors start as fast as ``tillage --help``."""
    probe = f"import sys\nimport tillage.cli.{command}\n"
    assert _probe(probe + f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))") == ""


TABLES = (
    "import sys\n"
    "import tillage.report.renewals, tillage.report.terminal, tillage.kpi.period\n"
    "print(','.join(m for m in ('ibis', 'duckdb', 'tillage.kpi.compute') if m in sys.modules))\n"
)


def test_a_table_is_written_without_the_kpi_queries() -> None:
    """Every command's tables format figures as the KPIs do (:mod:`tillage.kpi.units`): that
    does not load ibis, DuckDB and the KPI queries (half a second of ``tillage renewals``)."""
    assert _probe(TABLES) == ""


def test_help_starts_fast() -> None:
    """A generous bound on the start (under 1 s on an idle machine; CI machines are shared)."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", RUN_CLI, "--help"], capture_output=True, text=True, timeout=120
    )
    elapsed = time.perf_counter() - started
    assert done.returncode == 0 and "portfolio" in done.stdout
    assert elapsed < 8.0


def test_each_help_line_is_the_commands_own(monkeypatch: pytest.MonkeyPatch) -> None:
    """The help lines listed without importing match each command's own first help line (in
    English, the source of the catalog; in Japanese the command's help is the line's
    translation)."""
    japanese = gettext_for("ja")
    for name, (_target, _kind, line) in COMMANDS.items():
        monkeypatch.setattr(state, "lang", "en")
        command = load_command(name)
        own = " ".join((command.help or "").split("\n\n")[0].split())
        assert own == line, name
        monkeypatch.setattr(state, "lang", "ja")
        assert load_command(name).help == japanese(line) != line, name
