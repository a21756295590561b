"""``tillage renewals``, ``tillage plan --export`` and ``tillage users add`` with the new roles,
run as the installed command in a subprocess (exit status and message, as cron sees them), on a
small scored demo company."""

from __future__ import annotations

import csv
import io
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from tillage.services.renewals import renewal_calendar
from tillage.store.access import everything
from tillage.store.database import make_engine
from tillage.store.schema import Rep

from ..installed import run_tillage
from ..small_store import small_store_copy


@pytest.fixture(scope="module")
def store(small_scored_store: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    """A scored demo company of 100 accounts (tests/small_store.py): its URL and a data folder."""
    url, folder, _owner = small_store_copy(small_scored_store, tmp_path_factory.mktemp("dept"))
    return url, folder


def _run(
    store: tuple[str, Path], *args: str, lang: str = "ja", columns: int = 250
) -> subprocess.CompletedProcess:
    url, folder = store
    return run_tillage(args, data_dir=folder, database_url=url, lang=lang, columns=columns)


def _calendar(store: tuple[str, Path], days: int, rep: str | None = None):  # type: ignore[no-untyped-def]
    engine = make_engine(store[0])
    with Session(engine) as session:
        answer = renewal_calendar(session, everything(), days=days, rep=rep)
        owners = list(session.scalars(select(Rep.key).where(Rep.role == "rep").order_by(Rep.id)))
    engine.dispose()
    return answer, owners


def test_renewals_table_in_japanese(store: tuple[str, Path]) -> None:
    done = _run(store, "renewals", "--days", "180")
    assert done.returncode == 0, done.stderr
    answer, _ = _calendar(store, 180)
    assert answer.total > 0
    assert f"未決の更新 {answer.total} 件" in done.stdout
    assert "残り日数" in done.stdout and "更新日" in done.stdout
    first = answer.items[0]
    assert first.account[:8] in done.stdout
    assert f"￥{round(first.arr):,}" in done.stdout  # full yen with separators in the table
    assert "Days to go" not in done.stdout and "renewal_" not in done.stdout


def test_renewals_table_in_a_narrow_terminal_cuts_no_figure(store: tuple[str, Path]) -> None:
    """At 80 columns (a pipe's width) the table drops days, product and team and writes the
    amounts compactly: every date and amount is whole, only long names are shortened."""
    done = _run(store, "renewals", "--days", "180", columns=80)
    assert done.returncode == 0, done.stderr
    answer, _ = _calendar(store, 180)
    rows = [line for line in done.stdout.splitlines() if line.startswith("│ 20")]
    assert len(rows) == answer.total  # one line per renewal: nothing wrapped
    for line, item in zip(rows, answer.items, strict=True):
        cells = [cell.strip() for cell in line.strip("│").split("│")]
        assert cells[0] == item.renewal_date.isoformat()
        assert cells[2].startswith("￥") and "…" not in cells[2]
        if 10_000 <= item.arr < 100_000_000:
            assert cells[2].endswith("万")  # compact, as a Japanese reader writes it
        assert "…" not in cells[4] and "…" not in cells[5]
    assert max(len(line) for line in done.stdout.splitlines()) <= 80
    assert "製品" not in done.stdout and "チーム" not in done.stdout


def test_renewals_by_rep_and_csv(store: tuple[str, Path]) -> None:
    answer, owners = _calendar(store, 366)
    rep = next(r.rep_key for r in answer.items if r.rep_key)
    done = _run(store, "renewals", "--days", "366", "--rep", rep, "--format", "csv")
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(io.StringIO(done.stdout)))
    mine = [i for i in answer.items if i.rep_key == rep]
    assert len(rows) == len(mine) > 0
    assert {r["担当者"] for r in rows} == {mine[0].rep}
    assert [int(r["ARR（年間経常収益）"]) for r in rows] == [round(i.arr) for i in mine]
    assert len(owners) > 1


@pytest.mark.parametrize(
    ("args", "status", "words"),
    [
        (["--rep", "NO-SUCH-REP"], 1, ["NO-SUCH-REP"]),
        (["--team", "NO-SUCH-TEAM"], 1, ["NO-SUCH-TEAM"]),
        (["--days", "0"], 2, ["days", "0"]),
        (["--days", "400"], 2, ["400"]),
        (["--format", "pdf"], 2, ["pdf"]),
    ],
)
def test_renewals_refusals_exit_non_zero(
    store: tuple[str, Path], args: list[str], status: int, words: list[str]
) -> None:
    done = _run(store, "renewals", *args, lang="en")
    assert done.returncode == status, (done.stdout, done.stderr)
    for word in words:
        assert word in done.stderr


def test_plan_export_for_salesforce_names_the_rows_without_ids(
    store: tuple[str, Path], tmp_path: Path
) -> None:
    out = tmp_path / "tasks.csv"
    done = _run(store, "plan", "--month", "2026-10", "--export", "salesforce-tasks", "-o", str(out))
    assert done.returncode == 0, done.stderr
    rows = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    assert rows[0][:7] == [
        "Subject",
        "ActivityDate",
        "Status",
        "Priority",
        "WhatId",
        "OwnerId",
        "Description",
    ]
    assert len(rows) > 1 and {r[1] for r in rows[1:]} == {"2026-10-31"}
    assert (
        f"{len(rows) - 1} 件のタスクのうち {len(rows) - 1} 件に CRM の ID がありません"
        in done.stderr
    )
    bad = _run(store, "plan", "--month", "2026-10", "--export", "pipedrive-tasks")
    assert bad.returncode == 2 and "pipedrive-tasks" in bad.stderr


def test_users_add_accepts_the_new_roles(store: tuple[str, Path]) -> None:
    _answer, owners = _calendar(store, 30)
    for login, role, rep in (
        ("cs@example.com", "success", owners[0]),
        ("mkt@example.com", "marketing", None),
        ("cfo@example.com", "finance", None),
    ):
        args = ["users", "add", login, "--role", role, "--password", "pw-12345678"]
        done = _run(store, *args, *(["--rep", rep] if rep else []), lang="en")
        assert done.returncode == 0, done.stderr
    listed = _run(store, "users", "list")
    assert "カスタマーサクセス" in listed.stdout and "財務・経営" in listed.stdout
    no_rep = _run(
        store,
        "users",
        "add",
        "cs2@example.com",
        "--role",
        "success",
        "--password",
        "pw-12345678",
        lang="en",
    )
    assert no_rep.returncode == 1 and "--rep" in no_rep.stderr
    bogus = _run(
        store,
        "users",
        "add",
        "x@example.com",
        "--role",
        "sales-ops",
        "--password",
        "pw-12345678",
        lang="en",
    )
    assert bogus.returncode == 1 and "sales-ops" in bogus.stderr
