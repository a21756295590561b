"""SQL compiled once per machine: the text ibis compiles an expression to, kept on disk.

Compiling a feature query to SQL is the slow part of asking it: on the 300-account demo a
scoring run spends about 4 s of its 30 s in ibis's compiler (the weekly account features, 1,550
nodes, take 0.55 s to compile against 0.02 s to fingerprint), and every process compiles again
(each ``tillage`` command, each server, each re-scoring job). :func:`compile_sql` keeps the
compiled text in a folder, under a fingerprint of everything it depends on:

- the expression itself, node by node (:func:`fingerprint`): the class of each operation and
  every argument — names, literal values, data types, the schemas and names of the tables it
  reads. The rows of a table are not part of it: the SQL names the table, it never holds its
  rows (an in-memory table reaches the engine by its name, before the query runs). Tables
  named afresh in each process — in-memory tables (``ibis_pandas_memtable_…``, a random
  token) and the feature tables a run materialises (``tillage_features_…``) — are numbered in
  the order the expression first reads them instead, and a kept text is run with this call's
  names put in place of the names it was compiled with (whole names only: the SQL the same
  expression compiles to with the new names);
- the value bound to each parameter (``params``), the parameters numbered in the order the
  expression first reads them;
- the engine's compiler, and the versions of ibis and sqlglot.

Date and timestamp literals are the exception: their values are left out (each distinct one
numbered by first use, with its type), so the query of another as-of date — every nightly
scoring run asks its queries on a new date — reads the same text. The text is compiled once
with a stand-in date per number (1001-02-03, 1002-02-03 …, whose SQL appears nowhere else) and
kept with the stand-ins' SQL; a read puts in place of each stand-in the SQL this engine writes
for this call's date (:func:`literal_sql`, compiled once per process and value). A compiler
writes a literal the same way wherever it stands, so the result is the text the compiler would
write for the dates themselves (tests/features/test_sql_cache.py compares every query of a
scoring run); where a stand-in's SQL cannot be found in the text (a compiler folding it away),
the expression is compiled with its own dates and nothing is kept.

Two expressions that differ in any of these get different fingerprints, so a kept text is
the text the compiler would write. An argument whose value cannot be written out faithfully (a
Python function, an object without a value-based ``repr``), or a parameter left unbound, makes
the expression uncacheable: it is compiled as before. The folder is ``TILLAGE_SQL_CACHE`` (empty:
no folder, compile every time), by default the user's cache folder (``platformdirs``:
``~/.cache/tillage/sql`` on Linux). A text unused for :data:`KEEP_DAYS` days is removed, once
per process; a folder that cannot be written is only a miss.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import decimal
import enum
import hashlib
import json
import os
import re
import time
import uuid
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import ibis
import ibis.expr.operations as ops
import sqlglot
from ibis.backends import BaseBackend
from ibis.common.graph import Graph

from tillage.errors import DataValidationError

__all__ = [
    "CACHE_ENV",
    "KEEP_DAYS",
    "MATERIALISED",
    "Fingerprint",
    "cache_dir",
    "compile_sql",
    "fingerprint",
    "literal_sql",
    "put_in",
    "renamed",
]

CACHE_ENV = "TILLAGE_SQL_CACHE"
#: Days a compiled text is kept after it was last used.
KEEP_DAYS = 30
#: The prefix of the feature tables a run materialises (named afresh in each process).
MATERIALISED = "tillage_features_"

#: Values whose ``repr`` writes them out exactly (and names their type, with the prefix).
_PLAIN = (
    str,
    bytes,
    int,
    float,
    bool,
    type(None),
    dt.date,
    dt.datetime,
    dt.time,
    dt.timedelta,
    decimal.Decimal,
    uuid.UUID,
    enum.Enum,
)


class _Uncacheable(Exception):
    """An argument that cannot be written out faithfully."""


class Fingerprint(NamedTuple):
    """What an expression's compiled text depends on: ``digest`` (SHA-256, hex) of everything
    but the names in ``names`` (the tables named afresh per process, in the order numbered)
    and the values of the date and timestamp literals in ``dates`` (in the order numbered)."""

    digest: str
    names: tuple[str, ...]
    dates: tuple[ops.Literal, ...]


#: The SQL of a value written alone (``SELECT <value> AS v``).
_SELECT = re.compile(r"^\s*SELECT\s+(?P<value>.*?)\s+AS\s+\S+\s*$", re.DOTALL | re.IGNORECASE)
_LITERALS: dict[tuple[str, object, object], str] = {}


def literal_sql(con: BaseBackend, value: dt.date | dt.datetime, dtype: Any = None) -> str:
    """How ``con``'s compiler writes ``value`` (a date, or a timestamp) of type ``dtype``
    (default: date or timestamp as ``value`` is) in SQL; compiled once per process."""
    if dtype is None:
        dtype = "timestamp" if isinstance(value, dt.datetime) else "date"
    key = (con.name, value, str(dtype))
    if key not in _LITERALS:
        sql = str(con.compile(ibis.literal(value, type=dtype).name("v")))
        found = _SELECT.match(sql)
        if found is None:  # pragma: no cover - a compiler writing literals some other way
            raise DataValidationError(f"cannot find the literal {value!r} in {sql!r}")
        _LITERALS[key] = found["value"]
    return _LITERALS[key]


def _lifted(node: ops.Node) -> bool:
    """A date or timestamp literal, whose value the fingerprint leaves out."""
    return (
        isinstance(node, ops.Literal)
        and isinstance(node.value, dt.date)
        and (node.dtype.is_date() or node.dtype.is_timestamp())
    )


#: The most date literals given stand-ins (years 1001 … 9000); an expression with more is
#: compiled with its own dates.
_MOST_DATES = 8000


def _stand_in(number: int, literal: ops.Literal) -> dt.date:
    """The stand-in value of the ``number``-th date literal: a date no data holds."""
    day = dt.date(1001 + number, 2, 3)
    return dt.datetime(day.year, 2, 3, 4, 5, 6) if literal.dtype.is_timestamp() else day


def cache_dir() -> Path | None:
    """The folder of compiled texts (``TILLAGE_SQL_CACHE``; empty: none)."""
    value = os.environ.get(CACHE_ENV)
    if value is not None:
        return Path(value) if value else None
    import platformdirs

    return Path(platformdirs.user_cache_dir("tillage")) / "sql"


def fingerprint(expr: Any, params: Mapping[Any, object] | None = None) -> Fingerprint | None:
    """A SHA-256 of ``expr`` (its operations in dependency order, each with its class and every
    argument, date and timestamp literals without their values) and of the value bound to each
    of its parameters; the names of the tables named afresh per process that it reads and its
    date literals, each in the order numbered. ``None`` where an argument cannot be written out
    faithfully or a parameter is unbound."""
    bound = {_op(p): v for p, v in (params or {}).items()}
    order = list(Graph.from_bfs(expr.op()).toposort()[0])
    seen = _Seen({}, {}, {}, bound, {})
    digest = hashlib.sha256()
    try:
        for node in order:
            seen.number[node] = len(seen.number)
            digest.update(_node(node, seen).encode())
            digest.update(b"\n")
    except _Uncacheable:
        return None
    return Fingerprint(digest.hexdigest(), tuple(seen.renamed), tuple(seen.dates))


def compile_sql(con: BaseBackend, expr: Any, params: Mapping[Any, object] | None = None) -> str:
    """``str(con.compile(expr, params=params))``, read from the folder of compiled texts where
    the same expression was compiled for the same engine before (in any process)."""
    folder = cache_dir()
    found = fingerprint(expr, params) if folder is not None else None
    if folder is None or found is None:
        return str(con.compile(expr, params=params))
    key = hashlib.sha256(
        "\n".join(
            (
                found.digest,
                con.name,
                type(con.compiler).__qualname__,
                ibis.__version__,
                sqlglot.__version__,
            )
        ).encode()
    ).hexdigest()
    path = folder / key[:2] / f"{key}.sql.z"
    kept = _read(path)
    if kept is None or len(kept.names) != len(found.names) or len(kept.dates) != len(found.dates):
        kept = _compiled(con, expr, params, found)
        if kept is None:  # a stand-in date folded away: compiled with its own dates, not kept
            return str(con.compile(expr, params=params))
        _write(folder, path, kept)
    sql = renamed(kept.sql, dict(zip(kept.names, found.names, strict=True)))
    dates = (literal_sql(con, d.value, d.dtype) for d in found.dates)
    return put_in(sql, dict(zip(kept.dates, dates, strict=True)))


class _Kept(NamedTuple):
    """A kept text: the tables' names and the stand-in dates' SQL it was compiled with."""

    names: tuple[str, ...]
    dates: tuple[str, ...]
    sql: str


def _compiled(
    con: BaseBackend, expr: Any, params: Mapping[Any, object] | None, found: Fingerprint
) -> _Kept | None:
    """``expr`` compiled with a stand-in for each of its date literals (``None``: the SQL of a
    stand-in is missing from the text)."""
    if len(found.dates) > _MOST_DATES:
        return None
    stand_ins = {d: ops.Literal(_stand_in(i, d), d.dtype) for i, d in enumerate(found.dates)}
    if stand_ins:
        expr = expr.op().replace(stand_ins).to_expr()
    sql = str(con.compile(expr, params=params))
    dates = tuple(literal_sql(con, s.value, s.dtype) for s in stand_ins.values())
    if any(text not in sql for text in dates):
        return None
    return _Kept(found.names, dates, sql)


def put_in(sql: str, texts: Mapping[str, str]) -> str:
    """``sql`` with each text of ``texts`` replaced by its value, all at once (longest first:
    a new text is not replaced again): the SQL of stand-in dates given this call's dates (this
    folder's texts, :class:`~tillage.features.dated.DatedQuery`)."""
    return _replaced(sql, texts, whole_words=False)


