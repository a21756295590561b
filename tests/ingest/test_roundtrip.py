"""Round trip: the demo company written as a CRM export and imported gives back the same store.

Store A is the demo company loaded directly (``replace_all``); store B is the same company written
as a Salesforce (or HubSpot) export and imported with ``tillage.ingest``. Both are compared table
by table, by natural key (the export's record ids; the writer says which id each demo key got),
with foreign keys compared as the referenced rows' keys. Every canonical column is either
compared or listed below with the reason the export cannot carry it, so nothing is skipped
silently.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import Engine, text

from tillage.demo import DemoCompany, DemoConfig, generate
from tillage.demo.exports import Export, split_name, write_hubspot, write_salesforce
from tillage.ingest import import_path
from tillage.store.database import make_engine, migrate
from tillage.store.load import replace_all
from tillage.store.schema import CANONICAL_TABLES, Base

AS_OF = dt.date(2026, 9, 30)
NO_MAPPING = "the canonical table has no natural key, so no mapping can target it"
NOT_A_DEFAULT_FIELD = "no standard field in the export"
ONE_CURRENCY = "the demo company sells in one currency: nothing is converted"
NO_GROUPS = "the demo company has no corporate groups"
CONVERSION = {"source_currency": ONE_CURRENCY, "fx_rate": ONE_CURRENCY}

# table -> (columns compared, {column: why the export cannot carry it}); a str: the whole table.
SALESFORCE: dict[str, tuple[set[str], dict[str, str]] | str] = {
    "teams": "no standard object for sales teams (roles and territories are org-specific)",
    "reps": (
        {"name", "email", "manager_id"},
        {
            "role": "User has no rep/manager role field (UserRole is an org hierarchy)",
            "team_id": "teams are not carried",
            "capacity_hours": NOT_A_DEFAULT_FIELD,
            "hourly_cost": NOT_A_DEFAULT_FIELD,
            "hired_on": NOT_A_DEFAULT_FIELD,
            "left_on": "User has IsActive, not the date the rep left",
        },
    ),
    "accounts": (
        {"name", "industry", "employees", "region", "country", "owner_id"},
        {
            "customer_since": "derived (first contract or order), not an Account field",
            "acquisition_cost": NOT_A_DEFAULT_FIELD,
            "currency": "CurrencyIsoCode exists only in multi-currency orgs",
            "parent_account_id": NO_GROUPS,
            **CONVERSION,
        },
    ),
    "account_team_members": NO_MAPPING,
    "contacts": (
        {"account_id", "name", "email", "title", "department"},
        {"is_decision_maker": NOT_A_DEFAULT_FIELD},
    ),
    "products": (
        {"name", "family"},
        {
            "list_price": "lives on PricebookEntry, which the mapping does not read",
            "is_recurring": NOT_A_DEFAULT_FIELD,
            "successor_id": NOT_A_DEFAULT_FIELD,
        },
    ),
    "contracts": (
        {
            "account_id",
            "product_id",
            "start_date",
            "end_date",
            "term_months",
            "recurring_amount",
            "status",
            "renewed_from_id",
        },
        {"currency": "CurrencyIsoCode exists only in multi-currency orgs", **CONVERSION},
    ),
    "orders": (
        {"order_number", "account_id", "product_id", "order_date", "quantity", "amount"},
        {
            "margin": NOT_A_DEFAULT_FIELD,
            "currency": "CurrencyIsoCode exists only in multi-currency orgs",
            **CONVERSION,
        },
    ),
    "opportunities": (
        {
            "account_id",
            "owner_id",
            "name",
            "type",
            "stage",
            "amount",
            "probability",
            "created_date",
            "close_date",
            "is_closed",
            "is_won",
        },
        {
            "product_id": "lives on OpportunityLineItem, which the mapping does not read",
            "competitor": "lives on OpportunityCompetitor, which the mapping does not read",
            "currency": "CurrencyIsoCode exists only in multi-currency orgs",
            **CONVERSION,
        },
    ),
    "activities": (
        {
            "account_id",
            "rep_id",
            "contact_id",
            "type",
            "occurred_at",
            "duration_minutes",
            "subject",
        },
        {},
    ),
    "tickets": (
        {"account_id", "contact_id", "opened_at", "closed_at", "severity", "subject"},
        {"satisfaction": "CSAT is not a standard Case field"},
    ),
    "nps_responses": "no standard object (survey tools keep NPS)",
    "usage": "no standard object (product analytics keep usage)",
    "success_stories": "no standard object",
}

HUBSPOT: dict[str, tuple[set[str], dict[str, str]] | str] = {
    "teams": "HubSpot exports owners by name only",
    "reps": (
        {"name"},
        {
            "email": "owners are exported by name",
            "role": "owners are exported by name",
            "team_id": "owners are exported by name",
            "manager_id": "owners are exported by name",
            "capacity_hours": "owners are exported by name",
            "hourly_cost": "owners are exported by name",
            "hired_on": "owners are exported by name",
            "left_on": "owners are exported by name",
        },
    ),
    "accounts": (
        {"name", "industry", "employees", "region", "country", "owner_id"},
        {
            "customer_since": "derived (first contract or order), not a company property",
            "acquisition_cost": NOT_A_DEFAULT_FIELD,
            "currency": "the company currency; HubSpot companies have none",
            "parent_account_id": NO_GROUPS,
            **CONVERSION,
        },
    ),
    "account_team_members": NO_MAPPING,
    "contacts": (
        {"account_id", "name", "email", "title"},
        {"department": NOT_A_DEFAULT_FIELD, "is_decision_maker": NOT_A_DEFAULT_FIELD},
    ),
    "products": "the product library is not part of a CRM object export",
    "contracts": "HubSpot has no contract object",
    "orders": "HubSpot's CRM export has no order lines",
    "opportunities": (
        {
            "account_id",
            "owner_id",
            "name",
            "type",
            "stage",
            "amount",
            "created_date",
            "close_date",
            "is_closed",
            "is_won",
        },
        {
            "probability": "the deal stage's probability is pipeline configuration",
            "product_id": "line items are not part of the deal export",
            "competitor": NOT_A_DEFAULT_FIELD,
            "currency": "Currency exists only in multi-currency portals",
            **CONVERSION,
        },
    ),
    "activities": (
        {"account_id", "rep_id", "type", "occurred_at", "subject"},
        {
            "contact_id": "the mapping reads the company association only",
            "duration_minutes": "not in the activities export",
        },
    ),
    "tickets": (
        {"account_id", "opened_at", "closed_at", "severity", "subject"},
        {
            "contact_id": "the mapping reads the company association only",
            "satisfaction": NOT_A_DEFAULT_FIELD,
        },
    ),
    "nps_responses": "no NPS object in a CRM export",
    "usage": "no usage object in a CRM export",
    "success_stories": "no object for case studies",
}

# Values an export shape writes coarser than the model: (table, column) -> why, and how store
# A's values read after the round trip (given the table as in store A).
Coarsen = Callable[[pd.DataFrame, pd.Series], pd.Series]


def _to_minute(rows: pd.DataFrame, values: pd.Series) -> pd.Series:
    return pd.to_datetime(values).dt.floor("min")


SALESFORCE_COARSER: dict[tuple[str, str], tuple[str, Coarsen]] = {
    ("activities", "duration_minutes"): (
        "a Task has a duration only for calls (CallDurationInSeconds); e-mails have none",
        lambda rows, values: values.where(rows["type"].astype(str) != "email"),
    ),
}
HUBSPOT_COARSER: dict[tuple[str, str], tuple[str, Coarsen]] = {
    ("activities", "type"): (
        "HubSpot activity types: visits and QBRs export as MEETING",
        lambda rows, values: values.replace({"visit": "meeting", "qbr": "meeting"}),
    ),
    ("activities", "occurred_at"): ("HubSpot writes date-times to the minute", _to_minute),
    ("tickets", "opened_at"): ("HubSpot writes date-times to the minute", _to_minute),
    ("tickets", "closed_at"): ("HubSpot writes date-times to the minute", _to_minute),
}


@pytest.fixture(scope="module")
def company() -> DemoCompany:
    return generate(DemoConfig(n_accounts=150, seed=5, orders_per_account=20))


def _store_a(company: DemoCompany, tmp_path: Path) -> Engine:
    engine = make_engine(f"sqlite:///{tmp_path / 'direct.db'}")
    migrate(engine)
    replace_all(engine, company.tables)
    return engine


def _import(engine: Engine, folder: Path, fmt: str) -> None:
    result = import_path(
        engine,
        folder,
        format=fmt,
        as_of=AS_OF,
        imported_at=dt.datetime(2026, 10, 1, 9),
        timezone="Asia/Tokyo",
    )
    assert result.errors == []
    assert [str(p) for p in result.warnings] == []


def _view(engine: Engine, table: str) -> pd.DataFrame:
    """The table with foreign keys replaced by the referenced rows' natural keys."""
    with engine.connect() as connection:
        frame = pd.DataFrame(connection.execute(text(f"SELECT * FROM {table}")).mappings().all())
        if frame.empty:
            frame = pd.DataFrame(columns=list(Base.metadata.tables[table].columns.keys()))
        for column in Base.metadata.tables[table].columns:
            for fk in column.foreign_keys:
                ref = fk.column.table.name
                keys = dict(connection.execute(text(f"SELECT id, key FROM {ref}")).all())
                frame[column.name] = frame[column.name].map(
                    lambda v, k=keys: None if pd.isna(v) else k[int(v)]
                )
    return frame.drop(columns="id")


