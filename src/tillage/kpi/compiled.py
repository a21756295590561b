"""The SQL of a KPI question, built and compiled once per process.

A question is what :func:`tillage.kpi.compute.per_account` is asked: the engine, the period,
the KPIs, the contents of its inputs (each account's LTV, the watched accounts, the contact
cadence) and the meeting and lapse windows. Pages and reports ask the same questions again and
again — every role that opens the KPI page, the trend and the review of the same quarter,
every refresh before the page cache holds them — and answering one is mostly building its ibis
expression and compiling it to SQL (~85 % of the time on the demo: the query itself runs in
milliseconds in DuckDB). :func:`answer` keeps the expression and its SQL per question and runs
the kept SQL when the question comes again, on this or another backend.

The SQL of a question depends on the store in two ways only, both checked before kept SQL is
run: which tables have rows (:meth:`~tillage.kpi.registry.KpiContext.has_rows`, the one
question about the data an implementation may ask while it builds; its answers are
:attr:`~tillage.kpi.registry.KpiContext.asked`) and the schemas of the tables the query reads.
The inputs' rows are in the expression's in-memory tables; a question is only the same where
their contents are (SHA-256 of the rows, whatever their order). So the kept SQL is the SQL the
same question built anew compiles to, and its answer the same rows (tests/kpi/test_compiled.py).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass

import ibis.expr.operations as ops
import ibis.expr.types as ir
import pyarrow as pa
from ibis.backends import BaseBackend
from ibis.expr.schema import Schema

from tillage.features.dated import run_compiled
from tillage.features.engine import postgres_doubles
from tillage.kpi.registry import KpiContext

#: Questions kept (the least recently asked is forgotten first).
KEPT_QUESTIONS = 128
#: Kept queries per question (one per answer of ``has_rows`` and schemas of the tables met).
KEPT_PER_QUESTION = 4


@dataclass(frozen=True)
class _Kept:
    expr: ir.Table  # its in-memory tables hold the inputs
    sql: str
    asked: tuple[tuple[str, bool], ...]
    tables: tuple[tuple[str, Schema], ...]


_KEPT: OrderedDict[Hashable, list[_Kept]] = OrderedDict()
_LOCK = threading.Lock()


def answer(
    con: BaseBackend, question: Hashable, ctx: KpiContext, build: Callable[[], ir.Table]
) -> pa.Table:
    """The rows of ``build()`` on ``con``, from SQL kept for ``question`` where it was compiled
    before on a store whose ``has_rows`` answers and table schemas are the same. ``question``
    must hold everything ``build`` reads except the store (``ctx`` is the context it builds
    on)."""
    with _LOCK:
        kept = list(_KEPT.get(question, ()))
        if kept:
            _KEPT.move_to_end(question)
    for query in kept:
        if _holds(con, ctx, query):
            con._run_pre_execute_hooks(query.expr)  # the inputs reach this backend
            return run_compiled(con, query.expr, query.sql)
    expr = build()
    if con.name == "postgres":
        expr = postgres_doubles(expr)
    query = _Kept(expr, str(con.compile(expr)), ctx.asked, _tables(expr))
    with _LOCK:
        queries = _KEPT.setdefault(question, [])
        queries.insert(0, query)
        del queries[KEPT_PER_QUESTION:]
        _KEPT.move_to_end(question)
        while len(_KEPT) > KEPT_QUESTIONS:
            _KEPT.popitem(last=False)
    con._run_pre_execute_hooks(expr)
    return run_compiled(con, expr, query.sql)


def forget() -> None:
    """Forget every kept query (the next question of each kind is built and compiled anew)."""
    with _LOCK:
        _KEPT.clear()


def _tables(expr: ir.Table) -> tuple[tuple[str, Schema], ...]:
    found = {op.name: op.schema for op in expr.op().find(ops.DatabaseTable)}
    return tuple(sorted(found.items()))


def _holds(con: BaseBackend, ctx: KpiContext, query: _Kept) -> bool:
    """Whether ``query`` is the SQL of its question on ``con``'s store."""
    if any(ctx.has_rows(name) != rows for name, rows in query.asked):
        return False
    return all(con.get_schema(name) == schema for name, schema in query.tables)
