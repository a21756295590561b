"""Feature queries compiled once and run for many as-of dates.

A scoring run reads the features of several dates: the deal history of six month ends, the
expansion frames of three quarters and the current date, the feature tables of the as-of date
and the year before. Each query is cheap to run but slow to build and compile (on the
2,000-account demo about 0.5–0.9 s of ibis building the expression and 1.0–1.5 s compiling it
to SQL, against 0.4–0.5 s of running it, at load 5). :class:`DatedQuery` builds the expression
once on an :class:`~tillage.features._common.AsOfParameter`, compiles it once with a stand-in
value per date parameter, and for each date puts that date's literals in place of the
stand-ins in the SQL text and runs it on the engine.

The SQL of a date is the SQL the same expression built on that date compiles to (every
parameter stands for one literal, and ibis turns parameters into literals before it compiles),
so the figures cannot differ; tests/features/test_dated.py holds the two texts equal.

A query built from a ``recipe`` (a key naming the build: the weekly account features, the deal
history with or without labels, …) is kept for the process, per engine, and the next run's
query of the same recipe reuses its SQL where the store tables it reads have the same schemas:
a server's re-scoring jobs, and a test run's many scoring runs, compile each query once.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
from collections.abc import Callable, Hashable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from typing import Any

import ibis.expr.operations as ops
import ibis.expr.types as ir
import pyarrow as pa
import sqlglot as sg
from ibis.backends import BaseBackend
from ibis.expr.schema import Schema

from tillage.errors import DataValidationError
from tillage.features._common import AsOf, AsOfParameter, as_date
from tillage.features.engine import postgres_doubles, run_compiled
from tillage.features.sql_cache import MATERIALISED, compile_sql, literal_sql, put_in

__all__ = [
    "DatedQuery",
    "compiled_for",
    "compiled_once",
    "forget_compiled",
    "run_compiled",
    "same_schemas",
    "tables_read",
]


class DatedQuery:
    """``build(as_of)`` as SQL, compiled once for every as-of date.

    ``build`` makes the ibis expression of one date from an
    :class:`~tillage.features._common.AsOfParameter` (the feature families accept one wherever
    they take a date). :meth:`to_arrow` runs it for a date; :meth:`materialised` keeps the
    result of some dates as temporary tables of the engine.
    """

    def __init__(
        self,
        con: BaseBackend,
        build: Callable[[AsOfParameter], ir.Table],
        *,
        recipe: Hashable | None = None,
    ) -> None:
        self._con = con
        compiled = _kept(con, recipe)
        if compiled is None:
            compiled = _compile(con, build)
            _keep(con, recipe, compiled)
        self.expr = compiled.expr
        self._as_of = compiled.as_of
        self._sql = compiled.sql
        self._stand_ins = compiled.stand_ins
        con._run_pre_execute_hooks(self.expr)  # in-memory tables (ibis.memtable) reach the engine

    def sql(self, as_of: dt.date | str) -> str:
        """The SQL of the query as of ``as_of``: the stand-ins replaced by its literals."""
        values = self._as_of.bind(as_date(as_of))
        texts = {text: literal_sql(self._con, values[p]) for text, p in self._stand_ins.items()}
        return put_in(self._sql, texts)

    def _typed(self, sql: str) -> str:
        """``sql`` with every column cast to the type of the expression's schema: a table
        created from it reads back as the expression would (DuckDB sums integers to HUGEINT,
        which ibis casts back to int64 only when it runs the expression itself)."""
        con = self._con
        mapper = con.compiler.type_mapper
        columns = ", ".join(
            f"CAST({_quoted(con, name)} AS {mapper.from_ibis(dtype).sql(con.dialect)}) "
            f"AS {_quoted(con, name)}"
            for name, dtype in self.expr.schema().items()
        )
        return f"SELECT {columns} FROM ({sql}) AS {_quoted(con, 'dated')}"

    def to_arrow(self, as_of: dt.date | str) -> pa.Table:
        """The query's result as of ``as_of``, with the expression's Arrow types."""
        return run_compiled(self._con, self.expr, self.sql(as_of))

    @contextmanager
    def materialised(self, dates: list[dt.date]) -> Iterator[dict[dt.date, ir.Table]]:
        """The result of each of ``dates`` as a temporary table of the engine, valid inside the
        block (dropped after it)."""
        names: dict[dt.date, str] = {}
        try:
            for day_ in dates:
                names[day_] = f"{MATERIALISED}{day_:%Y%m%d}_{id(self):x}"
                sql = self.sql(day_)
                if self._con.name != "pyspark":  # Spark's sums of integers stay BIGINT
                    sql = self._typed(sql)
                _create_temporary(self._con, names[day_], sql)
            yield {day_: self._con.table(name) for day_, name in names.items()}
        finally:
            for name in names.values():
                _drop_temporary(self._con, name)


@dataclass(frozen=True)
class _Compiled:
    expr: ir.Table
    as_of: AsOfParameter
    sql: str
    stand_ins: dict[str, ir.Scalar]  # the SQL of each sentinel date → its parameter
    tables: tuple[tuple[str, Schema], ...]  # the store tables the query reads


def _compile(con: BaseBackend, build: Callable[[AsOfParameter], ir.Table]) -> _Compiled:
    as_of = AsOfParameter()
    built = build(as_of)  # first: building makes the parameters of the shifted dates
    sentinels = as_of.sentinels()
    expr, sql = compiled_for(con, built, params=sentinels)
    stand_ins = {literal_sql(con, value): param for param, value in sentinels.items()}
    for text in stand_ins:
        if text not in sql:  # pragma: no cover - ibis folding a parameter away
            raise DataValidationError(f"the compiled feature query lost the date {text}")
    return _Compiled(expr, as_of, sql, stand_ins, tables_read(expr))


def compiled_for(
    con: BaseBackend, expr: ir.Table, params: Mapping[Any, object] | None = None
) -> tuple[ir.Table, str]:
    """``expr`` as it runs on ``con`` (on PostgreSQL every floating column read as a double:
    :func:`~tillage.features.engine.postgres_doubles`) and its SQL there, with ``params``: what
    each query kept for the process is compiled by (its SQL read from the machine's compiled
    texts where any process compiled it before: :func:`~tillage.features.sql_cache.compile_sql`)."""
    if con.name == "postgres":
        expr = postgres_doubles(expr)
    return expr, compile_sql(con, expr, params=params)


def tables_read(expr: ir.Table) -> tuple[tuple[str, Schema], ...]:
    """The store tables ``expr`` reads, by name, with their schemas: besides the expression's
    own shape, what its SQL depends on (a query kept for the process is run again only where
    :func:`same_schemas` holds)."""
    found = {op.name: op.schema for op in expr.op().find(ops.DatabaseTable)}
    return tuple(sorted(found.items()))


def same_schemas(
    con: BaseBackend,
    tables: tuple[tuple[str, Schema], ...],
    renamed: Mapping[str, str] | None = None,
) -> bool:
    """Whether each of ``tables`` has its schema on ``con`` (``renamed``: the name a table has
    on ``con`` now, where it has another)."""
    renamed = renamed or {}
    return all(con.get_schema(renamed.get(name, name)) == schema for name, schema in tables)


_KEPT: dict[tuple[str, Hashable], _Compiled] = {}
"""Queries compiled by recipe (:class:`DatedQuery`'s ``recipe``), per engine, for the process."""
_KEPT_LOCK = threading.Lock()


def _kept(con: BaseBackend, recipe: Hashable | None) -> _Compiled | None:
    """The query kept for ``recipe`` on ``con``'s engine, if the tables it reads have the same
    schemas on ``con`` (the one thing besides the recipe its SQL depends on)."""
    if recipe is None:
        return None
    with _KEPT_LOCK:
        compiled = _KEPT.get((con.name, recipe))
    if compiled is None:
        return None
    return compiled if same_schemas(con, compiled.tables) else None


def _keep(con: BaseBackend, recipe: Hashable | None, compiled: _Compiled) -> None:
    """Keep ``compiled`` for ``recipe`` — without the backend it was built on (an unbound
    expression: a kept backend would keep its tables in memory), and not if it reads in-memory
    tables (their rows are the caller's, not the recipe's)."""
    if recipe is None or compiled.expr.op().find(ops.InMemoryTable):
        return
    unbound = dataclasses.replace(compiled, expr=compiled.expr.unbind())
    with _KEPT_LOCK:
        _KEPT[(con.name, recipe)] = unbound


def forget_compiled() -> None:
    """Forget the queries kept by recipe (the next :class:`DatedQuery` of each compiles anew)."""
    with _KEPT_LOCK:
        _KEPT.clear()


_COMPILED = "_tillage_compiled_queries"
"""The attribute of a backend that holds its :func:`compiled_once` queries (backends compare
equal by their database, so a table keyed by backend would mix two in-memory engines)."""


def compiled_once(con: BaseBackend, build: Callable[[BaseBackend, AsOf], ir.Table]) -> DatedQuery:
    """The :class:`DatedQuery` of ``build(con, as_of)``, compiled the first time it is asked for
    on ``con`` and kept as long as ``con`` lives: a scoring run holds one backend, so a query
    that several steps (or several dates) read compiles once per run."""
    queries: dict[Callable, DatedQuery] = con.__dict__.setdefault(_COMPILED, {})
    if build not in queries:
        queries[build] = DatedQuery(con, partial(build, con), recipe=build)
    return queries[build]


def _quoted(con: BaseBackend, name: str) -> str:
    return sg.to_identifier(name, quoted=True).sql(con.dialect)


def _create_temporary(con: BaseBackend, name: str, sql: str) -> None:
    if con.name == "pyspark":
        frame: Any = con._session.sql(sql).cache()
        frame.createOrReplaceTempView(name)
        return
    with con._safe_raw_sql(f'CREATE TEMPORARY TABLE "{name}" AS {sql}'):
        pass


def _drop_temporary(con: BaseBackend, name: str) -> None:
    if con.name == "pyspark":
        con._session.catalog.dropTempView(name)
        return
    with con._safe_raw_sql(f'DROP TABLE IF EXISTS "{name}"'):
        pass
