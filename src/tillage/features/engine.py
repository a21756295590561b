"""Connect an analytical engine (ibis) to the canonical store.

Feature expressions are written once in ibis and run on one of three engines:

``duckdb`` (the embedded default)
    An in-process DuckDB. DuckDB cannot read the SQLite store directly here (its ``sqlite``
    extension is downloaded at run time, which an offline machine cannot do), so the columns the
    features need are read into Arrow and copied into DuckDB tables with their canonical types.
    A SQLite store is read with the ADBC SQLite driver (``adbc-driver-sqlite``), which fills Arrow
    buffers in C, in rowid ranges by two threads. It runs in a child process: the driver brings
    its own SQLite library, which must not share a process with the store's connections (see
    :mod:`tillage.features._sqlite_reader`); the child hands the tables over as Arrow IPC files
    in a temporary directory, which the parent memory-maps (no copy). The cost, measured on the
    100,000-account demo store (18 million rows of the feature columns) on two busy cores: about
    7–10 s to read and load into DuckDB, of which the child takes 6–8 s (interpreter start,
    reading, writing the files) and DuckDB's inserts 1–2 s; the child peaks at about 1.2 GB.
    For comparison, ``sqlite3`` rows turned into Arrow in Python took 29 s for the 9.8 million
    order lines alone (10 s fetching, 19 s converting).
    A PostgreSQL store is read with the ADBC PostgreSQL driver (``adbc-driver-postgresql``:
    binary COPY into Arrow, in C; :mod:`tillage.features._postgres_reader`), three times
    faster than ibis's row fetch.
``postgres``
    The same expressions compiled to SQL and run inside the PostgreSQL store; nothing is copied.
``spark``
    Apache Spark through ibis's pyspark backend. The store's tables are read into Arrow as for
    DuckDB and handed to Spark with ``SparkSession.createDataFrame(arrow_table)`` (Arrow-based,
    no row-by-row Python), then registered as temporary views. That suits local mode and tests;
    on a cluster, register the canonical tables as views (Parquet, Delta, JDBC) and call
    :func:`spark_backend` with the session.

:func:`connect` keeps the older direct route (ibis on the SQLite or PostgreSQL store itself).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from functools import partial
from pathlib import Path
from typing import Any, Literal

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.operations as ops
import ibis.expr.types as ir
import pyarrow as pa
import pyarrow.ipc
from ibis.backends import BaseBackend
from sqlalchemy import make_url

from tillage.errors import ConfigurationError, StoreError
from tillage.features._postgres import refresh_statistics
from tillage.features.columns import (
    DEAL_COLUMNS,
    EVIDENCE_COLUMNS,
    FEATURE_COLUMNS,
    STORE_COLUMNS,
    VALUE_COLUMNS,
    canonical_schema,
)
from tillage.features.sql_cache import compile_sql

__all__ = [
    "DEAL_COLUMNS",
    "ENGINES",
    "EVIDENCE_COLUMNS",
    "FEATURE_COLUMNS",
    "STORE_COLUMNS",
    "VALUE_COLUMNS",
    "Engine",
    "canonical_schema",
    "connect",
    "default_engine",
    "duckdb_backend",
    "execute_arrow",
    "feature_backend",
    "postgres_doubles",
    "run_compiled",
    "spark_backend",
    "spark_builder",
    "spark_remote",
    "spark_session",
    "store_tables",
    "typed_arrow",
]

Engine = Literal["duckdb", "postgres", "spark"]
ENGINES: tuple[str, ...] = ("duckdb", "postgres", "spark")


def default_engine(database_url: str) -> Engine:
    """The feature engine of a scoring run on the store at ``database_url``: the embedded DuckDB
    for every store, PostgreSQL included (its columns copied out with the ADBC driver).

    Inside PostgreSQL the same queries were far slower at scale: on the 100,000-account demo the
    values step took 811 s (130 s embedded) and the deal history's query (six month ends, each
    the whole account-feature query joined to the open deals) did not finish in 12 minutes; the
    row-by-row plans of the windowed RFM and activity joins are what a column engine does in
    seconds. ``--engine postgres`` still runs them in the database (nothing copied, for a store
    whose columns do not fit in this process's memory)."""
    del database_url  # the same engine for every store
    return "duckdb"


def connect(database_url: str) -> BaseBackend:
    """An ibis backend reading the store at ``database_url`` (SQLite file or PostgreSQL)."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        if not url.database:
            raise ConfigurationError("the SQLite store needs a file path, not an in-memory URL")
        return ibis.sqlite.connect(url.database)
    if url.get_backend_name() == "postgresql":
        return _postgres(database_url)
    raise ConfigurationError(
        f"unsupported database {url.get_backend_name()!r}: use a SQLite file or PostgreSQL"
    )


def _postgres(database_url: str) -> BaseBackend:
    url = make_url(database_url)
    return ibis.postgres.connect(
        host=url.host or "localhost",
        port=url.port or 5432,
        user=url.username,
        password=url.password,
        database=url.database,
    )


@contextmanager
def store_tables(
    database_url: str, tables: Mapping[str, Iterable[str]] | None = None
) -> Iterator[dict[str, pa.Table]]:
    """The store's ``tables`` (default: :data:`STORE_COLUMNS`) as Arrow tables, valid inside
    the ``with`` block (from a SQLite store they are memory-mapped files of a temporary
    directory, removed after it). They keep the store's physical types: SQLite's text dates and
    0/1 booleans are converted when they are loaded into an engine."""
    wanted = {k: tuple(v) for k, v in (tables or STORE_COLUMNS).items()}
    url = make_url(database_url)
    backend = url.get_backend_name()
    if backend == "sqlite":
        if not url.database:
            raise ConfigurationError("the SQLite store needs a file path, not an in-memory URL")
        if not os.path.exists(url.database):
            raise StoreError(f"the store {url.database} does not exist; run `tillage db init`")
        with _read_sqlite(url.database, wanted) as arrow:
            yield arrow
    elif backend == "postgresql":
        from tillage.features._postgres_reader import read_postgres

        yield read_postgres(database_url, wanted)
    else:
        raise ConfigurationError(
            f"unsupported database {backend!r}: use a SQLite file or PostgreSQL"
        )


def _sqlite_select(name: str, cols: tuple[str, ...]) -> str:
    # The driver infers column types from the first rows it sees, so every column is cast to
    # its declared storage class (text dates are parsed later by DuckDB or Arrow).
    exprs = []
    for field in canonical_schema(name, cols):
        col = f'"{field.name}"'
        if pa.types.is_floating(field.type):
            exprs.append(f"CAST({col} AS REAL) AS {col}")
        elif pa.types.is_integer(field.type) or pa.types.is_boolean(field.type):
            exprs.append(f"CAST({col} AS INTEGER) AS {col}")
        else:
            exprs.append(f"CAST({col} AS TEXT) AS {col}")
    return f"SELECT {', '.join(exprs)} FROM {name}"


@contextmanager
def _read_sqlite(path: str, wanted: Mapping[str, tuple[str, ...]]) -> Iterator[dict[str, pa.Table]]:
    """Run :mod:`tillage.features._sqlite_reader` in a child process; map its Arrow files."""
    queries = {name: _sqlite_select(name, cols) for name, cols in wanted.items()}
    with tempfile.TemporaryDirectory(prefix="tillage-read-") as tmp:
        spec = json.dumps({"path": os.path.abspath(path), "queries": queries, "out": tmp})
        reader = Path(__file__).with_name("_sqlite_reader.py")
        done = subprocess.run(
            [sys.executable, str(reader), spec], capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            detail = done.stderr.strip().splitlines()[-1:] or ["no message"]
            raise StoreError(f"cannot read the store {path}: {detail[0]}")
        with ExitStack() as files:
            out = {}
            for name in wanted:
                source = files.enter_context(pa.memory_map(os.path.join(tmp, f"{name}.arrow")))
                out[name] = pa.ipc.open_file(source).read_all()
            yield out
            out.clear()


def _typed_select(name: str, table: pa.Table) -> str:
    parts = []
    for field in canonical_schema(name, table.column_names):
        src = table.schema.field(field.name).type
        col = f'"{field.name}"'
        if pa.types.is_boolean(field.type) and pa.types.is_integer(src):
            parts.append(f"({col} <> 0) AS {col}")
        else:
            parts.append(f"CAST({col} AS {_duck_type(field)}) AS {col}")
    return ", ".join(parts)


def _duck_type(field: pa.Field) -> str:
    return {
        pa.int64(): "BIGINT",
        pa.float64(): "DOUBLE",
        pa.date32(): "DATE",
        pa.timestamp("us"): "TIMESTAMP",
        pa.bool_(): "BOOLEAN",
        pa.string(): "VARCHAR",
    }[field.type]


def _duck_create(raw: Any, name: str, cols: Iterable[str]) -> None:
    columns = ", ".join(f'"{f.name}" {_duck_type(f)}' for f in canonical_schema(name, cols))
    raw.execute(f"CREATE TABLE {name} ({columns})")


def _duck_insert(raw: Any, name: str, part: pa.Table) -> None:
    view = f"_arrow_{name}"
    raw.register(view, part)
    raw.execute(f"INSERT INTO {name} SELECT {_typed_select(name, part)} FROM {view}")
    raw.unregister(view)


def duckdb_backend(tables: Mapping[str, pa.Table], *, threads: int | None = None) -> BaseBackend:
    """An in-process DuckDB holding ``tables`` as native tables with canonical types."""
    con = ibis.duckdb.connect(threads=threads) if threads else ibis.duckdb.connect()
    for name, table in tables.items():
        _duck_create(con.con, name, table.column_names)
        _duck_insert(con.con, name, table)
    return con


def typed_arrow(name: str, table: pa.Table) -> pa.Table:
    """``table`` cast to the canonical Arrow types (text dates parsed, 0/1 booleans)."""
    schema = canonical_schema(name, table.column_names)
    columns = []
    for field in schema:
        column = table.column(field.name)
        if column.null_count == len(column):
            # an empty or all-null column read back without a type of its own (e.g. SQLite)
            column = pa.chunked_array([pa.nulls(len(column), field.type)])
        elif pa.types.is_boolean(field.type) and pa.types.is_integer(column.type):
            import pyarrow.compute as pc

            column = pc.not_equal(column, 0)
        elif pa.types.is_date32(field.type) and pa.types.is_string(column.type):
            column = column.cast(pa.timestamp("us")).cast(pa.date32())
        elif not column.type.equals(field.type):
            column = column.cast(field.type)
        columns.append(column)
    return pa.Table.from_arrays(columns, schema=schema)


#: Spark settings: quiet, UTC so naive timestamps stay as stored, Arrow transfers.
SPARK_CONF: dict[str, str] = {
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    "spark.sql.ansi.enabled": "false",
    "spark.driver.memory": "3g",
}

#: Settings of local mode only (a cluster keeps its own): the data of one machine are small
#: for Spark, and a feature query is a plan of dozens of joins and aggregates, so a query's time
#: goes into planning and per-stage overhead rather than into the data. One shuffle partition
#: per core (Spark's default of 200 was 4 here before), no adaptive re-planning of every stage,
#: and no whole-stage code generation (compiling the generated Java of each stage costs more
#: than it saves on thousands of rows): the 200-account demo's feature query took 19.8–25.7 s
#: instead of 28.8–35.1 s, run alternately in one session at load 18
#: (``benchmarks/engines.py`` has the whole run). Expressions are evaluated by Spark's
#: interpreter instead of Java generated and compiled (Janino) for each projection and filter
#: of each query (``spark.sql.codegen.factoryMode``, a setting Spark documents for its own
#: tests; a Spark without it ignores it): the 100-account demo's scoring run on Spark took
#: 37.4 instead of 50.7 s, its JVM 44.5 instead of 63.0 s of CPU (2 cores, one after the
#: other, the compiled SQL kept).
SPARK_LOCAL_CONF: dict[str, str] = {
    "spark.sql.shuffle.partitions": "2",
    "spark.sql.adaptive.enabled": "false",
    "spark.sql.codegen.wholeStage": "false",
    "spark.sql.codegen.factoryMode": "NO_CODEGEN",
}


#: The environment variable naming a Spark Connect server (PySpark's own): ``sc://host:15002``.
SPARK_REMOTE_ENV = "SPARK_REMOTE"


def spark_session(conf: Mapping[str, str] | None = None, *, remote: str | None = None) -> Any:
    """A SparkSession, created once per process and then reused: on a cluster through Spark
    Connect when ``remote`` (or the ``SPARK_REMOTE`` environment variable) names a server such
    as ``sc://spark.example.com:15002``, else in local mode on this machine.

    Over Spark Connect only the ``spark.sql.*`` settings of :data:`SPARK_CONF` and ``conf`` are
    sent (the others are the driver's own, set on the server); the client needs PySpark's
    Connect dependencies (``pip install 'pyspark[connect]'``).
    """
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise ConfigurationError(
            "the spark engine needs PySpark: pip install 'tillage[spark]' (and a Java runtime)"
        ) from exc
    builder = spark_builder(SparkSession.builder, conf, remote=remote)
    session = builder.getOrCreate()
    if not spark_remote(remote):
        session.sparkContext.setLogLevel("ERROR")
    return session


def spark_remote(remote: str | None = None) -> str | None:
    """The Spark Connect URL in force: ``remote``, else ``$SPARK_REMOTE``, else None (local)."""
    return remote or os.environ.get(SPARK_REMOTE_ENV) or None


def spark_builder(
    builder: Any, conf: Mapping[str, str] | None = None, *, remote: str | None = None
) -> Any:
    """``builder`` (``SparkSession.builder``) set up for tillage: :data:`SPARK_CONF` and
    ``conf``, in local mode (``local[2]``, with :data:`SPARK_LOCAL_CONF`) or against the Spark
    Connect server ``remote``."""
    url = spark_remote(remote)
    if url is not None:
        builder = builder.remote(url).appName("tillage-features")
        settings = {**SPARK_CONF, **(conf or {})}
        settings = {k: v for k, v in settings.items() if k.startswith("spark.sql.")}
    else:
        builder = builder.master("local[2]").appName("tillage-features")
        settings = {**SPARK_CONF, **SPARK_LOCAL_CONF, **(conf or {})}
    for key, value in settings.items():
        builder = builder.config(key, value)
    return builder


def spark_backend(tables: Mapping[str, pa.Table], session: Any | None = None) -> BaseBackend:
    """ibis's pyspark backend over ``tables`` registered as temporary views in ``session``."""
    session = session or spark_session()
    for name, table in tables.items():
        frame = session.createDataFrame(typed_arrow(name, table))
        frame.createOrReplaceTempView(name)
    return ibis.pyspark.connect(session)


def postgres_doubles(expr: ir.Table) -> ir.Table:
    """``expr`` with every floating-point and decimal column cast to DOUBLE PRECISION in SQL.

    PostgreSQL types a bare float literal such as ``1.0`` (what ``ibis.ifelse(c, 1.0, 0.0)`` or
    ``fill_null(0.0)`` compile to) as NUMERIC, and returns NUMERIC values (the store's amounts
    too) as ``Decimal``: ibis then fails to put them into the float64 column it expects, and a
    decimal column becomes Python objects in pandas. Casting in the query makes the server send
    doubles, so a PostgreSQL store reads back the same types as the DuckDB route (amounts as
    float64). ``Value.cast`` skips a cast to the type ibis already believes a column has, so
    the Cast operation is built directly.
    """
    columns = {}
    for name, dtype in expr.schema().items():
        column = expr[name]
        if dtype.is_floating() or dtype.is_decimal():
            column = ops.Cast(column.op(), to=dt.float64).to_expr()
        columns[name] = column
    return expr.select(**columns)


def execute_arrow(con: BaseBackend, expr: Any) -> pa.Table:
    """Run ``expr`` on ``con`` and return an Arrow table (an Arrow scalar for a scalar ``expr``).

    On DuckDB and Spark the SQL is read from the machine's compiled texts where any process
    compiled the same expression before (:func:`~tillage.features.sql_cache.compile_sql`).
    On Spark the expression is compiled by ibis and collected with ``DataFrame.toArrow()``:
    ibis's own ``to_pyarrow`` goes through ``toPandas``, which warns under pandas 3. On
    PostgreSQL every floating and decimal column is read as a double (:func:`postgres_doubles`).
    """
    if con.name == "pyspark":
        con._run_pre_execute_hooks(expr)  # in-memory tables (ibis.memtable) become temp views
        result = con._session.sql(compile_sql(con, expr)).toArrow()
        # a scalar expression answers a scalar, as ``to_pyarrow`` does on the other engines
        return result.column(0)[0] if isinstance(expr, ir.Scalar) else result
    if con.name == "duckdb":  # ibis's DuckDB ``to_pyarrow``, with the SQL compiled once
        con._run_pre_execute_hooks(expr)
        table = expr.as_table()
        if table.schema().geospatial:  # pragma: no cover - no feature is spatial
            con._load_extensions(["spatial"])
        return run_compiled(con, expr, compile_sql(con, table))
    if con.name == "postgres" and isinstance(expr, ir.Table):
        expr = postgres_doubles(expr)
    return expr.to_pyarrow()


def run_compiled(con: BaseBackend, expr: ir.Table, sql: str) -> pa.Table:
    """Run ``sql`` (compiled from ``expr``) on ``con``; Arrow with ``expr``'s types, as
    :func:`execute_arrow` of ``expr`` returns them. ``expr``'s
    in-memory tables must have reached ``con`` (``con._run_pre_execute_hooks(expr)``)."""
    if con.name == "pyspark":
        return con._session.sql(sql).toArrow()
    if con.name == "duckdb":
        from ibis.backends.duckdb.converter import DuckDBPyArrowData

        table = con.con.sql(sql).to_arrow_table()
        return expr.__pyarrow_result__(table, data_mapper=DuckDBPyArrowData)
    schema = expr.schema()
    with con._safe_raw_sql(sql) as cursor:  # PostgreSQL (and any DB-API backend)
        rows = cursor.fetchall()
    struct = pa.array([tuple(r) for r in rows], type=schema.as_struct().to_pyarrow())
    return expr.__pyarrow_result__(pa.Table.from_struct_array(struct))


@contextmanager
def feature_backend(
    database_url: str,
    engine: Engine = "duckdb",
    *,
    spark: Any | None = None,
    tables: Mapping[str, Iterable[str]] | None = None,
) -> Iterator[BaseBackend]:
    """An ibis backend on which the canonical tables can be read with ``con.table(name)``.

    ``tables`` chooses the tables and columns copied into DuckDB or Spark (default
    :data:`STORE_COLUMNS`; :data:`VALUE_COLUMNS` for the account-value models)."""
    if engine not in ENGINES:
        raise ConfigurationError(f"unknown engine {engine!r}: choose one of {', '.join(ENGINES)}")
    if engine == "postgres":
        if make_url(database_url).get_backend_name() != "postgresql":
            raise ConfigurationError(
                "the postgres engine runs inside a PostgreSQL store; this store is "
                f"{make_url(database_url).get_backend_name()}: use --engine duckdb"
            )
        con = _postgres(database_url)
        refresh_statistics(con, (tables or STORE_COLUMNS).keys())
    else:
        with store_tables(database_url, tables) as arrow:
            load = duckdb_backend if engine == "duckdb" else partial(spark_backend, session=spark)
            con = load(arrow)
    try:
        yield con
    finally:
        if engine != "spark":  # the Spark session is shared; its temp views are replaced
            con.disconnect()
