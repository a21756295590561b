"""Won deals as orders: only where the strategy's setting and the store say so."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa

from tillage.features.engine import duckdb_backend, execute_arrow
from tillage.features.won_deals import won_deals_as_orders


def _backend(orders: int, contracts: int) -> object:
    deals = pa.table(
        {
            "account_id": [1, 1, 2, 3],
            "amount": [100.0, 50.0, None, 70.0],
            "close_date": pd.to_datetime(["2025-01-10", "2025-03-01", "2025-02-01", None]),
            "is_won": [True, True, True, False],
        }
    )
    order_table = pa.table(
        {
            "account_id": [9] * orders,
            "order_number": ["a"] * orders,
            "order_date": pd.to_datetime(["2025-01-01"] * orders),
            "amount": [1.0] * orders,
        }
    )
    contract_table = pa.table({"account_id": pa.array([9] * contracts, pa.int64())})
    return duckdb_backend(
        {"opportunities": deals, "orders": order_table, "contracts": contract_table}
    )


def _orders(con: object) -> pd.DataFrame:
    return execute_arrow(con, con.table("orders")).to_pandas()  # type: ignore[attr-defined]


def test_auto_uses_the_won_deals_only_without_orders_and_contracts() -> None:
    con = _backend(orders=0, contracts=0)
    record = won_deals_as_orders(con, "auto")
    orders = _orders(con).sort_values("order_date")
    assert record["source"] == "won_deals" and record["deals"] == 2 and record["left_out"] == 1
    assert orders["amount"].tolist() == [100.0, 50.0]
    assert orders["account_id"].tolist() == [1, 1]
    assert orders["order_number"].nunique() == 2  # two orders, not one
    assert "1 won deals without close date or amount left out" in str(record["reason"])
    for orders_n, contracts_n in ((1, 0), (0, 1)):
        kept = _backend(orders=orders_n, contracts=contracts_n)
        assert won_deals_as_orders(kept, "auto")["source"] == "orders"
        assert len(_orders(kept)) == orders_n


def test_always_replaces_the_orders_and_never_keeps_them() -> None:
    con = _backend(orders=3, contracts=1)
    assert won_deals_as_orders(con, "always")["source"] == "won_deals"
    assert sorted(_orders(con)["amount"]) == [50.0, 100.0]
    con = _backend(orders=0, contracts=0)
    assert won_deals_as_orders(con, "never")["source"] == "orders"
    assert _orders(con).empty
