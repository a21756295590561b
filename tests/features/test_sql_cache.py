"""SQL compiled once per machine (features/sql_cache.py): a kept text is the text the compiler
writes for the expression at hand, and any change to the expression, its parameters' values
or the engine is a different text."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import ibis
import pandas as pd
import pytest

from tillage.features import sql_cache
from tillage.features._common import AsOfParameter
from tillage.features.build import features_expr
from tillage.features.engine import execute_arrow, feature_backend, postgres_doubles
from tillage.features.sql_cache import CACHE_ENV, KEEP_DAYS, compile_sql, fingerprint

from ..compiles import Compiles
from .handmade import AS_OF, tables

SRC = Path(sql_cache.__file__).resolve().parents[2]

#: Run in a fresh interpreter: the fingerprints of the weekly features as of a parameter bound
#: to its stand-in dates, and of the orders without four columns (a set of names).
_CHILD = """
import json, sys
from tillage.features._common import AsOfParameter
from tillage.features.build import features_expr
from tillage.features.engine import feature_backend
from tillage.features.sql_cache import fingerprint

import ibis
earlier = [ibis.param("date") for _ in range(int(sys.argv[2]))]  # ibis counts its parameters
with feature_backend(sys.argv[1], "duckdb") as con:
    as_of = AsOfParameter()
    expr = features_expr(con, as_of, horizon_days=90)
    dropped = con.table("orders").drop("margin", "amount", "order_number", "order_date")
    print(json.dumps([fingerprint(expr, as_of.sentinels())[0], fingerprint(dropped)[0]]))
"""


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder of compiled texts of this test's own."""
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "sql"))
    monkeypatch.setattr(sql_cache, "_PRUNED", set())
    return tmp_path / "sql"


