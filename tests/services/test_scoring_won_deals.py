"""A CRM-only company (accounts, reps and opportunities, no orders, no contracts): the won
deals are its revenue; the scoring run values it from them and says so in the snapshot."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from tillage.services.scoring import run_scoring
from tillage.store.database import make_engine
from tillage.store.schema import AccountScore, Snapshot

from ..crm_store import crm_only_store

CREATED = dt.datetime(2026, 1, 1, 9, 0)


@pytest.fixture
def crm_only(database_url: str) -> tuple[str, dt.date, pd.DataFrame]:
    """On SQLite (features in DuckDB) and PostgreSQL (features inside it)."""
    return crm_only_store(database_url)


def test_scoring_values_accounts_from_their_won_deals(
    crm_only: tuple[str, dt.date, pd.DataFrame],
) -> None:
    url, as_of, won = crm_only
    engine = make_engine(url)
    try:
        snapshot_id = run_scoring(engine, as_of, created_at=CREATED)
        with Session(engine) as session:
            record = session.get(Snapshot, snapshot_id).models  # type: ignore[union-attr]
            rows = session.execute(
                select(AccountScore.account_id, AccountScore.ltv).where(
                    AccountScore.snapshot_id == snapshot_id
                )
            ).all()
    finally:
        engine.dispose()
    source = record["revenue_source"]
    assert source["source"] == "won_deals" and source["mode"] == "auto"
    usable = won["close_date"].notna() & won["amount"].notna()
    assert source["deals"] == int(usable.sum()) and source["left_out"] == int((~usable).sum())
    assert "won deals are the revenue" in source["reason"]
    winners_by_as_of = won[pd.to_datetime(won["close_date"]) <= pd.Timestamp(as_of)]
    assert source["prospects"] == len(rows) - winners_by_as_of["account_id"].nunique()
    values = pd.DataFrame(rows, columns=["account_id", "ltv"]).astype({"ltv": float})
    winners = values["account_id"].isin(winners_by_as_of["account_id"])
    assert winners.any() and (~winners).any()
    # every account that won a deal is worth more than every prospect (worth 0 until it wins)
    assert values.loc[winners, "ltv"].min() > values.loc[~winners, "ltv"].max() == 0.0