def _normalise(table: str, column: str, values: pd.Series) -> pd.Series:
    col = Base.metadata.tables[table].columns[column]
    kind = "REF" if col.foreign_keys else col.type.__class__.__name__.upper()
    if kind in ("DATE", "DATETIME"):
        return pd.to_datetime(values)
    if kind in ("FLOAT", "NUMERIC", "INTEGER"):
        return pd.to_numeric(values).astype(float).round(6)
    if kind == "BOOLEAN":
        return values.astype(bool)
    return (
        values.astype(object)
        .where(values.notna(), None)
        .map(lambda v: None if v is None else str(v))
    )


def _compare(
    a: Engine,
    b: Engine,
    export: Export,
    spec: dict[str, tuple[set[str], dict[str, str]] | str],
    coarser: dict[tuple[str, str], tuple[str, Coarsen]],
) -> dict[str, int]:
    assert set(spec) == set(CANONICAL_TABLES), "every canonical table compared or explained"
    compared: dict[str, int] = {}
    for table, entry in spec.items():
        if isinstance(entry, str):
            assert _view(b, table).empty, f"{table}: said not carried, but imported"
            continue
        columns, missing = entry
        all_columns = set(Base.metadata.tables[table].columns.keys()) - {"id", "key"}
        assert columns | set(missing) == all_columns and not columns & set(missing), table
        expected = _view(a, table)
        got = _view(b, table).set_index("key").sort_index()
        for column in columns | {"key"}:
            fks = Base.metadata.tables[table].columns[column].foreign_keys
            ref = next(iter(fks)).column.table.name if fks else table
            if column == "key" or fks:
                ids = export.keys[ref]
                expected[column] = expected[column].map(lambda v, i=ids: i.get(v, v))
        expected = expected.set_index("key").sort_index()
        if table == "reps" and export.keys["reps"] and "email" not in columns:
            # HubSpot knows only the owners its files name
            expected = expected[expected.index.isin(got.index)]
            assert len(expected) > 0
        assert list(got.index) == list(expected.index), f"{table}: different rows"
        for column in sorted(columns):
            want = _normalise(table, column, expected[column])
            if (table, column) in coarser:
                want = coarser[(table, column)][1](expected, want)
            have = _normalise(table, column, got[column])
            diff = ~((want == have) | (want.isna() & have.isna()))
            assert not diff.any(), (
                f"{table}.{column}: {int(diff.sum())} of {len(want)} rows differ, e.g.\n"
                + pd.DataFrame({"store A": want[diff], "import": have[diff]}).head().to_string()
            )
        compared[table] = len(got)
    return compared


