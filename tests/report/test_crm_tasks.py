"""A month's plan as the task import files of Salesforce and HubSpot: the vendors' headers
exactly, their date format, the CRM ids carried over from a real export layout's import, rows
without an id named (never a made-up id), and text that cannot run as a formula.

Headers: Salesforce Task fields by API name (Salesforce Object Reference, "Task": Subject,
ActivityDate, Status, Priority, WhatId, OwnerId, Description); HubSpot task properties by
internal name (HubSpot developer docs, "CRM API | Tasks": hs_task_subject, hs_timestamp,
hs_task_status, hs_task_priority, hs_task_type, hs_task_body, hubspot_owner_id).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from tillage.ingest import import_path
from tillage.report.crm_tasks import HUBSPOT_COLUMNS, SALESFORCE_COLUMNS, due_date, task_file
from tillage.services.crm_tasks import CrmIds, crm_ids
from tillage.services.plans import PlannedAction, PlanOut
from tillage.services.snapshots import SnapshotOut
from tillage.store.schema import Account, Rep

EXPORTS = Path(__file__).resolve().parents[1] / "data" / "exports"
MONTH = dt.date(2026, 2, 1)


def _plan(actions: list[PlannedAction]) -> PlanOut:
    snapshot = SnapshotOut.model_construct(id=1, as_of=dt.date(2026, 1, 31))
    return PlanOut.model_construct(
        snapshot=snapshot,
        month=MONTH,
        rep=None,
        actions=actions,
        reps=[],
        uplift=0.0,
        naive_uplift=0.0,
        gap=None,
    )


def _action(account_id: int, account: str, rep_id: int, **changes: object) -> PlannedAction:
    values = dict(
        rep_id=rep_id,
        rep="佐藤 花子",
        month=MONTH,
        account_id=account_id,
        account=account,
        action="renewal_preparation",
        hours=3.0,
        expected_uplift=1_234_567.0,
        must_do=False,
        products=[{"name": "プロフェッショナルライセンス", "kind": "successor"}],
    )
    values.update(changes)
    return PlannedAction(**values)  # type: ignore[arg-type]


def _rows(text: str) -> list[list[str]]:
    assert text.startswith("\ufeff")  # UTF-8 with a BOM: Excel and Data Loader read Japanese
    return list(csv.reader(io.StringIO(text[1:])))


def test_salesforce_layout_headers_dates_and_ids_from_a_salesforce_export(engine: Engine) -> None:
    import_path(
        engine,
        EXPORTS / "salesforce",
        as_of=dt.date(2024, 12, 31),
        imported_at=dt.datetime(2025, 1, 1),
    )
    with Session(engine) as session:
        account = session.scalars(select(Account).where(Account.key == "0015g00000BBBBBBB1")).one()
        owner = session.get(Rep, account.owner_id)
        assert owner is not None
        plan = _plan([_action(account.id, account.name, owner.id, must_do=True)])
        ids = crm_ids(session, plan)
    made = task_file(plan, ids, "salesforce-tasks", "ja", "JPY")
    rows = _rows(made.text)
    assert rows[0] == [*SALESFORCE_COLUMNS, "tillage_warning"]
    assert rows[0][:7] == [
        "Subject",
        "ActivityDate",
        "Status",
        "Priority",
        "WhatId",
        "OwnerId",
        "Description",
    ]
    subject, date, status, priority, what, owner_id, description, warning = rows[1]
    assert subject == "更新準備: 株式会社髙橋製作所"
    assert date == "2026-02-28"  # the plan month's last day, YYYY-MM-DD as a date field takes
    assert (status, priority) == ("Not Started", "High")
    assert what == "0015g00000BBBBBBB1"  # the Account Id the import kept as the key
    assert owner_id == "0055g00000AAAAAAA2"  # the owner's User Id
    assert (
        "2026年2月" in description
        and "￥123万" in description
        and "プロフェッショナル" in description
    )
    assert warning == "" and made.warnings == []


def test_hubspot_layout_uses_the_company_record_id_and_names_rows_without_an_owner(
    engine: Engine,
) -> None:
    import_path(
        engine,
        EXPORTS / "hubspot",
        as_of=dt.date(2025, 11, 28),
        imported_at=dt.datetime(2025, 11, 29),
    )
    with Session(engine) as session:
        account = session.scalars(select(Account).where(Account.key == "18506239001")).one()
        owner = session.get(Rep, account.owner_id)
        assert owner is not None and owner.key == "鈴木 一郎"  # HubSpot exports owners by name
        plan = _plan([_action(account.id, account.name, owner.id)])
        ids = crm_ids(session, plan)
    made = task_file(plan, ids, "hubspot-tasks", "en", "JPY")
    rows = _rows(made.text)
    assert rows[0] == [*HUBSPOT_COLUMNS, "tillage_warning"]
    record = dict(zip(rows[0], rows[1], strict=True))
    assert record["hs_timestamp"] == "2026-02-28"
    assert (record["hs_task_status"], record["hs_task_priority"], record["hs_task_type"]) == (
        "NOT_STARTED",
        "MEDIUM",
        "TODO",
    )
    assert record["Company Record ID"] == "18506239001"
    assert record["hubspot_owner_id"] == ""  # no owner id, no e-mail: left empty, and said
    assert "no HubSpot owner id or e-mail for rep 鈴木 一郎" in record["tillage_warning"]
    assert made.warnings == [f"row 2 ({account.name}): {record['tillage_warning']}"]


def test_owner_e_mail_is_used_when_hubspot_has_no_owner_id() -> None:
    ids = CrmIds(
        account_keys={1: "ACC-1"}, rep_keys={7: "REP-7"}, rep_emails={7: "sato@example.co.jp"}
    )
    made = task_file(_plan([_action(1, "A社", 7)]), ids, "hubspot-tasks", "en", "JPY")
    record = dict(zip(*_rows(made.text), strict=True))
    assert record["hubspot_owner_id"] == "sato@example.co.jp"
    assert record["Company Record ID"] == ""
    assert "no HubSpot company Record ID for account ACC-1" in record["tillage_warning"]


def test_no_cell_can_run_as_a_formula() -> None:
    ids = CrmIds(account_keys={1: "=1+1"}, rep_keys={7: "@SUM(A1)"}, rep_emails={7: None})
    evil = _action(1, "=cmd|' /C calc'!A0", 7, action='=HYPERLINK("http://x")', products=None)
    for layout in ("salesforce-tasks", "hubspot-tasks"):
        rows = _rows(task_file(_plan([evil]), ids, layout, "en", "JPY").text)  # type: ignore[arg-type]
        for cell in rows[1]:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), (layout, cell)
        assert rows[1][0].startswith("'=HYPERLINK")


@pytest.mark.parametrize(
    ("month", "last"),
    [
        (dt.date(2026, 2, 1), dt.date(2026, 2, 28)),
        (dt.date(2028, 2, 1), dt.date(2028, 2, 29)),
        (dt.date(2026, 12, 1), dt.date(2026, 12, 31)),
    ],
)
def test_due_date_is_the_months_last_day(month: dt.date, last: dt.date) -> None:
    assert due_date(month) == last