def renamed(sql: str, names: Mapping[str, str]) -> str:
    """``sql`` with each whole name of ``names`` replaced by its value (at once: a new name
    that is also an old one is not replaced again): a kept query run on tables named afresh
    (this folder's texts, the KPI questions and held dates kept for the process)."""
    return _replaced(sql, names, whole_words=True)


def _replaced(sql: str, changes: Mapping[str, str], *, whole_words: bool) -> str:
    changed = {old: new for old, new in changes.items() if old != new}
    if not changed:
        return sql
    alternatives = "|".join(map(re.escape, sorted(changed, key=len, reverse=True)))
    pattern = re.compile(rf"\b(?:{alternatives})\b" if whole_words else alternatives)
    return pattern.sub(lambda m: changed[m.group(0)], sql)


@dataclass
class _Seen:
    """What :func:`fingerprint` has numbered so far."""

    number: dict[ops.Node, int]  # every operation, in dependency order
    parameters: dict[ops.Node, int]  # the parameters, by first use
    renamed: dict[str, int]  # the tables named afresh per process, by first use
    bound: Mapping[ops.Node, object]  # the value of each parameter
    dates: dict[ops.Literal, int]  # the date and timestamp literals, by first use


def _op(value: Any) -> ops.Node:
    return value.op() if hasattr(value, "op") else value


