"""The demo company as a Salesforce data export (Setup > Data Export).

One CSV per object named after it (``Account.csv`` …), standard API field names as headers,
every value quoted, 18-character record ids, booleans ``true``/``false``, date-times in UTC
(``2024-04-01T00:30:00.000Z``), dates ``YYYY-MM-DD``. Reps are ``User``, calls and e-mails
``Task``, meetings/visits/QBRs ``Event``, support cases ``Case``, order lines ``Order`` +
``OrderItem``, products ``Product2``. Contracts are ``Contract`` with the monthly amount in the
custom field ``MRR__c``, the product in ``Product__c`` and the previous term in
``RenewedFrom__c`` (standard Contract has no amount). See :mod:`tillage.demo.exports`.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from tillage.demo._export_csv import (
    Export,
    country_names,
    export_numbers,
    export_text,
    referenced_ids,
    split_name,
    write_csv,
)

__all__ = ["salesforce_id", "write_salesforce"]

SALESFORCE_PREFIX = {
    "reps": "005",  # User
    "accounts": "001",
    "contacts": "003",
    "products": "01t",  # Product2
    "contracts": "800",
    "order_headers": "801",  # Order
    "orders": "802",  # OrderItem
    "opportunities": "006",
    "tasks": "00T",
    "events": "00U",
    "tickets": "500",  # Case
}
# Salesforce picklist values written for tillage's codes (the importer's mapping reads them back).
SF_OPPORTUNITY_TYPE = {
    "new": "New Customer",
    "upsell": "Existing Customer - Upgrade",
    "cross_sell": "Existing Customer - Cross-Sell",
    "renewal": "Renewal",
}
SF_CASE_PRIORITY = {1: "Critical", 2: "High", 3: "Medium", 4: "Low"}
SF_CONTRACT_STATUS = {
    "active": "Activated",
    "renewed": "Renewed",
    "churned": "Terminated",
    "expired": "Expired",
}
SF_EVENT_TYPE = {"meeting": "Meeting", "visit": "Visit", "qbr": "QBR"}
SF_TASK_SUBTYPE = {"call": "Call", "email": "Email"}

_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_CHECKSUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"


def salesforce_id(prefix: str, number: int) -> str:
    """An 18-character Salesforce-style record id: key prefix, pod, counter, case checksum."""
    digits = []
    n = number
    while n:
        n, r = divmod(n, 62)
        digits.append(_BASE62[r])
    body = "".join(reversed(digits)).rjust(7, "0")
    short = f"{prefix}5g000{body}"
    assert len(short) == 15, short
    suffix = ""
    for chunk in range(3):
        part = short[chunk * 5 : chunk * 5 + 5]
        bits = sum(1 << i for i, ch in enumerate(part) if "A" <= ch <= "Z")
        suffix += _CHECKSUM[bits]
    return short + suffix


def _sf_ids(prefix: str, n: int) -> pd.Series:
    return pd.Series([salesforce_id(prefix, i + 1) for i in range(n)], dtype=object)


def _utc(values: pd.Series, timezone: str) -> pd.Series:
    """Business-local times as Salesforce's UTC ``2024-04-01T00:30:00.000Z``."""
    stamps = pd.to_datetime(values)
    utc = stamps.dt.tz_localize(timezone).dt.tz_convert("UTC")
    return utc.dt.strftime("%Y-%m-%dT%H:%M:%S.000Z").fillna("").astype(object)


def _date(values: pd.Series) -> pd.Series:
    return pd.to_datetime(values).dt.strftime("%Y-%m-%d").fillna("").astype(object)


def _bool(values: pd.Series) -> pd.Series:
    return values.astype(bool).map({True: "true", False: "false"}).astype(object)


