"""Won deals as revenue, for companies whose store holds no orders and no contracts.

A CRM-only company (accounts, reps, opportunities) records its revenue as won opportunities.
:func:`won_deals_as_orders` then puts, on an open feature backend, each won deal in the
``orders`` table as one order: ``order_date`` = the deal's ``close_date``, ``amount`` = its
amount (store currency), ``order_number`` ``won-<n>``, no margin (the family margins apply), no
product. Every feature, value model and backtest that reads ``orders`` on that backend then values
the account from its won deals. The store itself is not changed.

``mode`` is the strategy file's ``revenue_from_won_deals``: ``"auto"`` (the default) does it only
when the store has no orders and no contracts, ``"always"`` replaces the orders with the won
deals (contracts stay), ``"never"`` leaves the orders as they are. Deals without a close date
or an amount are left out and counted.
"""

from __future__ import annotations

from typing import Literal

import ibis
from ibis.backends import BaseBackend

from tillage.features.engine import execute_arrow

__all__ = ["WonDealsMode", "won_deals_as_orders"]

WonDealsMode = Literal["auto", "always", "never"]


def _count(con: BaseBackend, expr: ibis.Table) -> int:
    return int(execute_arrow(con, expr.count().as_table()).column(0)[0].as_py())


def _replace_orders(con: BaseBackend, expr: ibis.Table) -> None:
    """Replace ``orders`` on the backend (DuckDB, Spark) or shadow it for this connection
    (PostgreSQL: a temporary table, which the session finds before the store's table)."""
    name = con.name
    if name == "duckdb":
        con.create_table("orders", execute_arrow(con, expr), overwrite=True)
    elif name == "pyspark":
        con.create_view("orders", expr, overwrite=True)
    else:  # postgres: a temporary table of the session shadows public.orders
        con.create_table("orders", execute_arrow(con, expr), temp=True, overwrite=True)


def won_deals_as_orders(con: BaseBackend, mode: WonDealsMode = "auto") -> dict[str, object]:
    """Put the won deals in the backend's ``orders`` table when ``mode`` says so (module
    docstring); return the record: ``source`` (``"won_deals"`` or ``"orders"``), ``mode``,
    ``deals`` (won deals used), ``left_out`` (won deals without close date or amount) and
    ``reason`` (a sentence for the output)."""
    record: dict[str, object] = {"mode": mode, "source": "orders", "deals": 0, "left_out": 0}
    if mode == "never":
        record["reason"] = "orders are the revenue (revenue_from_won_deals = never)"
        return record
    if mode == "auto" and (_count(con, con.table("orders")) or _count(con, con.table("contracts"))):
        record["reason"] = "orders and contracts are the revenue"
        return record
    deals = con.table("opportunities")
    won = deals.filter(deals.is_won.cast("boolean").fill_null(False))
    usable = won.filter(won.close_date.notnull() & won.amount.notnull())
    n_won, n_used = _count(con, won), _count(con, usable)
    schema = con.table("orders").schema()
    number = ibis.literal("won-") + (ibis.row_number() + 1).cast("string")
    columns = {
        "account_id": usable.account_id,
        "order_date": usable.close_date,
        "amount": usable.amount,
        # one order per deal (orders are counted by their distinct numbers)
        "order_number": number,
        "key": number,
        "id": ibis.row_number() + 1,
    }
    expr = usable.select(
        **{
            column: columns[column].cast(dtype)
            if column in columns
            else ibis.null(dtype.copy(nullable=True))
            for column, dtype in schema.items()
        }
    )
    _replace_orders(con, expr)
    record.update(source="won_deals", deals=n_used, left_out=n_won - n_used)
    why = "no orders and no contracts" if mode == "auto" else "revenue_from_won_deals = always"
    record["reason"] = f"won deals are the revenue ({why}): {n_used} deals on their close dates"
    if n_won > n_used:
        record["reason"] += f"; {n_won - n_used} won deals without close date or amount left out"
    return record
