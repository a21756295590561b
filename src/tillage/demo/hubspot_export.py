"""The demo company as a HubSpot export (CRM > object > Export, all properties).

``all-companies.csv``, ``all-contacts.csv``, ``all-deals.csv``, ``all-activities.csv``,
``all-tickets.csv`` with HubSpot's default property labels, numeric record ids, owners by name,
associations as ``Associated Company IDs``, local date-times ``2024-04-01 10:00``. See
:mod:`tillage.demo.exports`.
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

__all__ = ["write_hubspot"]

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


def _local(values: pd.Series, fmt: str = "%Y-%m-%d %H:%M") -> pd.Series:
    return pd.to_datetime(values).dt.strftime(fmt).fillna("").astype(object)


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
        write_csv(frame, out.directory / name, quote_all=False, encoding=encoding, out=out)

    reps = tables["reps"]
    owner = dict(zip(reps["id"].astype(int), reps["name"].astype(str), strict=True))
    out.keys["reps"] = dict(zip(reps["key"].astype(str), reps["name"].astype(str), strict=True))

    accounts = tables["accounts"].reset_index(drop=True)
    countries = country_names()
    write(
        "all-companies.csv",
        pd.DataFrame(
            {
                "Record ID": assign("accounts", accounts),
                "Company name": export_text(accounts["name"]),
                "Company owner": referenced_ids(owner, accounts["owner_id"]),
                "Create Date": _local(accounts["customer_since"]),
                "Industry": export_text(accounts["industry"]),
                "Number of Employees": export_numbers(accounts["employees"]),
                "Country/Region": accounts["country"].map(countries).fillna("").astype(object),
                "State/Region": export_text(accounts["region"]),
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
                "Email": export_text(contacts["email"]),
                "Job Title": export_text(contacts["title"]),
                "Associated Company IDs": referenced_ids(ids["accounts"], contacts["account_id"]),
            }
        ),
    )

    deals = tables["opportunities"].reset_index(drop=True)
    write(
        "all-deals.csv",
        pd.DataFrame(
            {
                "Record ID": assign("opportunities", deals),
                "Deal Name": export_text(deals["name"]),
                "Deal Stage": export_text(deals["stage"]),
                "Amount": export_numbers(deals["amount"]),
                "Deal probability": export_numbers(deals["probability"]),
                "Close Date": _local(deals["close_date"]),
                "Create Date": _local(deals["created_date"]),
                "Pipeline": "Sales Pipeline",
                "Deal Type": deals["type"].astype(str).map(HS_DEAL_TYPE).astype(object),
                "Deal owner": referenced_ids(owner, deals["owner_id"]),
                "Associated Company IDs": referenced_ids(ids["accounts"], deals["account_id"]),
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
                "Activity assigned to": referenced_ids(owner, acts["rep_id"]),
                "Subject": export_text(acts["subject"]),
                "Associated Company IDs": referenced_ids(ids["accounts"], acts["account_id"]),
                "Associated Contact IDs": referenced_ids(ids["contacts"], acts["contact_id"]),
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
                "Ticket name": export_text(tickets["subject"]),
                "Pipeline": "Support Pipeline",
                "Ticket status": closed.map({True: "Closed", False: "New"}).astype(object),
                "Priority": tickets["severity"].map(HS_TICKET_PRIORITY).fillna("").astype(object),
                "Create date": _local(tickets["opened_at"]),
                "Close date": _local(tickets["closed_at"]),
                "Associated Company IDs": referenced_ids(ids["accounts"], tickets["account_id"]),
                "Associated Contact IDs": referenced_ids(ids["contacts"], tickets["contact_id"]),
            }
        ),
    )
    return out
