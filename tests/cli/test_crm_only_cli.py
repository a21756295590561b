"""``tillage score``, ``ltv`` and ``import`` as a new user meets them on real-shaped CRM data
(issue 16): a CRM-only company too small for a purchase model is valued from the chosen
forecast, not at 0; zones are not drawn on values that are all 0; an empty store is refused;
``ltv`` values as of the store's last day of data and speaks the user's language.

These run the installed console script in a subprocess (the exit status and the text a user
sees). The CRM-only company is the demo's accounts and won deals (:mod:`tests.crm_store`), the
shape of the Maven "CRM Sales Opportunities" set, whose licence does not allow a copy here.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from ..crm_store import crm_only_store
from ..installed import run_tillage


def _tillage(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    # rich tables wide enough to keep each cell on one line
    return run_tillage(args, database_url=url, columns=250, env={"TILLAGE_CURRENCY": "USD"})


def _snapshots(path: Path) -> int:
    with sqlite3.connect(path) as connection:
        return int(connection.execute("select count(*) from snapshots").fetchone()[0])


@pytest.fixture(scope="module")
def small_crm(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dt.date, pd.DataFrame]:
    """Twelve accounts with won deals only: too few buyers for BG/NBD (20 needed)."""
    path = tmp_path_factory.mktemp("crm") / "t.db"
    _url, as_of, won = crm_only_store(f"sqlite:///{path}", n_accounts=12, seed=5)
    return path, as_of, won


def test_ltv_without_a_purchase_model_follows_the_chosen_forecast_in_japanese(
    small_crm: tuple[Path, dt.date, pd.DataFrame], tmp_path: Path
) -> None:
    path, _as_of, _won = small_crm
    out = tmp_path / "ltv.csv"
    done = _tillage(f"sqlite:///{path}", "ltv", "--out", str(out))
    text = done.stdout + done.stderr
    assert done.returncode == 0, text
    # no --as-of: the store's last day of data, as `tillage score` does, and it says so
    with sqlite3.connect(path) as connection:  # the last day anything happened: a deal opened
        end = connection.execute("select max(created_date) from opportunities").fetchone()[0]
    end = str(end)[:10]
    assert f"ストアのデータの最終日 {end}" in " ".join(text.split())
    # headers in Japanese, no column codes, no "nan" cell
    for word in ("取引先", "LTV下限", "解約リスク", "期待継続期間"):
        assert word in text, word
    assert "account_id" not in text and "churn_risk" not in text and "nan" not in text
    # the fit warnings in Japanese, and where the LTV comes from
    assert "購買モデル（BG/NBD） は推定できませんでした" in text
    assert "LTV の受注分は選ばれた予測" in text
    values = pd.read_csv(out)
    winners = values[values["ltv_source"] == "account"]
    forecast = winners["expected_revenue"] > 0
    assert forecast.any()
    # valued from the chosen forecast (margin × 12 months, discounted), not silently 0
    assert (winners.loc[forecast, "ltv"] > 0).all()
    share = winners.loc[forecast, "ltv"] / winners.loc[forecast, "expected_revenue"]
    assert share.max() - share.min() < 1e-6 and 0.5 < share.iloc[0] < 0.7
    assert (winners.loc[forecast, "ltv_low"] <= winners.loc[forecast, "ltv"]).all()


def test_score_draws_no_zones_when_no_account_has_a_positive_ltv(
    small_crm: tuple[Path, dt.date, pd.DataFrame], tmp_path: Path
) -> None:
    path, as_of, _won = small_crm
    copy = tmp_path / "later.db"
    copy.write_bytes(path.read_bytes())
    # two years after the last won deal: no run rate, no purchase model, nothing to value
    later = (as_of + dt.timedelta(days=730)).isoformat()
    done = _tillage(f"sqlite:///{copy}", "score", "--as-of", later)
    text = done.stdout + done.stderr
    assert done.returncode == 0, text
    assert "LTV が正の取引先がないため、A/B/C ゾーンは割り当てていません" in text
    with sqlite3.connect(copy) as connection:
        zones = connection.execute("select distinct zone from account_scores").fetchall()
    assert zones == [(None,)]


def test_score_on_a_store_without_accounts_is_refused_and_writes_nothing(
    tmp_path: Path,
) -> None:
    path = tmp_path / "empty.db"
    url = f"sqlite:///{path}"
    assert _tillage(url, "db", "upgrade").returncode == 0
    done = _tillage(url, "score")
    text = done.stdout + done.stderr
    assert done.returncode == 1, text
    assert "ストアに取引先がありません" in text and "Traceback" not in text
    assert _snapshots(path) == 0


def test_import_words_a_yes_no_default_instead_of_a_python_literal(tmp_path: Path) -> None:
    folder = tmp_path / "crm"
    folder.mkdir()
    (folder / "accounts.csv").write_text("account,sector\nAcme,retail\nBeta,medical\n")
    (folder / "sales_pipeline.csv").write_text(
        "opportunity_id,account,deal_stage,engage_date,close_date,close_value\n"
        "O1,Acme,Won,2017-01-02,2017-02-01,100\n"
        "O2,Beta,Lost,2017-01-03,2017-02-02,0\n"
        "O3,Beta,Engaging,2017-01-04,,\n"
    )
    mapping = tmp_path / "crm.toml"
    mapping.write_text(
        'name = "crm"\n\n[[tables]]\ntable = "accounts"\nfile = "accounts.csv"\n'
        'key = "account"\ncolumns = { name = "account", industry = "sector" }\n\n'
        '[[tables]]\ntable = "opportunities"\nfile = "sales_pipeline.csv"\n'
        'key = "opportunity_id"\n[tables.columns]\naccount_id = "account"\n'
        'type = { value = "new" }\nstage = "deal_stage"\namount = "close_value"\n'
        'created_date = "engage_date"\nclose_date = "close_date"\n'
        'is_won = { column = "deal_stage", default = false, map = { "Won" = true } }\n'
    )
    url = f"sqlite:///{tmp_path / 't.db'}"
    assert _tillage(url, "db", "upgrade").returncode == 0
    done = _tillage(url, "import", str(folder), "--mapping", str(mapping), "--dry-run")
    text = " ".join((done.stdout + done.stderr).split())
    assert done.returncode == 0, text
    assert "既定値 いいえ として読み込みました" in text
    assert "False" not in text