def test_another_process_writes_the_same_fingerprint(store_factory) -> None:  # type: ignore[no-untyped-def]
    # ibis numbers its parameters and Python salts its string hashes per process: neither may
    # reach the fingerprint, or no process would ever read another's text
    url = store_factory("sqlite", tables())
    printed = [
        subprocess.run(
            [sys.executable, "-c", _CHILD, url, earlier],
            env={**os.environ, "PYTHONPATH": str(SRC), "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed, earlier in (("1", "0"), ("2", "3"))
    ]
    assert json.loads(printed[0]) == json.loads(printed[1])
    assert [len(digest) for digest in json.loads(printed[0])] == [64, 64]


def test_a_kept_text_is_read_instead_of_compiled_and_equals_the_compiled_one(
    store_factory, folder: Path
) -> None:  # type: ignore[no-untyped-def]
    url = store_factory("sqlite", tables())
    texts = []
    for _ in range(2):  # two backends, as two processes have: the expression built anew
        with feature_backend(url, "duckdb") as con:
            compiles = Compiles(con)
            as_of = AsOfParameter()
            expr = features_expr(con, as_of, horizon_days=90)
            texts.append((compile_sql(con, expr, as_of.sentinels()), len(compiles.sql)))
            if len(texts) == 2:  # what the second backend's compiler writes
                fresh = str(con.compile(expr, params=as_of.sentinels()))
    (first, compiled_first), (second, compiled_second) = texts
    assert compiled_first == 1 and compiled_second == 0
    assert first == second == fresh
    assert len(list(folder.glob("*/*.sql.z"))) == 1


def test_whatever_changes_the_sql_changes_the_fingerprint(store_factory) -> None:  # type: ignore[no-untyped-def]
    url = store_factory("sqlite", tables())
    with feature_backend(url, "duckdb") as con:
        base = features_expr(con, AS_OF, horizon_days=90)
        as_of = AsOfParameter()
        dated = features_expr(con, as_of, horizon_days=90)
        stand_ins = as_of.sentinels()
        later = {p: v + dt.timedelta(days=1) for p, v in stand_ins.items()}
        orders = con.table("orders")
        variants = {
            "base": base,
            "a literal": orders.filter(orders.amount > 1.0),
            "another literal": orders.filter(orders.amount > 1.5),
            "a type": orders.filter(orders.amount.cast("float32") > 1.0),
            "another column": orders.filter(orders.account_id > 1),
            "a date column": orders.filter(orders.order_date > AS_OF),
            "a timestamp": orders.filter(
                orders.order_date.cast("timestamp") > dt.datetime(2026, 1, 1)
            ),
        }
        found = {name: fingerprint(expr) for name, expr in variants.items()}
        assert None not in found.values()
        assert len({f.digest for f in found.values()}) == len(found)  # type: ignore[union-attr]
        assert fingerprint(base) == fingerprint(features_expr(con, AS_OF, horizon_days=90))
        # another date (or a horizon, which only moves dates) keeps the digest: only the values
        # of the date literals differ, in the same order
        earlier = fingerprint(features_expr(con, AS_OF - dt.timedelta(days=1), horizon_days=90))
        longer = fingerprint(features_expr(con, AS_OF, horizon_days=120))
        assert found["base"] is not None and earlier is not None and longer is not None
        assert found["base"].digest == earlier.digest == longer.digest
        days = [d.value for d in found["base"].dates]
        assert [d.value for d in earlier.dates] == [v - dt.timedelta(days=1) for v in days]
        assert [d.value for d in longer.dates] != days
        # the parameters' values are part of it; an unbound parameter makes it uncacheable
        bound, moved = fingerprint(dated, stand_ins), fingerprint(dated, later)
        assert bound is not None and moved is not None and bound[0] != moved[0]
        assert fingerprint(dated) is None
    # another schema, or another name, of the table read
    orders = ibis.table({"account_id": "int64", "amount": "float64"}, name="orders")
    as_ints = ibis.table({"account_id": "int64", "amount": "int64"}, name="orders")
    renamed = ibis.table({"account_id": "int64", "amount": "float64"}, name="order_lines")
    assert len({fingerprint(t.filter(t.amount > 1)) for t in (orders, as_ints, renamed)}) == 3


def test_in_memory_tables_run_the_kept_text_under_their_own_names(
    store_factory, folder: Path
) -> None:  # type: ignore[no-untyped-def]
    url = store_factory("sqlite", tables())
    frames = [pd.DataFrame({"account_id": [1, 2], "ltv": [10.0 * k, 20.0 * k]}) for k in (1, 2)]
    with feature_backend(url, "duckdb") as con:
        results = []
        for frame in frames:
            ltv = ibis.memtable(frame)
            orders = con.table("orders")
            expr = orders.join(ltv, "account_id").group_by("account_id").agg(v=ltv.ltv.max())
            compiles = Compiles(con)
            sql = compile_sql(con, expr)
            assert ltv.op().name in sql  # this call's table, by its own name
            assert sql == str(con.compile(expr))
            results.append((len(compiles.sql), execute_arrow(con, expr.order_by("account_id"))))
    assert results[0][0] == 2 and results[1][0] == 1  # the second read the first one's text
    assert results[1][1].column("v").to_pylist() == [
        2 * v for v in results[0][1].column("v").to_pylist()
    ]


def _per_account(con):  # type: ignore[no-untyped-def]
    """A small query of dates, sums and counts (cheaper to build than the features)."""
    orders = con.table("orders")
    return orders.group_by("account_id").agg(
        first=orders.order_date.min(),
        amount=orders.amount.sum(),
        lines=orders.count(),
        share=(orders.margin / orders.amount).mean(),
    )


def test_duckdb_answers_as_ibis_does_and_each_engine_keeps_its_own_text(
    store_factory, folder: Path
) -> None:  # type: ignore[no-untyped-def]
    url = store_factory("sqlite", tables())
    with feature_backend(url, "duckdb") as con:
        expr = _per_account(con).order_by("account_id")
        assert execute_arrow(con, expr).equals(expr.to_pyarrow())
        compiles = Compiles(con)
        assert execute_arrow(con, expr).equals(expr.to_pyarrow())
        assert len(compiles.sql) == 1  # ibis's own to_pyarrow; execute_arrow read the folder
        total = con.table("orders").amount.sum()
        assert execute_arrow(con, total).equals(total.to_pyarrow())  # a scalar
        duckdb_sql = compile_sql(con, _per_account(con))
    postgres = store_factory("postgres", tables())
    with feature_backend(postgres, "postgres") as con:
        expr = postgres_doubles(_per_account(con))
        assert compile_sql(con, expr) == str(con.compile(expr)) != duckdb_sql


def test_an_uncacheable_expression_or_an_unwritable_folder_is_only_compiled(
    store_factory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    url = store_factory("sqlite", tables())
    with feature_backend(url, "duckdb") as con:
        raw = con.sql("SELECT 1 AS one")  # holds its backend: nothing to write it out with
        assert fingerprint(raw) is None
        assert compile_sql(con, raw) == str(con.compile(raw))
        blocked = tmp_path / "a file"
        blocked.write_text("not a folder")
        monkeypatch.setenv(CACHE_ENV, str(blocked / "sql"))
        expr = _per_account(con)
        assert compile_sql(con, expr) == str(con.compile(expr))
        monkeypatch.setenv(CACHE_ENV, "")
        assert sql_cache.cache_dir() is None
        assert compile_sql(con, expr) == str(con.compile(expr))


def test_texts_unused_for_the_keeping_time_are_removed_once_per_process(
    store_factory, folder: Path
) -> None:  # type: ignore[no-untyped-def]
    url = store_factory("sqlite", tables())
    with feature_backend(url, "duckdb") as con:
        orders = con.table("orders")
        compile_sql(con, orders.filter(orders.amount > 1.0))
        old = next(folder.glob("*/*.sql.z"))
        stale = time.time() - (KEEP_DAYS + 1) * 86_400
        os.utime(old, (stale, stale))
        compile_sql(con, orders.filter(orders.amount > 2.0))  # pruned already this process
        assert old.exists()
        sql_cache._PRUNED.clear()  # as in a new process
        compile_sql(con, orders.filter(orders.amount > 3.0))
        assert not old.exists()
        assert len(list(folder.glob("*/*.sql.z"))) == 2
        for path in folder.glob("*/*.sql.z"):
            os.utime(path, (stale, stale))
        for limit in (2.0, 3.0):  # read: used now, kept again
            compile_sql(con, orders.filter(orders.amount > limit))
        assert {p.stat().st_mtime > stale for p in folder.glob("*/*.sql.z")} == {True}


def test_every_query_of_scoring_runs_on_two_dates_is_the_text_a_fresh_compile_writes(
    tmp_path: Path, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every query of a scoring run reads its SQL through :func:`compile_sql` (the feature
    families through ``execute_arrow``, the dated recipes, held dates and KPI questions through
    ``compiled_for``): run on one date (filling the folder) and on another, each text it
    returns — compiled with stand-in dates, or read and given this call's dates — equals what
    ibis compiles for the expression as it is. The second run compiles a few of them."""
    from collections import OrderedDict

    from tillage.features import dated, engine, held
    from tillage.kpi import compiled as kpi_compiled
    from tillage.services.scoring import run_scoring

    from ..scored_demo import load_demo

    calls: list[tuple[bool, str]] = []

    def checked(con, expr, params=None):  # type: ignore[no-untyped-def]
        before = len(compiles)
        sql = compile_sql(con, expr, params)
        calls.append((len(compiles) > before, con.name))

        assert sql == str(con.compile(expr, params=params))
        del compiles[before:]  # the check's own compile
        return sql

    compiles: list[str] = []
    original = sql_cache.ibis.backends.sql.SQLBackend.compile

    def counted(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        compiles.append("")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(sql_cache.ibis.backends.sql.SQLBackend, "compile", counted)
    # nothing kept in this process by an earlier test: every query goes through the folder
    monkeypatch.setattr(dated, "_KEPT", {})
    monkeypatch.setattr(held, "_HELD", {})
    monkeypatch.setattr(kpi_compiled, "_KEPT", OrderedDict())
    monkeypatch.setattr(engine, "compile_sql", checked)
    monkeypatch.setattr(dated, "compile_sql", checked)
    company, store, _ = load_demo(tmp_path / "t.db", 60, 17, 6)
    runs = {}
    for days in (0, 35):
        calls.clear()
        as_of = company.config.as_of - dt.timedelta(days=days)
        run_scoring(store, as_of, created_at=dt.datetime(2026, 10, 1, 6, 0))
        runs[days] = list(calls)
    store.dispose()
    first, second = runs[0], runs[35]
    assert len(first) > 30 and len(second) > 30
    filled, read = (sum(compiled for compiled, _ in run) for run in (first, second))
    assert filled > 25  # the folder was empty
    # the other date reads what the first run kept (the backtests' folds, whose windows the
    # date moves, are other expressions)
    assert read * 4 <= filled, (filled, read)