def _node(node: ops.Node, seen: _Seen) -> str:
    kind = f"{type(node).__module__}.{type(node).__qualname__}"
    if isinstance(node, ops.ScalarParameter):
        # numbered by first use, not by ibis's process-wide counter; written with its value
        if node not in seen.bound:
            raise _Uncacheable
        number = seen.parameters.setdefault(node, len(seen.parameters))
        value = _value(seen.bound[node], seen)
        return f"{kind}#{number}({_value(node.dtype, seen)}={value})"
    if _lifted(node):  # numbered by first use; its value is put in the kept text when read
        number = seen.dates.setdefault(node, len(seen.dates))  # type: ignore[arg-type]
        return f"{kind}#{number}({_value(node.dtype, seen)})"
    skip: tuple[str, ...] = ()
    if isinstance(node, ops.DatabaseTable):
        skip = ("source",)  # the backend object: the engine is part of the key
    if isinstance(node, ops.InMemoryTable):
        skip = ("data",)  # the SQL names the table; its rows reach the engine by that name
    if isinstance(node, ops.InMemoryTable) or (
        isinstance(node, ops.DatabaseTable) and node.name.startswith(MATERIALISED)
    ):
        number = seen.renamed.setdefault(node.name, len(seen.renamed))
        skip = (*skip, "name")
        kind = f"{kind}#{number}"
    args = (
        f"{name}={_value(arg, seen)}"
        for name, arg in zip(node.__argnames__, node.__args__, strict=True)
        if name not in skip
    )
    return f"{kind}({','.join(args)})"


def _value(value: Any, seen: _Seen) -> str:
    if isinstance(value, ops.Node):
        return f"@{seen.number[value]}"
    if isinstance(value, _PLAIN):
        return f"{type(value).__qualname__}:{value!r}"
    if isinstance(value, tuple | list):
        return "(" + ",".join(_value(v, seen) for v in value) + ")"
    if isinstance(value, frozenset | set):  # in a fixed order: sets iterate by hash
        return "{" + ",".join(sorted(_value(v, seen) for v in value)) + "}"
    if isinstance(value, Mapping):
        items = (f"{_value(k, seen)}:{_value(v, seen)}" for k, v in value.items())
        return "{" + ",".join(items) + "}"
    argnames = getattr(type(value), "__argnames__", None)
    if argnames is not None:  # ibis's own values (data types, schemas, namespaces …)
        args = ",".join(f"{n}={_value(getattr(value, n), seen)}" for n in argnames)
        return f"{type(value).__module__}.{type(value).__qualname__}({args})"
    raise _Uncacheable


def _read(path: Path) -> _Kept | None:
    """The text kept at ``path`` (``None``: none, or unreadable)."""
    try:
        kept = json.loads(zlib.decompress(path.read_bytes()))
        found = _Kept(
            tuple(map(str, kept["names"])), tuple(map(str, kept["dates"])), str(kept["sql"])
        )
    except (OSError, zlib.error, ValueError, KeyError, TypeError):
        return None
    with contextlib.suppress(OSError):
        os.utime(path)  # used now: kept another KEEP_DAYS
    return found


_PRUNED: set[Path] = set()


def _write(folder: Path, path: Path, kept: _Kept) -> None:
    """Write ``kept`` at ``path`` whole or not at all (a temporary file renamed into place)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        temporary = path.with_name(f"{path.name}.{os.getpid()}.{uuid.uuid4().hex}")
        temporary.write_bytes(zlib.compress(json.dumps(kept._asdict()).encode()))
        os.replace(temporary, path)
    except OSError:
        return
    if folder not in _PRUNED:
        _PRUNED.add(folder)
        _prune(folder)


def _prune(folder: Path) -> None:
    """Remove the texts unused for :data:`KEEP_DAYS` days."""
    limit = time.time() - KEEP_DAYS * 86_400
    for path in folder.glob("*/*.sql.z"):
        try:
            if path.stat().st_mtime < limit:
                path.unlink()
        except OSError:
            pass