def write_salesforce(
    tables: dict[str, pd.DataFrame],
    directory: str | Path,
    *,
    timezone: str = "Asia/Tokyo",
    encoding: str = "utf-8",
) -> Export:
    """Write canonical ``tables`` as a Salesforce data-export folder (one CSV per object).

    Date-times are business-local in ``tables`` and written in UTC as Salesforce does.
    """
    out = Export(Path(directory))
    out.directory.mkdir(parents=True, exist_ok=True)
    ids: dict[str, dict[int, str]] = {}

    def assign(table: str, frame: pd.DataFrame, prefix: str | None = None) -> pd.Series:
        record = _sf_ids(prefix or SALESFORCE_PREFIX[table], len(frame))
        ids[table] = dict(zip(frame["id"].astype(int), record, strict=True))
        out.keys[table] = dict(zip(frame["key"].astype(str), record, strict=True))
        return record

    def write(name: str, frame: pd.DataFrame) -> None:
        write_csv(frame, out.directory / name, quote_all=True, encoding=encoding, out=out)

    reps = tables["reps"].reset_index(drop=True)
    rep_ids = assign("reps", reps)
    first, last = split_name(reps["name"])
    user = pd.DataFrame(
        {
            "Id": rep_ids,
            "Username": export_text(reps["email"]),
            "LastName": last,
            "FirstName": first,
            "Email": export_text(reps["email"]),
            "ManagerId": [""] * len(reps),
            "IsActive": _bool(reps["left_on"].isna()),
        }
    )
    user["ManagerId"] = referenced_ids(ids["reps"], reps["manager_id"])
    write("User.csv", user)

    accounts = tables["accounts"].reset_index(drop=True)
    countries = country_names()
    write(
        "Account.csv",
        pd.DataFrame(
            {
                "Id": assign("accounts", accounts),
                "IsDeleted": "false",
                "Name": export_text(accounts["name"]),
                "Type": "Customer",
                "BillingState": export_text(accounts["region"]),
                "BillingCountry": accounts["country"].map(countries).fillna("").astype(object),
                "Industry": export_text(accounts["industry"]),
                "NumberOfEmployees": export_numbers(accounts["employees"]),
                "OwnerId": referenced_ids(ids["reps"], accounts["owner_id"]),
            }
        ),
    )

    contacts = tables["contacts"].reset_index(drop=True)
    first, last = split_name(contacts["name"])
    write(
        "Contact.csv",
        pd.DataFrame(
            {
                "Id": assign("contacts", contacts),
                "AccountId": referenced_ids(ids["accounts"], contacts["account_id"]),
                "LastName": last,
                "FirstName": first,
                "Email": export_text(contacts["email"]),
                "Title": export_text(contacts["title"]),
                "Department": export_text(contacts["department"]),
            }
        ),
    )

    products = tables["products"].reset_index(drop=True)
    write(
        "Product2.csv",
        pd.DataFrame(
            {
                "Id": assign("products", products),
                "Name": export_text(products["name"]),
                "ProductCode": export_text(products["key"]),
                "Family": export_text(products["family"]),
                "IsActive": _bool(products["successor_id"].isna()),
            }
        ),
    )

    contracts = tables["contracts"].reset_index(drop=True)
    contract_ids = assign("contracts", contracts)
    frame = pd.DataFrame(
        {
            "Id": contract_ids,
            "AccountId": referenced_ids(ids["accounts"], contracts["account_id"]),
            "Status": contracts["status"].map(SF_CONTRACT_STATUS).astype(object),
            "StartDate": _date(contracts["start_date"]),
            # Salesforce's EndDate is the last day the contract runs
            "EndDate": _date(pd.to_datetime(contracts["end_date"]) - pd.Timedelta(days=1)),
            "ContractTerm": export_numbers(contracts["term_months"]),
            "MRR__c": export_numbers(contracts["recurring_amount"]),
            "Product__c": referenced_ids(ids["products"], contracts["product_id"]),
        }
    )
    frame["RenewedFrom__c"] = referenced_ids(ids["contracts"], contracts["renewed_from_id"])
    write("Contract.csv", frame)

    lines = tables["orders"].reset_index(drop=True)
    headers = lines.drop_duplicates("order_number").reset_index(drop=True)
    header_ids = _sf_ids(SALESFORCE_PREFIX["order_headers"], len(headers))
    header_of = dict(zip(headers["order_number"].astype(str), header_ids, strict=True))
    write(
        "Order.csv",
        pd.DataFrame(
            {
                "Id": header_ids,
                "AccountId": referenced_ids(ids["accounts"], headers["account_id"]),
                "OrderNumber": export_text(headers["order_number"]),
                "EffectiveDate": _date(headers["order_date"]),
                "Status": "Activated",
                "IsReductionOrder": "false",
            }
        ),
    )
    quantity = lines["quantity"].astype(float)
    write(
        "OrderItem.csv",
        pd.DataFrame(
            {
                "Id": assign("orders", lines),
                "OrderId": lines["order_number"].astype(str).map(header_of).astype(object),
                "Product2Id": referenced_ids(ids["products"], lines["product_id"]),
                "Quantity": export_numbers(quantity),
                "UnitPrice": export_numbers(lines["amount"].astype(float) / quantity),
                "TotalPrice": export_numbers(lines["amount"]),
            }
        ),
    )

    opps = tables["opportunities"].reset_index(drop=True)
    write(
        "Opportunity.csv",
        pd.DataFrame(
            {
                "Id": assign("opportunities", opps),
                "AccountId": referenced_ids(ids["accounts"], opps["account_id"]),
                "Name": export_text(opps["name"]),
                "StageName": export_text(opps["stage"]),
                "Amount": export_numbers(opps["amount"]),
                "Probability": export_numbers((opps["probability"].astype(float) * 100).round(6)),
                "CloseDate": _date(opps["close_date"]),
                "Type": opps["type"].astype(str).map(SF_OPPORTUNITY_TYPE).astype(object),
                "IsClosed": _bool(opps["is_closed"]),
                "IsWon": _bool(opps["is_won"]),
                "OwnerId": referenced_ids(ids["reps"], opps["owner_id"]),
                "CreatedDate": _utc(opps["created_date"], timezone),
            }
        ),
    )

    acts = tables["activities"].reset_index(drop=True)
    kind = acts["type"].astype(str)
    is_task = kind.isin(list(SF_TASK_SUBTYPE)).to_numpy()
    tasks, events = acts[is_task].reset_index(drop=True), acts[~is_task].reset_index(drop=True)
    task_ids = _sf_ids(SALESFORCE_PREFIX["tasks"], len(tasks))
    event_ids = _sf_ids(SALESFORCE_PREFIX["events"], len(events))
    out.keys["activities"] = {
        **dict(zip(tasks["key"].astype(str), task_ids, strict=True)),
        **dict(zip(events["key"].astype(str), event_ids, strict=True)),
    }
    task_kind = tasks["type"].astype(str)
    write(
        "Task.csv",
        pd.DataFrame(
            {
                "Id": task_ids,
                "AccountId": referenced_ids(ids["accounts"], tasks["account_id"]),
                "WhoId": referenced_ids(ids["contacts"], tasks["contact_id"]),
                "OwnerId": referenced_ids(ids["reps"], tasks["rep_id"]),
                "Subject": export_text(tasks["subject"]),
                "ActivityDate": _date(tasks["occurred_at"]),
                "CompletedDateTime": _utc(tasks["occurred_at"], timezone),
                "Status": "Completed",
                "TaskSubtype": task_kind.map(SF_TASK_SUBTYPE).astype(object),
                # only calls have a duration (in seconds)
                "CallDurationInSeconds": export_numbers(
                    (tasks["duration_minutes"].astype(float) * 60)
                    .round()
                    .where(task_kind == "call")
                ),
            }
        ),
    )
    start = pd.to_datetime(events["occurred_at"])
    minutes = events["duration_minutes"].astype(float)
    end = start + pd.to_timedelta(minutes.fillna(0), unit="min")
    write(
        "Event.csv",
        pd.DataFrame(
            {
                "Id": event_ids,
                "AccountId": referenced_ids(ids["accounts"], events["account_id"]),
                "WhoId": referenced_ids(ids["contacts"], events["contact_id"]),
                "OwnerId": referenced_ids(ids["reps"], events["rep_id"]),
                "Subject": export_text(events["subject"]),
                "Type": events["type"].astype(str).map(SF_EVENT_TYPE).astype(object),
                "StartDateTime": _utc(start, timezone),
                "EndDateTime": _utc(end, timezone),
                "DurationInMinutes": export_numbers(minutes),
            }
        ),
    )

    cases = tables["tickets"].reset_index(drop=True)
    closed = cases["closed_at"].notna()
    write(
        "Case.csv",
        pd.DataFrame(
            {
                "Id": assign("tickets", cases),
                "CaseNumber": [f"{i + 1:08d}" for i in range(len(cases))],
                "AccountId": referenced_ids(ids["accounts"], cases["account_id"]),
                "ContactId": referenced_ids(ids["contacts"], cases["contact_id"]),
                "Status": closed.map({True: "Closed", False: "New"}).astype(object),
                "IsClosed": _bool(closed),
                "Priority": cases["severity"].map(SF_CASE_PRIORITY).fillna("").astype(object),
                "Subject": export_text(cases["subject"]),
                "CreatedDate": _utc(cases["opened_at"], timezone),
                "ClosedDate": _utc(cases["closed_at"], timezone),
            }
        ),
    )
    return out
