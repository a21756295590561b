"""Planner statistics of a PostgreSQL store, refreshed before the feature queries run in it.

The feature queries join every account's point in time (a renewal decision, the as-of date) to
its usage, tickets, answers and activities. Without statistics — right after a bulk load or an
import, before autovacuum has analysed the tables — PostgreSQL takes each table for a few rows
and plans those joins as nested loops that re-run the inner aggregate for every outer row: the
2,000-account demo's ``current_renewal_covariates`` did not finish in 25 minutes, and takes
0.4 s once the tables are analysed. So a table is analysed here when it never was, or when
more than :data:`STALE_SHARE` of its rows changed since.
"""

from __future__ import annotations

from collections.abc import Iterable

from ibis.backends import BaseBackend

__all__ = ["STALE_SHARE", "refresh_statistics"]

#: Share of a table's rows changed since its last analysis above which it is analysed again.
STALE_SHARE = 0.1


def refresh_statistics(con: BaseBackend, tables: Iterable[str]) -> list[str]:
    """ANALYZE those of ``tables`` (in ``con``'s PostgreSQL database) whose statistics are
    missing or stale; returns their names. Without the right to analyse a table (not its
    owner) PostgreSQL skips it with a warning: the queries still run, with its guesses."""
    names = sorted(set(tables))
    cursor = con.raw_sql(
        "SELECT relname FROM pg_stat_user_tables WHERE relname = ANY(%s) AND ("
        "(last_analyze IS NULL AND last_autoanalyze IS NULL) "
        "OR n_mod_since_analyze > %s * GREATEST(n_live_tup, 1))",
        params=(names, STALE_SHARE),
    )
    stale = [row[0] for row in cursor.fetchall()]
    cursor.close()
    for name in stale:
        con.raw_sql(f'ANALYZE "{name}"').close()
    con.con.commit()
    return stale