def test_salesforce_round_trip(company: DemoCompany, database_url: str, tmp_path: Path) -> None:
    a = _store_a(company, tmp_path)
    export = write_salesforce(company.tables, tmp_path / "salesforce", timezone="Asia/Tokyo")
    b = make_engine(database_url)
    migrate(b)
    try:
        _import(b, tmp_path / "salesforce", "salesforce")
        compared = _compare(a, b, export, SALESFORCE, SALESFORCE_COARSER)
    finally:
        a.dispose()
        b.dispose()
    for table in ("accounts", "contracts", "orders", "opportunities", "activities", "tickets"):
        assert compared[table] == len(company.tables[table]), table


@pytest.mark.parametrize("encoding", ["utf-8", "cp932"])
def test_hubspot_round_trip(company: DemoCompany, tmp_path: Path, encoding: str) -> None:
    a = _store_a(company, tmp_path)
    export = write_hubspot(company.tables, tmp_path / "hubspot", encoding=encoding)
    b = make_engine(f"sqlite:///{tmp_path / 'imported.db'}")
    migrate(b)
    try:
        _import(b, tmp_path / "hubspot", "hubspot")
        compared = _compare(a, b, export, HUBSPOT, HUBSPOT_COARSER)
    finally:
        a.dispose()
        b.dispose()
    for table in ("accounts", "contacts", "opportunities", "activities", "tickets"):
        assert compared[table] == len(company.tables[table]), table


