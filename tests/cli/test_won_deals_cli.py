"""``tillage ltv`` on a CRM-only company: the won deals are the revenue, and it says so."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from tillage.cli.main import app
from tillage.config import get_settings

from ..crm_store import crm_only_store


def test_ltv_values_a_crm_only_company_from_its_won_deals(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, as_of, won = crm_only_store(f"sqlite:///{tmp_path / 't.db'}")
    monkeypatch.setenv("TILLAGE_DATABASE_URL", url)
    get_settings.cache_clear()
    out = tmp_path / "ltv.csv"
    result = CliRunner().invoke(
        app, ["--lang", "en", "ltv", "--as-of", as_of.isoformat(), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    used = won[won["close_date"].notna() & won["amount"].notna()]
    assert (
        f"revenue: won deals are the revenue (no orders and no contracts): {len(used)} deals"
        in (" ".join(result.output.split()))
    )
    values = pd.read_csv(out)
    closed = won[pd.to_datetime(won["close_date"]) <= pd.Timestamp(as_of)]
    winners = values["account_id"].isin(closed["account_id"])
    assert (values.loc[~winners, "ltv_source"] == "prospect").all()
    assert values.loc[winners, "ltv"].min() > 0.0
    assert (values.loc[~winners, "ltv"] == 0.0).all()
