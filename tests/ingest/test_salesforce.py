"""A Salesforce data export folder imports with no mapping, on standard API field names."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import Engine

from tillage.ingest import import_path

FIXTURES = Path(__file__).parent / "fixtures" / "salesforce"


@pytest.fixture
def export(tmp_path: Path) -> Path:
    return Path(shutil.copytree(FIXTURES, tmp_path / "WE_00D5g000000XXXX_1"))


def _import(engine: Engine, folder: Path):  # type: ignore[no-untyped-def]
    return import_path(
        engine, folder, as_of=dt.date(2024, 12, 31), imported_at=dt.datetime(2025, 1, 1)
    )


def _table(engine: Engine, sql: str) -> pd.DataFrame:
    return pd.read_sql(sql, engine)


def test_export_folder_lands_in_every_table(engine: Engine, export: Path) -> None:
    result = _import(engine, export)
    assert result.format == "salesforce"
    assert result.errors == []
    assert {t: c.inserted for t, c in result.tables.items()} == {
        "reps": 2,
        "accounts": 3,
        "contacts": 2,  # the private contact has no account: skipped with a warning
        "products": 2,
        "orders": 3,
        "opportunities": 4,
        "activities": 3,  # two tasks (one on a lead is skipped) and one event
        "tickets": 2,
    }
    reasons = {(p.file, p.column): p.reason for p in result.warnings}
    assert "unknown reps" in reasons[("Account.csv", "OwnerId")]

    opps = _table(
        engine,
        "SELECT o.key, o.type, o.probability, o.is_won, o.created_date, a.key AS account "
        "FROM opportunities o JOIN accounts a ON a.id = o.account_id ORDER BY o.key",
    ).set_index("key")
    assert opps["type"].tolist() == ["new", "upsell", "renewal", "new"]
    assert opps["probability"].tolist() == [1.0, 0.8, 0.0, 0.1]
    assert opps["is_won"].astype(bool).tolist() == [True, False, False, False]
    # 16:00 UTC on 1 May is 2 May in Tokyo
    assert str(opps.loc["0065g00000EEEEEEE3", "created_date"])[:10] == "2024-05-02"

    orders = _table(engine, "SELECT key, order_number, amount, order_date FROM orders")
    assert orders["amount"].sum() == 1_000_000 + 200_000 - 200_000  # reduction order netted
    assert set(orders["order_number"]) == {"00000100", "00000101"}

    reps = _table(
        engine,
        "SELECT r.name, m.name AS manager FROM reps r "
        "LEFT JOIN reps m ON m.id = r.manager_id ORDER BY r.key",
    )
    assert reps["name"].tolist() == ["佐藤 花子", "鈴木 一郎"]
    assert reps["manager"].tolist()[1] == "佐藤 花子"

    accounts = _table(engine, "SELECT key, country FROM accounts ORDER BY key")
    assert accounts["country"].tolist() == ["JP", "US", "JP"]  # 日本, United States, JP
    tickets = _table(engine, "SELECT severity, opened_at FROM tickets ORDER BY key")
    assert tickets["severity"].tolist() == [2, 4]
    assert str(tickets["opened_at"].iloc[0]).startswith("2024-04-02 09:00")


def test_reexport_updates_in_place(engine: Engine, export: Path) -> None:
    _import(engine, export)
    opportunity = export / "Opportunity.csv"
    opportunity.write_text(
        opportunity.read_text("utf-8").replace(
            '"Negotiation/Review","300000","80","2025-02-28","Existing Customer - Upgrade",'
            '"false","false"',
            '"Closed Won","320000","100","2024-12-20","Existing Customer - Upgrade","true","true"',
        ),
        "utf-8",
    )
    result = _import(engine, export)
    assert result.inserted == 0
    assert result.tables["opportunities"].updated == 1
    assert result.updated == 1
    won = _table(
        engine, "SELECT amount, is_won FROM opportunities WHERE key = '0065g00000EEEEEEE2'"
    )
    assert won["amount"].iloc[0] == 320000 and bool(won["is_won"].iloc[0])


def test_a_new_manager_is_an_update(engine: Engine, export: Path) -> None:
    _import(engine, export)
    users = export / "User.csv"
    text = users.read_text("utf-8").replace('"0055g00000AAAAAAA1","true"', '"","true"')
    users.write_text(text, "utf-8")  # 鈴木 no longer reports to 佐藤
    result = _import(engine, export)
    assert result.tables["reps"].updated == 1 and result.updated == 1
    managers = _table(engine, "SELECT manager_id FROM reps ORDER BY key")["manager_id"]
    assert managers.isna().all()


def test_contract_end_date_is_the_day_after_salesforces_last_day(
    engine: Engine, export: Path
) -> None:
    # Salesforce's EndDate is the last day a contract runs; tillage stores the first day it no
    # longer runs, so a year from 1 April ends on 1 April and its renewal starts that day.
    (export / "Contract.csv").write_text(
        '"Id","AccountId","Status","StartDate","EndDate","ContractTerm","MRR__c","RenewedFrom__c"\n'
        '"8005g0000000001","0015g00000BBBBBBB1","Activated","2024-04-01","2025-03-31","12","50000",""\n',
        encoding="utf-8",
    )
    result = _import(engine, export)
    assert result.errors == []
    contracts = _table(engine, "SELECT start_date, end_date FROM contracts")
    assert str(contracts["start_date"].iloc[0])[:10] == "2024-04-01"
    assert str(contracts["end_date"].iloc[0])[:10] == "2025-04-01"