def test_salesforce_ids_have_the_case_checksum() -> None:
    from tillage.demo.exports import salesforce_id

    # the 18-character form of 001000000000001 (checksum of three all-lowercase chunks)
    assert salesforce_id("001", 1) == "0015g0000000001AAA"
    assert len({salesforce_id("003", n).lower() for n in range(1, 5000)}) == 4999


def test_names_split_by_script() -> None:
    first, last = split_name(pd.Series(["佐藤 花子", "Jane Smith", "Mary Ann Lee"]))
    assert first.tolist() == ["花子", "Jane", "Mary"]
    assert last.tolist() == ["佐藤", "Smith", "Ann Lee"]


def test_demo_export_command_writes_files_and_leaves_the_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from tillage.cli.main import app
    from tillage.config import get_settings

    monkeypatch.setenv("TILLAGE_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    runner = CliRunner()
    try:
        sf = runner.invoke(
            app,
            ["--lang", "en", "demo-export", "salesforce", str(tmp_path / "sf"), "--accounts", "20"],
        )
        hs = runner.invoke(
            app,
            [
                "demo-export",
                "hubspot",
                str(tmp_path / "hs"),
                "--accounts",
                "20",
                "--encoding",
                "cp932",
            ],
        )
    finally:
        get_settings.cache_clear()
    assert sf.exit_code == 0, sf.output
    assert "Wrote 11 files of a salesforce export" in sf.output
    assert hs.exit_code == 0, hs.output
    assert (tmp_path / "sf" / "Account.csv").exists()
    assert sorted(p.name for p in (tmp_path / "hs").iterdir())[0] == "all-activities.csv"
    assert "株式会社" in (tmp_path / "hs" / "all-companies.csv").read_bytes().decode("cp932")
    assert not (tmp_path / "data" / "demo").exists()  # no store was made
