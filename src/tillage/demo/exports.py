"""Write the demo company the way a CRM exports it: Salesforce and HubSpot export shapes.

Importing either with ``tillage import`` gives back the company's store on every column the
export shape can carry (``tests/ingest/test_roundtrip.py`` checks it, table by table). The
shapes follow the real exports, not tillage's model:

* **Salesforce** (Setup > Data Export): one CSV per object named after it (``Account.csv`` …),
  standard API field names as headers, every value quoted, 18-character record ids, booleans
  ``true``/``false``, date-times in UTC (``2024-04-01T00:30:00.000Z``), dates ``YYYY-MM-DD``.
  Reps are ``User``, calls and e-mails ``Task``, meetings/visits/QBRs ``Event``, support cases
  ``Case``, order lines ``Order`` + ``OrderItem``, products ``Product2``. Contracts are
  ``Contract`` with the monthly amount in the custom field ``MRR__c``, the product in
  ``Product__c`` and the previous term in ``RenewedFrom__c`` (standard Contract has no amount).
* **HubSpot** (CRM > object > Export, all properties): ``all-companies.csv``,
  ``all-contacts.csv``, ``all-deals.csv``, ``all-activities.csv``, ``all-tickets.csv`` with
  HubSpot's default property labels, numeric record ids, owners by name, associations as
  ``Associated Company IDs``, local date-times ``2024-04-01 10:00``.

The writers return the record id given to every canonical key, so a test can map the demo's
keys onto the imported store's.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from babel import Locale

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
HS_DEAL_TYPE = {
    "new": "New Business",
    "upsell": "Existing Business",
    "cross_sell": "Cross-sell",
    "renewal": "Renewal",
}
HS_TICKET_PRIORITY = {1: "Urgent", 2: "High", 3: "Medium", 4: "Low"}
HS_ACTIVITY_TYPE = {
    "call": "CALL",
    "email": "EMAIL",
    "meeting": "MEETING",
    "visit": "MEETING",
    "qbr": "MEETING",
}
HS_ID_BASE = {
    "accounts": 10_000_000_000,
    "contacts": 20_000_000_000,
    "opportunities": 30_000_000_000,
    "activities": 40_000_000_000,
    "tickets": 50_000_000_000,
}

_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_CHECKSUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
_CJK = r"[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff]"


@dataclass
class Export:
    """Files written and the record id each canonical key got (``keys[table][key] -> id``)."""

    directory: Path
    files: list[Path] = field(default_factory=list)
    keys: dict[str, dict[str, str]] = field(default_factory=dict)


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


def _lookup(ids: dict[int, str], column: pd.Series) -> pd.Series:
    """Surrogate ids of a referenced table as the export's record ids ('' when empty)."""
    return column.map(lambda v: "" if pd.isna(v) else ids[int(v)]).astype(object)


def _number(values: pd.Series) -> pd.Series:
    """Numbers as an export writes them: whole numbers without '.0', blanks empty."""

    def fmt(v: object) -> str:
        if v is None or pd.isna(v):  # type: ignore[call-overload]
            return ""
        f = float(v)  # type: ignore[arg-type]
        return str(int(f)) if f == int(f) else repr(f)

    return values.map(fmt).astype(object)


def _utc(values: pd.Series, timezone: str) -> pd.Series:
    """Business-local times as Salesforce's UTC ``2024-04-01T00:30:00.000Z``."""
    stamps = pd.to_datetime(values)
    utc = stamps.dt.tz_localize(timezone).dt.tz_convert("UTC")
    return utc.dt.strftime("%Y-%m-%dT%H:%M:%S.000Z").fillna("").astype(object)


def _date(values: pd.Series) -> pd.Series:
    return pd.to_datetime(values).dt.strftime("%Y-%m-%d").fillna("").astype(object)


def _local(values: pd.Series, fmt: str = "%Y-%m-%d %H:%M") -> pd.Series:
    return pd.to_datetime(values).dt.strftime(fmt).fillna("").astype(object)


