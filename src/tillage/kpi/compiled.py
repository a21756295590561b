"""The SQL of a KPI question, built and compiled once per process.

A question is what :func:`tillage.kpi.compute.per_account` is asked: the engine, the period,
the KPIs, which inputs it is given (each account's LTV, the watched accounts, the contact
cadence) with their columns and types, and the meeting and lapse windows. Pages, reports and
the warm step ask the same questions again and again — every role that opens the KPI page,
the trend and the review of the same quarter, each rep's agenda with that rep's accounts —
and answering one is mostly building its ibis expression and compiling it to SQL (about 80 % of
the time on the demo: the query itself runs in milliseconds in DuckDB). :func:`answer` keeps
the expression and its SQL per question and runs the kept SQL when the question comes again,
on this or another backend, with that call's inputs.

The inputs reach the engine as in-memory tables, which the SQL names by a random token
(``ibis_pandas_memtable_…``); kept SQL runs with the tokens of the new call's tables put in
place of those it was compiled with — a token is a name and nothing else, so that is the SQL
the same question built on the new inputs compiles to. The SQL depends on the store in two
ways, both checked before kept SQL is run: which tables have rows
(:meth:`~tillage.kpi.registry.KpiContext.has_rows`, the one question about the data an
implementation may ask while it builds; its answers are
:attr:`~tillage.kpi.registry.KpiContext.asked`) and the schemas of the tables the query reads.
tests/kpi/test_compiled.py holds the kept SQL equal to the SQL built anew, and its rows.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass

import ibis.expr.types as ir
import pyarrow as pa
from ibis.backends import BaseBackend
from ibis.expr.schema import Schema

from tillage.features.dated import compiled_for, run_compiled, same_schemas, tables_read
from tillage.features.sql_cache import renamed
from tillage.kpi.registry import KpiContext

#: Questions kept (the least recently asked is forgotten first).
KEPT_QUESTIONS = 128
#: Kept queries per question (one per answer of ``has_rows`` and schemas of the tables met).
KEPT_PER_QUESTION = 4


@dataclass(frozen=True)
class _Kept:
    expr: ir.Table
    sql: str
    inputs: tuple[str, ...]  # the names of the in-memory tables it was compiled with
    asked: tuple[tuple[str, bool], ...]
    tables: tuple[tuple[str, Schema], ...]


_KEPT: OrderedDict[Hashable, list[_Kept]] = OrderedDict()
_LOCK = threading.Lock()


def shape(inputs: Sequence[ir.Table | None]) -> tuple[Schema | None, ...]:
    """What a question holds of its inputs: each one's schema (``None``: not given)."""
    return tuple(None if t is None else t.schema() for t in inputs)


def answer(
    con: BaseBackend,
    question: Hashable,
    ctx: KpiContext,
    inputs: Sequence[ir.Table | None],
    build: Callable[[], ir.Table],
) -> pa.Table:
    """The rows of ``build()`` on ``con``, from SQL kept for ``question`` where it was compiled
    before on a store whose ``has_rows`` answers and table schemas are the same. ``inputs``
    are the in-memory tables ``build`` reads (``ibis.memtable``); ``question`` must hold
    everything else ``build`` reads except the store, and the :func:`shape` of ``inputs``
    (``ctx`` is the context it builds on)."""
    names = tuple(t.op().name for t in inputs if t is not None)
    with _LOCK:
        kept = list(_KEPT.get(question, ()))
        if kept:
            _KEPT.move_to_end(question)
    for query in kept:
        if _holds(con, ctx, query):
            sql = renamed(query.sql, dict(zip(query.inputs, names, strict=True)))
            for table in inputs:
                if table is not None and table.op().name in sql:
                    con._run_pre_execute_hooks(table)  # the call's inputs reach the engine
            return run_compiled(con, query.expr, sql)
    expr, sql = compiled_for(con, build())
    # kept unbound: a kept backend would keep the store's tables in memory
    query = _Kept(expr.unbind(), sql, names, ctx.asked, tables_read(expr))
    with _LOCK:
        queries = _KEPT.setdefault(question, [])
        queries.insert(0, query)
        del queries[KEPT_PER_QUESTION:]
        _KEPT.move_to_end(question)
        while len(_KEPT) > KEPT_QUESTIONS:
            _KEPT.popitem(last=False)
    con._run_pre_execute_hooks(expr)
    return run_compiled(con, expr, sql)


def forget() -> None:
    """Forget every kept query (the next question of each kind is built and compiled anew)."""
    with _LOCK:
        _KEPT.clear()


def _holds(con: BaseBackend, ctx: KpiContext, query: _Kept) -> bool:
    """Whether ``query`` is the SQL of its question on ``con``'s store."""
    if any(ctx.has_rows(name) != rows for name, rows in query.asked):
        return False
    return same_schemas(con, query.tables)
