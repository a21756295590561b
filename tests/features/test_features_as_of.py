"""Property: rows dated after ``as_of`` never change the features as of that date (DuckDB)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pyarrow as pa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tillage.features.build import build_features
from tillage.features.engine import FEATURE_COLUMNS, duckdb_backend

from .handmade import AS_OF, tables

TABLES = ("orders", "contracts", "opportunities", "activities", "tickets", "nps_responses", "usage")


def _features(frames: dict[str, pd.DataFrame]) -> pd.DataFrame:
    arrow = {
        name: pa.Table.from_pandas(frame, preserve_index=False) for name, frame in frames.items()
    }
    con = duckdb_backend(arrow, threads=1)
    try:
        return build_features(con, AS_OF, period="day")
    finally:
        con.disconnect()


BASE = {name: tables()[name][list(cols)] for name, cols in FEATURE_COLUMNS.items()}
BASELINE = _features(BASE)

late_row = st.tuples(
    st.sampled_from(TABLES),
    st.integers(1, 3),  # account
    st.integers(1, 400),  # days after as_of
    st.integers(0, 23 * 60),  # minute of the day for timestamps
    st.floats(0, 1e6, allow_nan=False),  # amount / value
    st.sampled_from(["meeting", "call", "email", "visit", "qbr"]),
)


def _append(frames: dict[str, pd.DataFrame], rows: list[tuple]) -> dict[str, pd.DataFrame]:
    out = {name: frame.copy() for name, frame in frames.items()}
    for i, (table, account, days, minute, value, kind) in enumerate(rows):
        date = pd.Timestamp(AS_OF + dt.timedelta(days=days))
        stamp = date + pd.Timedelta(minutes=minute)
        new_id = 1000 + i
        row: dict[str, object] = {"id": new_id, "account_id": account}
        if table == "orders":
            row |= {"order_number": f"L{i}", "order_date": date, "amount": value, "margin": 0.1}
        elif table == "contracts":
            row |= {
                "start_date": date,
                "end_date": date + pd.Timedelta(days=365),
                "term_months": 12,
                "recurring_amount": value,
                "renewed_from_id": 2,
                "status": "active",
            }
        elif table == "opportunities":
            row |= {
                "type": "upsell",
                "amount": value,
                "created_date": date,
                "close_date": date + pd.Timedelta(days=30),
                "is_closed": bool(minute % 2),
                "is_won": True,
                "competitor": "Acme",
            }
        elif table == "activities":
            row |= {"rep_id": 11, "contact_id": 2, "type": kind, "occurred_at": stamp}
        elif table == "tickets":
            row |= {"opened_at": stamp, "closed_at": None, "satisfaction": None}
        elif table == "nps_responses":
            row |= {"responded_on": date, "score": minute % 11}
        else:
            row |= {"date": date, "metric": "active_users", "value": value}
        base = out[table]
        extra = pd.DataFrame([row])[list(base.columns)].astype(base.dtypes.to_dict())
        out[table] = pd.concat([base, extra], ignore_index=True)
    return out


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(late_row, min_size=1, max_size=8))
def test_rows_after_as_of_change_nothing(rows: list[tuple]) -> None:
    pd.testing.assert_frame_equal(_features(_append(BASE, rows)), BASELINE)


def test_the_property_has_teeth() -> None:
    """The same rows dated on ``as_of`` do change the features."""
    frames = _append(BASE, [("orders", 3, 1, 0, 100.0, "call")])
    frames["orders"].loc[frames["orders"].order_number == "L0", "order_date"] = pd.Timestamp(AS_OF)
    changed = _features(frames)
    assert changed.loc[changed.account_id == 3, "revenue_90d"].item() == 100.0
