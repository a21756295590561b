"""Join the feature families into one account × feature table as of a date.

:func:`features_expr` returns the unexecuted ibis expression (one row per account of the
``accounts`` table, ordered by ``account_id``), so it runs where the data lives — DuckDB,
PostgreSQL or Spark (:mod:`tillage.features.engine`). :func:`build_features` executes it into a
pandas frame with stable dtypes. Counts and amounts of an account without rows in a family are
0; statistics that are undefined without data (averages, days since, trends) are null. Every
column is documented in ``docs/features.md``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager

import pandas as pd
from ibis.backends import BaseBackend
from ibis.expr.types import Table

from tillage.errors import DataValidationError
from tillage.features._common import (
    DAYS_PER_MONTH,
    AsOf,
    AsOfParameter,
    as_date,
    as_of_date,
    day,
    days_between,
)
from tillage.features.contracts import contract_features
from tillage.features.dated import DatedQuery
from tillage.features.engagement import engagement_features
from tillage.features.engine import execute_arrow
from tillage.features.labels import label_features
from tillage.features.opportunities import opportunity_features
from tillage.features.purchasing import purchasing_features
from tillage.features.rfm import PERIOD_DAYS, Period
from tillage.features.support import support_features
from tillage.features.usage import usage_features

__all__ = ["FeatureTables", "build_features", "features_expr", "materialised_features"]

#: Columns left null when an account has no rows in their family (everything else becomes 0).
NULLABLE_PREFIXES = (
    "rfm_recency",
    "rfm_t",
    "days_since_",
    "order_gap_",
    "contract_tenure_months",
    "contract_term_months",
    "days_to_next_renewal",
    "rep_concentration_",
    "top_rep_share_",
    "satisfaction_avg",
    "nps_latest",
    "nps_avg_",
    "usage_",
    "label_churned",
)


def _nullable(column: str) -> bool:
    return column.startswith(NULLABLE_PREFIXES)


#: Account × feature tables already computed on one backend, by as-of date (period ``week``,
#: without labels): what a run computes once and passes to every step that reads the features
#: of those dates (:func:`materialised_features`).
FeatureTables = Mapping[dt.date, Table]


def features_expr(
    con: BaseBackend,
    as_of: AsOf | str,
    *,
    period: Period = "week",
    horizon_days: int | None = None,
    tables: FeatureTables | None = None,
) -> Table:
    """The account × feature table as an ibis expression on ``con``'s canonical tables.

    ``period`` is the time unit of the RFM columns (day, week, month); ``horizon_days`` adds the
    backtest labels over ``(as_of, as_of + horizon_days]``. Where ``tables`` holds the table
    of ``as_of`` (weekly, without labels) that table is read instead of the feature query.
    ``as_of`` may be an :class:`~tillage.features._common.AsOfParameter`: the query of any
    date, compiled once (:class:`~tillage.features.dated.DatedQuery`).
    """
    as_of = as_of_date(as_of)
    if period not in PERIOD_DAYS:
        raise DataValidationError(f"period must be one of {', '.join(PERIOD_DAYS)}: {period!r}")
    if (
        tables is not None
        and period == "week"
        and horizon_days is None
        and not isinstance(as_of, AsOfParameter)
        and as_of in tables
    ):
        return tables[as_of].order_by("account_id")
    return _account_features(con, as_of, period, horizon_days)


def _account_features(
    con: BaseBackend, as_of: AsOf, period: Period, horizon_days: int | None
) -> Table:
    """The feature query of :func:`features_expr` (every family joined to the accounts)."""
    accounts = con.table("accounts")
    base = accounts.select(
        account_id=accounts.id,
        tenure_months=(
            days_between(day(as_of), accounts.customer_since.cast("date")) / DAYS_PER_MONTH
        ),
    )
    families = [
        purchasing_features(con, as_of, period=period),
        contract_features(con, as_of),
        opportunity_features(con, as_of),
        engagement_features(con, as_of),
        support_features(con, as_of),
        usage_features(con, as_of),
    ]
    if horizon_days is not None:
        families.append(label_features(con, as_of, horizon_days))

    out = base
    for family in families:
        out = out.left_join(family, "account_id").drop("account_id_right")
    fills = {}
    for name, dtype in out.schema().items():
        if name in ("account_id", "tenure_months") or _nullable(name):
            continue
        fills[name] = out[name].fill_null(0.0 if dtype.is_floating() else 0)
    # tenure before the account became a customer (or unknown) is 0
    fills["tenure_months"] = out.tenure_months.clip(lower=0).fill_null(0.0)
    return out.mutate(**fills).order_by("account_id")


@contextmanager
def materialised_features(
    con: BaseBackend, dates: Iterable[dt.date | str]
) -> Iterator[dict[dt.date, Table]]:
    """The weekly feature tables of ``dates`` on ``con``, each computed once (ibis's ``cache``:
    a temporary table of the engine), valid inside the block: pass them as ``features=`` to
    the steps of a run that read those dates.

    The feature query is cheap to run but slow to build and compile (1–2 s of ibis's work each
    time, the same on 2,000 accounts as on 100,000), and a scoring run reads the features of its
    as-of date six times (summary, values, signals, risk, expansion, open deals): the query is
    compiled once for all ``dates`` (:class:`~tillage.features.dated.DatedQuery`) and run once
    per date. Each table costs one feature table of memory in the engine, released when the
    block ends.
    """
    query = DatedQuery(
        con,
        lambda as_of: _account_features(con, as_of, "week", None),
        recipe=("account_features", "week"),
    )
    with query.materialised(list(dict.fromkeys(as_date(d) for d in dates))) as tables:
        yield tables


def build_features(
    con: BaseBackend,
    as_of: dt.date | str,
    *,
    period: Period = "week",
    horizon_days: int | None = None,
    tables: FeatureTables | None = None,
) -> pd.DataFrame:
    """:func:`features_expr` executed: a pandas frame, one row per account, sorted by id.

    Counts are int64, everything else float64 (nullable statistics hold NaN)."""
    expr = features_expr(con, as_of, period=period, horizon_days=horizon_days, tables=tables)
    frame = execute_arrow(con, expr).to_pandas()
    return normalise(frame)


def normalise(frame: pd.DataFrame) -> pd.DataFrame:
    """Engine-independent dtypes: ids and counts int64, the rest float64."""
    frame = frame.copy()
    for name in frame.columns:
        series = frame[name]
        if pd.api.types.is_integer_dtype(series.dtype) and not _nullable(name):
            frame[name] = series.astype("int64")
        elif (
            pd.api.types.is_bool_dtype(series.dtype)
            or pd.api.types.is_numeric_dtype(series.dtype)
            or series.dtype == object
        ):
            frame[name] = pd.to_numeric(series, errors="raise").astype("float64")
    frame["account_id"] = frame["account_id"].astype("int64")
    return frame.sort_values("account_id", kind="stable").reset_index(drop=True)
