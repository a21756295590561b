"""Bulk insertion keeps every type intact and takes part in the caller's transaction."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from tillage.errors import StoreError
from tillage.store.bulk import insert_frame
from tillage.store.schema import Account, Activity, Order, Product


def _accounts() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": [1, 2],
            "key": ["ACC-1", "ACC-2"],
            "name": ["株式会社髙橋製作所 ㈱①", "Acme Ltd"],
            "customer_since": pd.to_datetime(["2023-04-01", None]),
            "acquisition_cost": [1_200_000.0, None],
            "employees": pd.array([120, None], dtype="Int64"),
        }
    )


def test_round_trip_keeps_values_and_types(engine: Engine) -> None:
    with engine.begin() as connection:
        assert insert_frame(connection, "accounts", _accounts()) == 2
        insert_frame(
            connection,
            "products",
            pd.DataFrame({"id": [1], "key": ["P1"], "name": ["Licence"], "is_recurring": [True]}),
        )
        insert_frame(
            connection,
            "orders",
            pd.DataFrame(
                {
                    "id": [10, 11],
                    "key": ["O-10", "O-11"],
                    "order_number": ["SO-1", "SO-1"],
                    "account_id": [1, 1],
                    "product_id": [1, None],
                    "order_date": pd.to_datetime(["2024-04-01", "2024-04-01"]),
                    "quantity": [2.0, 1.0],
                    "amount": [12_000.0, 99_999_999.5],
                    "margin": [4_000.0, None],
                }
            ),
        )
        insert_frame(
            connection,
            "activities",
            pd.DataFrame(
                {
                    "id": [1],
                    "key": ["ACT-1"],
                    "account_id": [1],
                    "type": ["meeting"],
                    "occurred_at": [pd.Timestamp("2024-04-01 08:00:00")],
                    "duration_minutes": [45.0],
                }
            ),
        )
    with Session(engine) as session:
        first = session.get(Account, 1)
        assert first is not None
        assert first.name == "株式会社髙橋製作所 ㈱①"
        assert first.customer_since == dt.date(2023, 4, 1)
        assert first.acquisition_cost == pytest.approx(1_200_000.0)
        assert first.employees == 120
        second = session.get(Account, 2)
        assert second is not None
        assert second.customer_since is None and second.acquisition_cost is None
        assert session.get(Product, 1).is_recurring is True  # type: ignore[union-attr]
        orders = session.scalars(select(Order).order_by(Order.id)).all()
        assert [o.amount for o in orders] == [12_000.0, 99_999_999.5]
        assert orders[0].margin == 4_000.0 and orders[1].margin is None
        assert orders[1].product_id is None
        assert orders[0].order_date == dt.date(2024, 4, 1)
        activity = session.get(Activity, 1)
        assert activity.occurred_at == dt.datetime(2024, 4, 1, 8, 0)  # type: ignore[union-attr]


def test_failed_transaction_leaves_nothing_behind(engine: Engine) -> None:
    duplicate = pd.DataFrame({"id": [3], "key": ["ACC-1"], "name": ["dup"]})
    with pytest.raises(Exception, match=r"(?i)unique|duplicate"), engine.begin() as connection:
        insert_frame(connection, "accounts", _accounts())
        insert_frame(connection, "accounts", duplicate)
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(Account)) == 0


def test_unknown_columns_are_refused(engine: Engine) -> None:
    with pytest.raises(StoreError, match="no columns"), engine.begin() as connection:
        insert_frame(connection, "accounts", pd.DataFrame({"id": [1], "colour": ["red"]}))


def test_amounts_are_rounded_to_cents_on_every_engine(engine: Engine) -> None:
    """A Money column holds whole cents on SQLite as on PostgreSQL (which rounds NUMERIC(18, 2)
    itself): the same computed amounts read back as the same doubles from either store."""
    amounts = [10_053.388090349075, 9.089812263295661e-07, -349.76740648962203, 0.125, 1e9 / 7]
    with engine.begin() as connection:
        insert_frame(connection, "accounts", _accounts())
        insert_frame(
            connection,
            "orders",
            pd.DataFrame(
                {
                    "id": range(1, 6),
                    "key": [f"O-{i}" for i in range(1, 6)],
                    "order_number": ["SO-1"] * 5,
                    "account_id": [1] * 5,
                    "order_date": pd.to_datetime(["2024-04-01"] * 5),
                    "amount": amounts,
                    "margin": [None, 0.004, 0.006, None, 2.5],
                }
            ),
        )
    with Session(engine) as session:
        orders = session.scalars(select(Order).order_by(Order.id)).all()
        read = [o.amount for o in orders]
        assert read == [10_053.39, 0.0, -349.77, 0.12, 142_857_142.86]
        assert [o.margin for o in orders] == [None, 0.0, 0.01, None, 2.5]
