"""Queries of a date whose feature table a run has materialised, compiled once per process.

:func:`tillage.features.deals.deal_history` and :func:`~tillage.features.deals.expansion_frames`
read the account features of the dates a scoring run materialised
(:func:`~tillage.features.build.materialised_features`) from those temporary tables, one query
per date. Their SQL differs from run to run only by the name of the table (each run's own), so
:func:`run_held` keeps it per engine, recipe and date and runs it again with the new table's
name put in place of the old: a re-score on the same day, in a server's worker or a test
process, compiles nothing.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Hashable
from dataclasses import dataclass

import ibis.expr.operations as ops
import pyarrow as pa
from ibis.backends import BaseBackend
from ibis.expr.schema import Schema
from ibis.expr.types import Table

from tillage.features._common import AsOf
from tillage.features.build import FeatureTables
from tillage.features.dated import compiled_for, run_compiled, same_schemas, tables_read
from tillage.features.sql_cache import renamed

__all__ = ["HELD_QUERIES", "run_held"]


@dataclass(frozen=True)
class _HeldQuery:
    expr: Table  # unbound
    sql: str
    table: str  # the name of the feature table the SQL reads
    tables: tuple[tuple[str, Schema], ...]  # every table it reads, that one included


#: Queries of held dates kept (a few per scoring run: the oldest is forgotten first).
HELD_QUERIES = 16
_HELD: dict[tuple[str, Hashable, dt.date], _HeldQuery] = {}
"""The queries of held dates by engine, recipe and date, for the process."""
_HELD_LOCK = threading.Lock()


def run_held(
    con: BaseBackend,
    day: dt.date,
    build: Callable[[AsOf, FeatureTables | None], Table],
    features: FeatureTables,
    recipe: Hashable,
) -> pa.Table:
    """``build(day, features)`` run on ``con``, its SQL compiled once per process for the
    recipe and date: the next run's query of the same date (a re-score on the same day) reads
    its own feature table, whose name is put in place of the one the SQL was compiled with (a
    name unique to that table: nothing else in the SQL depends on the run), where every table it
    reads has the schema it had. Only a query that reads that one feature table is kept."""
    table = features[day].op().name
    with _HELD_LOCK:
        kept = _HELD.get((con.name, recipe, day))
    if kept is not None and same_schemas(con, kept.tables, {kept.table: table}):
        return run_compiled(con, kept.expr, renamed(kept.sql, {kept.table: table}))
    expr, sql = compiled_for(con, build(day, features))
    read = tables_read(expr)
    held = {t.op().name for t in features.values()}
    if {name for name, _ in read} & held == {table} and not expr.op().find(ops.InMemoryTable):
        query = _HeldQuery(expr.unbind(), sql, table, read)
        with _HELD_LOCK:
            _HELD[(con.name, recipe, day)] = query
            while len(_HELD) > HELD_QUERIES:  # the oldest first: a server's earlier days
                del _HELD[next(iter(_HELD))]
    con._run_pre_execute_hooks(expr)
    return run_compiled(con, expr, sql)
