"""The scoring run on PostgreSQL scores like the one on SQLite.

The same small demo company is loaded into a SQLite store and into a PostgreSQL store and scored
as of the demo's date: the feature queries run on DuckDB for the one and inside PostgreSQL for
the other (where NUMERIC amounts and float literals come back as ``Decimal`` unless the reader
casts them), and every account's scores, the deals and the plans must agree within float
tolerance. Slow: two scoring runs of a 240-account company.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import Engine, select

from tillage.services.scoring import run_scoring
from tillage.store.database import make_engine, migrate
from tillage.store.load import replace_all
from tillage.store.schema import AccountScore, SnapshotAction, SnapshotDeal

from ..scored_demo import CREATED, load_demo

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

#: amounts: PostgreSQL keeps NUMERIC(18, 2), SQLite the float as computed (a cent apart at most)
MONEY = ["revenue_12m", "ltv", "ltv_low", "ltv_high", "expected_revenue", "growth"]
NUMBERS = [
    *MONEY,
    "tenure_months",
    "churn_risk",
    "p_alive",
    "priority",
    "p_cell",
    "key_person_risk",
    "silent_churn",
]
LABELS = ["zone", "segment", "rep_id", "days_to_renewal", "borderline", "single_threaded"]


def _frame(engine: Engine, model: type, order: list[str]) -> pd.DataFrame:
    with engine.connect() as connection:
        rows = connection.execute(select(model.__table__)).mappings().all()
    frame = pd.DataFrame([dict(r) for r in rows]).drop(
        columns=["snapshot_id", "id"], errors="ignore"
    )
    return frame.sort_values(order).reset_index(drop=True)


def _score(engine: Engine, as_of: dt.date) -> None:
    run_scoring(engine, as_of, created_at=CREATED)


def test_postgres_scores_like_sqlite(tmp_path, pg_database_url: str) -> None:  # type: ignore[no-untyped-def]
    company, lite, _url = load_demo(tmp_path / "t.db", 240, 11, 6)
    as_of = company.config.as_of
    pg = make_engine(pg_database_url)
    try:
        migrate(pg)
        replace_all(pg, company.tables)
        _score(lite, as_of)
        _score(pg, as_of)
        a = _frame(lite, AccountScore, ["account_id"])
        b = _frame(pg, AccountScore, ["account_id"])
        deals = [_frame(e, SnapshotDeal, ["opportunity_id"]) for e in (lite, pg)]
        actions = [
            _frame(e, SnapshotAction, ["rep_id", "account_id", "action"]) for e in (lite, pg)
        ]
    finally:
        pg.dispose()
        lite.dispose()

    assert len(a) == len(b) == len(company.tables["accounts"])
    assert (a["account_id"] == b["account_id"]).all()
    for name in NUMBERS:
        x, y = a[name].astype(float), b[name].astype(float)
        assert (x.isna() == y.isna()).all(), name
        atol = 0.01 if name in MONEY else 1e-6
        assert np.allclose(x, y, rtol=1e-6, atol=atol, equal_nan=True), name
    assert a["ltv"].astype(float).std() > 0 and a["priority"].astype(float).std() > 0
    for name in LABELS:
        assert (
            a[name]
            .astype(object)
            .where(a[name].notna())
            .equals(b[name].astype(object).where(b[name].notna()))
        ), name
    codes = [[[r["code"] for r in rs or []] for rs in f["reasons"]] for f in (a, b)]
    assert codes[0] == codes[1]
    # the deals and the month's plans too
    assert len(deals[0]) == len(deals[1]) > 0
    assert (deals[0]["opportunity_id"] == deals[1]["opportunity_id"]).all()
    assert np.allclose(deals[0]["win_probability"], deals[1]["win_probability"], atol=1e-6)
    assert (deals[0]["zone"] == deals[1]["zone"]).all()
    assert len(actions[0]) == len(actions[1]) > 0
    keys = ["rep_id", "account_id", "action"]
    assert actions[0][keys].equals(actions[1][keys])
