"""A CRM-only company for the tests: the demo's accounts, reps and opportunities, nothing else
(no orders, no contracts, no products)."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from tillage.demo import DemoConfig, generate
from tillage.store.database import make_engine, migrate
from tillage.store.load import replace_all


def crm_only_store(
    url: str, n_accounts: int = 60, seed: int = 11
) -> tuple[str, dt.date, pd.DataFrame]:
    """The empty store at ``url`` (SQLite or PostgreSQL) loaded with the demo's accounts, reps
    and opportunities only: its URL, the demo's as-of date and the won deals."""
    company = generate(DemoConfig(n_accounts=n_accounts, seed=seed, history_months=24, n_reps=5))
    deals = company.tables["opportunities"].assign(product_id=None)
    tables = {
        "reps": company.tables["reps"].assign(team_id=None),
        "accounts": company.tables["accounts"],
        "opportunities": deals,
    }
    engine = make_engine(url)
    migrate(engine)
    replace_all(engine, tables)
    engine.dispose()
    return url, company.config.as_of, deals[deals["is_won"].astype(bool)]
