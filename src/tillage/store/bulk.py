"""Fast bulk insertion of pandas frames into canonical tables, inside the caller's transaction.

Why not ``DataFrame.to_sql`` or ORM ``add_all``: both build one Python object (or parameter
dict) per row and reach about 20–50 thousand rows/s; the demo and real billing exports have
millions of order lines. Here SQLite gets one ``executemany`` of plain tuples (the C loop of the
sqlite3 module) and PostgreSQL gets ``COPY … FROM STDIN`` fed by pandas' CSV writer. Both run on
the SQLAlchemy connection the caller opened, so the insert is part of the caller's transaction
and is rolled back with it.

Amounts (``Money``, NUMERIC(18, 2)) are rounded to the column's scale here, on every dialect:
PostgreSQL rounds them on the way in, SQLite would keep the float as computed, so the same
data (an FX-converted order line, a snapshot's LTV) read back 0.005 apart — 100 % of a value
under one cent — and the two stores scored and reported differently. Rounded first, both hold
the double nearest to the same number of cents.
"""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Float, Numeric, Table, text

from tillage.errors import StoreError
from tillage.store.schema import Base

_SQLITE_DATETIME = "%Y-%m-%d %H:%M:%S.%f"  # SQLAlchemy's storage format for DateTime on SQLite
_SQLITE_DATE = "%Y-%m-%d"


def _sqlite_column(series: pd.Series, sql_type: str) -> list[object]:
    """Python values as SQLAlchemy's SQLite dialect stores them (ISO text dates, 0/1 booleans)."""
    if sql_type in {"DATE", "DATETIME"}:
        values = pd.to_datetime(series)
        fmt = _SQLITE_DATE if sql_type == "DATE" else _SQLITE_DATETIME
        text_values = values.dt.strftime(fmt)
        return text_values.astype(object).where(values.notna(), None).tolist()
    if sql_type == "BOOLEAN":
        return series.astype("Int64").astype(object).where(series.notna(), None).tolist()
    if pd.api.types.is_float_dtype(series.dtype):
        array = series.to_numpy(dtype=float)
        out = array.astype(object)
        out[np.isnan(array)] = None
        return out.tolist()
    return series.astype(object).where(series.notna(), None).tolist()


def _sa_table(table: str) -> Table:
    try:
        return Base.metadata.tables[table]
    except KeyError as exc:
        raise StoreError(f"unknown table {table!r}") from exc


def _column_types(table: str) -> dict[str, str]:
    return {col.name: col.type.__class__.__name__.upper() for col in _sa_table(table).columns}


def _decimal_scales(table: str) -> dict[str, int]:
    """The fixed-point columns of ``table`` and their scales (the ``Money`` columns: 2)."""
    return {
        col.name: col.type.scale
        for col in _sa_table(table).columns
        if isinstance(col.type, Numeric) and not isinstance(col.type, Float)
        if col.type.scale is not None
    }


def round_decimals(table: str, frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with its fixed-point columns rounded to their scales as PostgreSQL stores
    them (``numpy.round``: the double nearest to a whole number of cents; null stays null)."""
    scales = {c: s for c, s in _decimal_scales(table).items() if c in frame.columns}
    if not scales:
        return frame
    frame = frame.copy()
    for name, scale in scales.items():
        frame[name] = np.round(pd.to_numeric(frame[name]).astype(float), scale)
    return frame


def insert_frame(
    connection: Connection, table: str, frame: pd.DataFrame, *, into: str | None = None
) -> int:
    """Insert every row of ``frame`` into ``table``; columns must be columns of that table.

    ``into`` names another table with the same columns to write to instead (a temporary staging
    table for set-based updates); values are converted as for ``table``. Returns the number of
    rows inserted. Runs in the connection's current transaction.
    """
    if frame.empty:
        return 0
    types = _column_types(table)
    unknown = [c for c in frame.columns if c not in types]
    if unknown:
        raise StoreError(f"table {table!r} has no columns {unknown}")
    frame = round_decimals(table, frame)
    columns = list(frame.columns)
    target = into or table
    dialect = connection.dialect.name
    if dialect == "sqlite":
        data = [_sqlite_column(frame[c], types[c]) for c in columns]
        rows = list(zip(*data, strict=True))
        placeholders = ", ".join("?" for _ in columns)
        sql = f"INSERT INTO {target} ({', '.join(columns)}) VALUES ({placeholders})"
        connection.exec_driver_sql("SELECT 1")  # make sure the transaction is begun
        cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
        cursor.executemany(sql, rows)
        cursor.close()
    elif dialect == "postgresql":
        buffer = io.StringIO()
        out = frame.copy()
        for c in columns:
            if types[c] == "BOOLEAN":
                out[c] = out[c].map({True: "t", False: "f"})
            elif types[c] == "INTEGER":
                out[c] = out[c].astype("Int64")
        out.to_csv(buffer, index=False, header=False, date_format="%Y-%m-%d %H:%M:%S.%f")
        raw = connection.connection.driver_connection  # psycopg connection
        with raw.cursor() as cursor:  # type: ignore[union-attr]
            copy_sql = f"COPY {target} ({', '.join(columns)}) FROM STDIN WITH (FORMAT csv)"
            with cursor.copy(copy_sql) as copy:
                copy.write(buffer.getvalue())
        if "id" in columns and into is None:
            connection.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"
                )
            )
    else:  # pragma: no cover - other dialects are not supported
        raise StoreError(f"bulk insert is not supported on {dialect}")
    return len(frame)
