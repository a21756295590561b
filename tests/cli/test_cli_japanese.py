"""The CLI in Japanese (the default language) from ``python -m tillage``: refusals, the won
deals' revenue line and ``tillage ltv``'s own notice of its date carry no English words."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pandas as pd
from sqlalchemy import text

from tillage.i18n import format_money
from tillage.store.database import make_engine, migrate

from ..crm_store import crm_only_store
from ..installed import run_tillage


def _run(args: list[str], data_dir: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return run_tillage(args, data_dir=data_dir, columns=200, env=env, timeout=180)


def test_a_refusal_says_error_in_japanese(tmp_path: Path) -> None:
    done = _run(["kpi", "--period", "2026-Q3"], tmp_path)  # a store never created
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("エラー: ストアを読み込めません"), done.stderr
    assert "error:" not in done.stderr and "cannot be read" not in done.stderr
    assert "Traceback" not in done.stderr


def test_a_refusal_in_english_with_lang_en(tmp_path: Path) -> None:
    done = _run(["--lang", "en", "kpi", "--period", "2026-Q3"], tmp_path)
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("error: the store cannot be read"), done.stderr


def test_ltv_of_a_crm_only_company_speaks_japanese(tmp_path: Path) -> None:
    url, _as_of, won = crm_only_store(f"sqlite:///{tmp_path / 't.db'}")
    done = _run(["ltv", "--top", "3"], tmp_path, TILLAGE_DATABASE_URL=url)
    assert done.returncode == 0, done.stderr
    out = " ".join(done.stdout.split())
    used = won[won["close_date"].notna() & won["amount"].notna()]
    assert "時点で顧客を評価します" in out, out
    assert "スコアリング" not in out  # ltv values the accounts, it does not score them
    line = f"売上：成約した商談を売上とします（受注も契約もないため）：{len(used)} 件の商談を"
    assert f"{line}成約日に計上" in out, out
    assert "won deals" not in out and "revenue:" not in out


def test_ltv_names_the_accounts_and_writes_their_ids_to_a_file(tmp_path: Path) -> None:
    """The table shows each account's name (as ``tillage accounts`` does), amounts with the
    currency and separators, probabilities as percentages, never an internal id; ``--out`` keeps
    the id and adds the key and the name."""
    url, _as_of, _won = crm_only_store(f"sqlite:///{tmp_path / 't.db'}")
    out = tmp_path / "ltv.csv"
    done = _run(["ltv", "--top", "3", "--out", str(out)], tmp_path, TILLAGE_DATABASE_URL=url)
    assert done.returncode == 0, done.stderr
    written = pd.read_csv(out, index_col="account_id")
    assert list(written.columns[:2]) == ["key", "name"]
    top = written.sort_values("ltv", ascending=False).head(3)
    table = done.stdout.split("LTV", 1)[1]
    for account_id, row in top.iterrows():
        line = next(line for line in table.splitlines() if row["name"] in line)
        assert f" {account_id} " not in line.replace("│", " ")  # the id is not a column
        assert format_money(row["ltv"], "JPY", "ja") in line, line
        assert "%" in line  # churn risk, P(alive)
    first = next(line for line in table.splitlines() if top["name"].iloc[0] in line)
    cells = [cell.strip() for cell in first.split("│") if cell.strip()]
    assert cells[0] == top["name"].iloc[0]


def test_a_store_behind_the_schema_is_named_in_japanese_with_status_2(tmp_path: Path) -> None:
    """After an upgrade of tillage the store's schema is behind: the message says so in the
    language (it was English inside a Japanese line) and names the command that mends it."""
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = make_engine(url)
    migrate(engine)
    with engine.begin() as connection:  # a store last migrated by an older tillage
        connection.execute(text("UPDATE alembic_version SET version_num = '0001'"))
    engine.dispose()
    done = _run(["accounts"], tmp_path, TILLAGE_DATABASE_URL=url)
    assert done.returncode == 2, done.stderr
    said = " ".join(done.stderr.split())
    assert "ストアのスキーマはリビジョン 0001 です" in said, said
    assert "tillage db upgrade" in said
    assert "schema revision" not in said and "expected" not in said