def _bool(values: pd.Series) -> pd.Series:
    return values.astype(bool).map({True: "true", False: "false"}).astype(object)


def _text(values: pd.Series) -> pd.Series:
    return values.astype(object).where(values.notna(), "")


def split_name(names: pd.Series) -> tuple[pd.Series, pd.Series]:
    """(first names, last names) of 'Family Given' (Japanese) or 'Given Family' names."""
    text = names.astype("string").fillna("")
    head = text.str.split(" ", n=1).str[0]
    rest = text.str.split(" ", n=1).str[1].fillna("")
    japanese = text.str.contains(_CJK, regex=True).fillna(False).astype(bool)
    first = rest.where(japanese, head)
    last = head.where(japanese, rest)
    return first.astype(object), last.astype(object)


def _country_names() -> dict[str, str]:
    return dict(Locale.parse("en").territories)


def _write(frame: pd.DataFrame, path: Path, *, quote_all: bool, encoding: str, out: Export) -> None:
    frame.to_csv(
        path,
        index=False,
        encoding=encoding,
        quoting=csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL,
        lineterminator="\r\n" if quote_all else "\n",
    )
    out.files.append(path)


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
        _write(frame, out.directory / name, quote_all=True, encoding=encoding, out=out)

    reps = tables["reps"].reset_index(drop=True)
    rep_ids = assign("reps", reps)
    first, last = split_name(reps["name"])
    user = pd.DataFrame(
        {
            "Id": rep_ids,
            "Username": _text(reps["email"]),
            "LastName": last,
            "FirstName": first,
            "Email": _text(reps["email"]),
            "ManagerId": [""] * len(reps),
            "IsActive": _bool(reps["left_on"].isna()),
        }
    )
    user["ManagerId"] = _lookup(ids["reps"], reps["manager_id"])
    write("User.csv", user)

    accounts = tables["accounts"].reset_index(drop=True)
    countries = _country_names()
    write(
        "Account.csv",
        pd.DataFrame(
            {
                "Id": assign("accounts", accounts),
                "IsDeleted": "false",
                "Name": _text(accounts["name"]),
                "Type": "Customer",
                "BillingState": _text(accounts["region"]),
                "BillingCountry": accounts["country"].map(countries).fillna("").astype(object),
                "Industry": _text(accounts["industry"]),
                "NumberOfEmployees": _number(accounts["employees"]),
                "OwnerId": _lookup(ids["reps"], accounts["owner_id"]),
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
                "AccountId": _lookup(ids["accounts"], contacts["account_id"]),
                "LastName": last,
                "FirstName": first,
                "Email": _text(contacts["email"]),
                "Title": _text(contacts["title"]),
                "Department": _text(contacts["department"]),
            }
        ),
    )

    products = tables["products"].reset_index(drop=True)
    write(
        "Product2.csv",
        pd.DataFrame(
            {
                "Id": assign("products", products),
                "Name": _text(products["name"]),
                "ProductCode": _text(products["key"]),
                "Family": _text(products["family"]),
                "IsActive": _bool(products["successor_id"].isna()),
            }
        ),
    )

    contracts = tables["contracts"].reset_index(drop=True)
    contract_ids = assign("contracts", contracts)
    frame = pd.DataFrame(
        {
            "Id": contract_ids,
            "AccountId": _lookup(ids["accounts"], contracts["account_id"]),
            "Status": contracts["status"].map(SF_CONTRACT_STATUS).astype(object),
            "StartDate": _date(contracts["start_date"]),
            "EndDate": _date(contracts["end_date"]),
            "ContractTerm": _number(contracts["term_months"]),
            "MRR__c": _number(contracts["recurring_amount"]),
            "Product__c": _lookup(ids["products"], contracts["product_id"]),
        }
    )
    frame["RenewedFrom__c"] = _lookup(ids["contracts"], contracts["renewed_from_id"])
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
                "AccountId": _lookup(ids["accounts"], headers["account_id"]),
                "OrderNumber": _text(headers["order_number"]),
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
                "Product2Id": _lookup(ids["products"], lines["product_id"]),
                "Quantity": _number(quantity),
                "UnitPrice": _number(lines["amount"].astype(float) / quantity),
                "TotalPrice": _number(lines["amount"]),
            }
        ),
    )

    opps = tables["opportunities"].reset_index(drop=True)
    write(
        "Opportunity.csv",
        pd.DataFrame(
            {
                "Id": assign("opportunities", opps),
                "AccountId": _lookup(ids["accounts"], opps["account_id"]),
                "Name": _text(opps["name"]),
                "StageName": _text(opps["stage"]),
                "Amount": _number(opps["amount"]),
                "Probability": _number((opps["probability"].astype(float) * 100).round(6)),
                "CloseDate": _date(opps["close_date"]),
                "Type": opps["type"].astype(str).map(SF_OPPORTUNITY_TYPE).astype(object),
                "IsClosed": _bool(opps["is_closed"]),
                "IsWon": _bool(opps["is_won"]),
                "OwnerId": _lookup(ids["reps"], opps["owner_id"]),
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
                "AccountId": _lookup(ids["accounts"], tasks["account_id"]),
                "WhoId": _lookup(ids["contacts"], tasks["contact_id"]),
                "OwnerId": _lookup(ids["reps"], tasks["rep_id"]),
                "Subject": _text(tasks["subject"]),
                "ActivityDate": _date(tasks["occurred_at"]),
                "CompletedDateTime": _utc(tasks["occurred_at"], timezone),
                "Status": "Completed",
                "TaskSubtype": task_kind.map(SF_TASK_SUBTYPE).astype(object),
                # only calls have a duration (in seconds)
                "CallDurationInSeconds": _number(
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
                "AccountId": _lookup(ids["accounts"], events["account_id"]),
                "WhoId": _lookup(ids["contacts"], events["contact_id"]),
                "OwnerId": _lookup(ids["reps"], events["rep_id"]),
                "Subject": _text(events["subject"]),
                "Type": events["type"].astype(str).map(SF_EVENT_TYPE).astype(object),
                "StartDateTime": _utc(start, timezone),
                "EndDateTime": _utc(end, timezone),
                "DurationInMinutes": _number(minutes),
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
                "AccountId": _lookup(ids["accounts"], cases["account_id"]),
                "ContactId": _lookup(ids["contacts"], cases["contact_id"]),
                "Status": closed.map({True: "Closed", False: "New"}).astype(object),
                "IsClosed": _bool(closed),
                "Priority": cases["severity"].map(SF_CASE_PRIORITY).fillna("").astype(object),
                "Subject": _text(cases["subject"]),
                "CreatedDate": _utc(cases["opened_at"], timezone),
                "ClosedDate": _utc(cases["closed_at"], timezone),
            }
        ),
    )
    return out


def write_hubspot(
    tables: dict[str, pd.DataFrame],
    directory: str | Path,
    *,
    encoding: str = "utf-8",
) -> Export:
    """Write canonical ``tables`` as a HubSpot export (one CSV per object, default labels).

    HubSpot writes date-times in the portal's time zone, which is the business time zone here.
    ``encoding="cp932"`` gives the file as Excel in Japan re-saves it.
    """
    out = Export(Path(directory))
    out.directory.mkdir(parents=True, exist_ok=True)
    ids: dict[str, dict[int, str]] = {}

    def assign(table: str, frame: pd.DataFrame) -> pd.Series:
        record = pd.Series(
            [str(HS_ID_BASE[table] + i + 1) for i in range(len(frame))], dtype=object
        )
        ids[table] = dict(zip(frame["id"].astype(int), record, strict=True))
        out.keys[table] = dict(zip(frame["key"].astype(str), record, strict=True))
        return record

    def write(name: str, frame: pd.DataFrame) -> None:
        _write(frame, out.directory / name, quote_all=False, encoding=encoding, out=out)

    reps = tables["reps"]
    owner = dict(zip(reps["id"].astype(int), reps["name"].astype(str), strict=True))
    out.keys["reps"] = dict(zip(reps["key"].astype(str), reps["name"].astype(str), strict=True))

    accounts = tables["accounts"].reset_index(drop=True)
    countries = _country_names()
    write(
        "all-companies.csv",
        pd.DataFrame(
            {
                "Record ID": assign("accounts", accounts),
                "Company name": _text(accounts["name"]),
                "Company owner": _lookup(owner, accounts["owner_id"]),
                "Create Date": _local(accounts["customer_since"]),
                "Industry": _text(accounts["industry"]),
                "Number of Employees": _number(accounts["employees"]),
                "Country/Region": accounts["country"].map(countries).fillna("").astype(object),
                "State/Region": _text(accounts["region"]),
                "Lifecycle Stage": "Customer",
            }
        ),
    )

    contacts = tables["contacts"].reset_index(drop=True)
    first, last = split_name(contacts["name"])
    write(
        "all-contacts.csv",
        pd.DataFrame(
            {
                "Record ID": assign("contacts", contacts),
                "First Name": first,
                "Last Name": last,
                "Email": _text(contacts["email"]),
                "Job Title": _text(contacts["title"]),
                "Associated Company IDs": _lookup(ids["accounts"], contacts["account_id"]),
            }
        ),
    )

    deals = tables["opportunities"].reset_index(drop=True)
    write(
        "all-deals.csv",
        pd.DataFrame(
            {
                "Record ID": assign("opportunities", deals),
                "Deal Name": _text(deals["name"]),
                "Deal Stage": _text(deals["stage"]),
                "Amount": _number(deals["amount"]),
                "Close Date": _local(deals["close_date"]),
                "Create Date": _local(deals["created_date"]),
                "Pipeline": "Sales Pipeline",
                "Deal Type": deals["type"].astype(str).map(HS_DEAL_TYPE).astype(object),
                "Deal owner": _lookup(owner, deals["owner_id"]),
                "Associated Company IDs": _lookup(ids["accounts"], deals["account_id"]),
            }
        ),
    )

    acts = tables["activities"].reset_index(drop=True)
    write(
        "all-activities.csv",
        pd.DataFrame(
            {
                "Record ID": assign("activities", acts),
                "Activity date": _local(acts["occurred_at"]),
                "Activity type": acts["type"].astype(str).map(HS_ACTIVITY_TYPE).astype(object),
                "Activity assigned to": _lookup(owner, acts["rep_id"]),
                "Subject": _text(acts["subject"]),
                "Associated Company IDs": _lookup(ids["accounts"], acts["account_id"]),
                "Associated Contact IDs": _lookup(ids["contacts"], acts["contact_id"]),
            }
        ),
    )

    tickets = tables["tickets"].reset_index(drop=True)
    closed = tickets["closed_at"].notna()
    write(
        "all-tickets.csv",
        pd.DataFrame(
            {
                "Record ID": assign("tickets", tickets),
                "Ticket name": _text(tickets["subject"]),
                "Pipeline": "Support Pipeline",
                "Ticket status": closed.map({True: "Closed", False: "New"}).astype(object),
                "Priority": tickets["severity"].map(HS_TICKET_PRIORITY).fillna("").astype(object),
                "Create date": _local(tickets["opened_at"]),
                "Close date": _local(tickets["closed_at"]),
                "Associated Company IDs": _lookup(ids["accounts"], tickets["account_id"]),
                "Associated Contact IDs": _lookup(ids["contacts"], tickets["contact_id"]),
            }
        ),
    )
    return out


__all__ = ["Export", "salesforce_id", "split_name", "write_hubspot", "write_salesforce"]
