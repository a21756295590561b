"""A demo company cut to its last three months of history (young data), for the tests."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from tillage.demo import DemoCompany, DemoConfig, generate

#: The dated column of each table whose rows the cut keeps only inside the last three months.
DATED = {
    "orders": "order_date",
    "contracts": "start_date",
    "opportunities": "created_date",
    "activities": "occurred_at",
    "tickets": "opened_at",
    "nps_responses": "responded_on",
    "usage": "date",
}


def young_tables(
    n_accounts: int = 80, seed: int = 7
) -> tuple[DemoCompany, dict[str, pd.DataFrame]]:
    """The demo's tables with nothing dated before the last 91 days before its as-of date."""
    company = generate(DemoConfig(n_accounts=n_accounts, seed=seed, history_months=6, n_reps=5))
    cut = pd.Timestamp(company.config.as_of - dt.timedelta(days=91))
    tables = dict(company.tables)
    for name, column in DATED.items():
        frame = tables[name]
        tables[name] = frame[pd.to_datetime(frame[column]) > cut].copy()
    contracts = tables["contracts"]
    orphan = ~contracts["renewed_from_id"].isin(contracts["id"])
    contracts.loc[orphan, "renewed_from_id"] = None
    accounts = tables["accounts"].copy()
    since = pd.to_datetime(accounts["customer_since"]).clip(lower=cut + pd.Timedelta(days=1))
    accounts["customer_since"] = since.dt.date
    tables["accounts"] = accounts
    return company, tables
