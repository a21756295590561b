"""What the demo round trip revealed, each fixed and pinned on a small hand-written export."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import Engine

from tillage.demo import DemoConfig, generate
from tillage.errors import ConfigurationError
from tillage.ingest import import_path, parse_mapping

FIXTURES = Path(__file__).parent / "fixtures"


def _import(engine: Engine, folder: Path):  # type: ignore[no-untyped-def]
    return import_path(
        engine, folder, as_of=dt.date(2024, 12, 31), imported_at=dt.datetime(2025, 1, 1)
    )


@pytest.fixture
def salesforce(tmp_path: Path) -> Path:
    return Path(shutil.copytree(FIXTURES / "salesforce", tmp_path / "salesforce"))


def _write(path: Path, text: str) -> None:
    path.write_text(text.strip() + "\n", encoding="utf-8")


def test_salesforce_contracts_need_the_amount_field(engine: Engine, salesforce: Path) -> None:
    """A standard Contract.csv (no amount) is skipped with a warning, not an error."""
    _write(
        salesforce / "Contract.csv",
        '"Id","AccountId","Status","StartDate","EndDate","ContractTerm"\n'
        '"8005g00000KKKKKKK1","0015g00000BBBBBBB1","Activated","2024-04-01","2025-03-31","12"',
    )
    result = _import(engine, salesforce)
    assert result.errors == []
    assert "contracts" not in result.tables
    assert any(p.file == "Contract.csv" and p.column == "MRR__c" for p in result.warnings)


def test_salesforce_contracts_with_mrr(engine: Engine, salesforce: Path) -> None:
    _write(
        salesforce / "Contract.csv",
        '"Id","AccountId","Status","StartDate","EndDate","ContractTerm","MRR__c",'
        '"Product__c","RenewedFrom__c"\n'
        '"8005g00000KKKKKKK1","0015g00000BBBBBBB1","Renewed","2023-04-01","2024-03-31","12",'
        '"50000","01t5g00000DDDDDDD1",""\n'
        '"8005g00000KKKKKKK2","0015g00000BBBBBBB1","Activated","2024-04-01","2025-03-31","12",'
        '"55000","01t5g00000DDDDDDD1","8005g00000KKKKKKK1"',
    )
    result = _import(engine, salesforce)
    assert result.errors == []
    rows = pd.read_sql(
        "SELECT c.key, c.status, c.recurring_amount, c.term_months, p.key AS renewed_from "
        "FROM contracts c LEFT JOIN contracts p ON p.id = c.renewed_from_id ORDER BY c.key",
        engine,
    )
    assert rows["status"].tolist() == ["renewed", "active"]
    assert rows["recurring_amount"].tolist() == [50000, 55000]
    assert rows["renewed_from"].tolist()[1] == "8005g00000KKKKKKK1"


def test_salesforce_task_time_and_event_type(engine: Engine, salesforce: Path) -> None:
    """Tasks take their completion time when the export has it; Event Type gives visits/QBRs."""
    task = pd.read_csv(salesforce / "Task.csv", dtype=str, keep_default_na=False)
    task["CompletedDateTime"] = ["2024-04-10T01:30:00.000Z"] + [""] * (len(task) - 1)
    task.to_csv(salesforce / "Task.csv", index=False)
    event = pd.read_csv(salesforce / "Event.csv", dtype=str, keep_default_na=False)
    event["Type"] = ["Visit"]
    event.to_csv(salesforce / "Event.csv", index=False)
    result = _import(engine, salesforce)
    assert result.errors == []
    acts = pd.read_sql("SELECT key, type, occurred_at FROM activities ORDER BY key", engine)
    times = dict(zip(acts["key"], pd.to_datetime(acts["occurred_at"]), strict=True))
    assert times["00T5g00000HHHHHHH1"] == pd.Timestamp("2024-04-10 10:30")  # 01:30 UTC in Tokyo
    assert times["00T5g00000HHHHHHH2"] == pd.Timestamp("2024-04-12")  # no completion time
    assert dict(zip(acts["key"], acts["type"], strict=True))["00U5g00000IIIIIII1"] == "visit"


def test_event_without_type_column_is_a_meeting(engine: Engine) -> None:
    """A mapping default stands in for a column the file lacks (the fixture has no Type)."""
    result = _import(engine, FIXTURES / "salesforce")
    assert result.errors == []
    types = pd.read_sql("SELECT type FROM activities WHERE substr(key, 1, 3) = '00U'", engine)
    assert types["type"].tolist() == ["meeting"]
    assert not any(p.column == "Type" and p.file == "Event.csv" for p in result.warnings)


def test_person_names_in_their_own_order(engine: Engine, tmp_path: Path) -> None:
    """Salesforce gave 'Smith Jane', HubSpot '健 髙橋': both now read as people write them."""
    _import(engine, FIXTURES / "salesforce")
    names = pd.read_sql("SELECT key, name FROM contacts ORDER BY key", engine)["name"].tolist()
    assert names == ["髙橋 健", "Jane Smith"]
    hubspot = Path(shutil.copytree(FIXTURES / "hubspot", tmp_path / "hubspot"))
    other = f"sqlite:///{tmp_path / 'hubspot.db'}"
    from tillage.store.database import make_engine, migrate

    hs = make_engine(other)
    migrate(hs)
    try:
        _import(hs, hubspot)
        names = pd.read_sql("SELECT name FROM contacts ORDER BY key", hs)["name"].tolist()
    finally:
        hs.dispose()
    assert names == ["髙橋 健", "Jane Smith"]


def test_person_name_needs_two_columns() -> None:
    with pytest.raises(ConfigurationError, match="person_name"):
        parse_mapping(
            '[[tables]]\ntable = "reps"\nkey = "id"\n'
            '[tables.columns]\nname = { column = "n", transform = "person_name" }\n'
        )


def test_hubspot_cross_sell_deals(engine: Engine, tmp_path: Path) -> None:
    hubspot = Path(shutil.copytree(FIXTURES / "hubspot", tmp_path / "hubspot"))
    deals = pd.read_csv(hubspot / "all-deals.csv", dtype=str, keep_default_na=False)
    deals.loc[1, "Deal Type"] = "Cross-sell"
    deals.to_csv(hubspot / "all-deals.csv", index=False)
    _import(engine, hubspot)
    types = pd.read_sql("SELECT type FROM opportunities ORDER BY key", engine)["type"].tolist()
    assert types[1] == "cross_sell"


def test_demo_order_lines_are_quantity_times_a_whole_unit_price() -> None:
    """Salesforce's OrderItem is Quantity x UnitPrice: a line amount must divide evenly."""
    company = generate(DemoConfig(n_accounts=150, seed=5, orders_per_account=20))
    lines = company.tables["orders"]
    unit = lines["amount"] / lines["quantity"]
    assert (lines["quantity"] > 1).any()
    assert np.allclose(unit, np.round(unit))


def test_demo_rep_names_are_unique() -> None:
    """Owners are exported by name (HubSpot): two reps of one name would merge into one."""
    for locale in ("ja", "en"):
        company = generate(DemoConfig(n_accounts=50, n_reps=120, n_teams=5, seed=5, locale=locale))
        assert not company.tables["reps"]["name"].duplicated().any(), locale
