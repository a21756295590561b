"""Every command's failure path exits non-zero from the installed ``tillage``: 1 when data is
refused (the message names file, row and column), 2 for usage and an unusable store.

These run the console script pip installed (``tillage`` beside the test's Python), not the
Typer app in-process: the exit status a cron job sees is the one under test.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from ..installed import run_tillage

EXPORTS = Path(__file__).resolve().parents[1] / "data" / "exports"
FILES = EXPORTS / "files"
MAPPING = str(FILES / "orders.toml")


def _run(
    args: list[str], data_dir: Path, stdin: bytes | None = None
) -> subprocess.CompletedProcess:
    # rich tables wide enough to keep each cell on one line
    return run_tillage(
        args, data_dir=data_dir, lang="en", columns=200, input=stdin, text=False, timeout=180
    )


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data folder with an empty, current store."""
    folder = tmp_path_factory.mktemp("store")
    done = _run(["db", "upgrade"], folder)
    assert done.returncode == 0, done.stderr
    return folder


# (command line, exit status, words the message must hold: file, row, column, reason)
REFUSED_DATA = [
    (["import", str(FILES / "inf_amount.csv"), "--mapping", MAPPING],
     ["inf_amount.csv", "4", "amount", "not a finite number"]),
    (["import", str(FILES / "huge_amount.csv"), "--mapping", MAPPING],
     ["huge_amount.csv", "4", "amount", "too large to store"]),
    (["import", str(FILES / "outlier_amount.csv"), "--mapping", MAPPING],
     ["outlier_amount.csv", "12", "amount", "99.9th percentile"]),
    (["import", str(FILES / "nul_byte.csv"), "--mapping", MAPPING],
     ["nul_byte.csv", "4", "company", "control character"]),
    (["import", str(FILES / "extra_field.csv"), "--mapping", MAPPING],
     ["extra_field.csv", "3", "8 fields, the header has 7"]),
    (["import", str(FILES / "truncated.xlsx"), "--mapping", MAPPING],
     ["truncated.xlsx", "Excel workbook"]),
    (["import", str(FILES / "bad.parquet"), "--mapping", MAPPING],
     ["bad.parquet", "Parquet"]),
    (["import", str(FILES / "WE_00D5g000000CORRUPT_1.ZIP")],
     ["WE_00D5g000000CORRUPT_1.ZIP", "zip"]),
    (["import", str(FILES / "trailing_commas.csv"), "--mapping", str(FILES / "missing.toml")],
     ["missing.toml", "no such file"]),
    (["import", str(FILES / "no-such-export.csv"), "--mapping", MAPPING],
     ["no-such-export.csv", "no such file"]),
]  # fmt: skip


@pytest.mark.parametrize(("args", "words"), REFUSED_DATA, ids=lambda v: Path(v[1]).name)
def test_refused_data_exits_1_naming_file_row_and_column(
    store: Path, args: list[str], words: list[str]
) -> None:
    done = _run(args, store)
    output = (done.stdout + done.stderr).decode()
    assert done.returncode == 1, output
    for word in words:
        assert word in output, (word, output)
    assert "Traceback" not in output


def test_clv_refuses_a_bad_date_with_1(store: Path, tmp_path: Path) -> None:
    bad = tmp_path / "log.csv"
    bad.write_text("id,day,value\n1,2024-01-01,10\n1,2024-13-45,5\n", encoding="utf-8")
    done = _run(["clv", str(bad), "--customer", "id", "--date", "day", "--amount", "value"], store)
    output = (done.stdout + done.stderr).decode()
    assert done.returncode == 1 and "row 3" in output and "2024-13-45" in output


USAGE = [
    ["import", str(FILES / "trailing_commas.csv"), "--format", "xml"],
    ["clv", str(FILES / "trailing_commas.csv")],  # missing --customer …
    ["kpi", "--period", "2026-Q3", "--by", "nothing"],
    ["serve", "--workers", "0"],
    ["strategy", "validate", str(FILES / "orders.toml")],  # not a strategy file
    ["no-such-command"],
]


@pytest.mark.parametrize("args", USAGE, ids=lambda a: " ".join(a[:2]))
def test_usage_errors_exit_2(store: Path, args: list[str]) -> None:
    done = _run(args, store)
    output = (done.stdout + done.stderr).decode()
    assert done.returncode == 2, output
    assert "Traceback" not in output


UNUSABLE_STORE = [
    ["score"],
    ["kpi", "--period", "2026-Q3"],
    ["review", "--period", "2026-Q3"],
    ["features", "--as-of", "2026-09-30", "--out", "features.parquet"],
    ["users", "list"],
]


@pytest.mark.parametrize("args", UNUSABLE_STORE, ids=lambda a: a[0])
def test_commands_on_a_store_never_created_exit_2(tmp_path: Path, args: list[str]) -> None:
    done = _run([*args], tmp_path)
    output = (done.stdout + done.stderr).decode()
    assert done.returncode == 2, output
    assert "store" in output
    assert "Traceback" not in output


def test_import_reads_standard_input(store: Path) -> None:
    data = (FILES / "trailing_commas.csv").read_bytes()
    done = _run(["import", "-", "--mapping", MAPPING, "--dry-run"], store, stdin=data)
    output = (done.stdout + done.stderr).decode()
    assert done.returncode == 0, output
    assert "3 rows read" in output and "Dry run" in output
    refused = _run(
        ["import", "-", "--mapping", MAPPING], store, stdin=(FILES / "inf_amount.csv").read_bytes()
    )
    text = (refused.stdout + refused.stderr).decode()
    assert refused.returncode == 1 and "stdin.csv" in text and "amount" in text
