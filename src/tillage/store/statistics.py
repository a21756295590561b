"""Planner statistics of a PostgreSQL store, refreshed after bulk writes.

A scoring run writes a snapshot's 100,000 score rows, an import or a load replaces whole tables;
until the tables are analysed again PostgreSQL plans every page's query with the row counts it
had before (a snapshot's scores taken for 775 rows where there are 100,000; hash joins built on
the wrong side, indexes skipped). Autovacuum analyses them eventually, when it runs at all (it
can be off); so the writer analyses the tables it changed: those whose statistics are missing,
or older than :data:`STALE_SHARE` of their rows' changes. Embedded stores plan without them.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Engine, text

STALE_SHARE = 0.1
"""Share of a table's rows changed since its last analysis above which it is analysed again."""


def refresh_statistics(engine: Engine, tables: Iterable[str]) -> list[str]:
    """ANALYZE those of ``tables`` whose statistics are missing or stale (a PostgreSQL store;
    nothing elsewhere); returns their names. Without the right to analyse a table (not its
    owner) PostgreSQL skips it with a warning: the queries still run, with its guesses."""
    names = sorted(set(tables))
    if engine.dialect.name != "postgresql" or not names:
        return []
    with engine.connect() as connection:
        stale = list(
            connection.scalars(
                text(
                    "SELECT relname FROM pg_stat_user_tables WHERE relname = ANY(:names) AND ("
                    "(last_analyze IS NULL AND last_autoanalyze IS NULL) "
                    "OR n_mod_since_analyze > :share * GREATEST(n_live_tup, 1))"
                ),
                {"names": names, "share": STALE_SHARE},
            )
        )
        connection.commit()
        autocommit = connection.execution_options(isolation_level="AUTOCOMMIT")
        for name in sorted(stale):
            autocommit.execute(text(f'ANALYZE "{name}"'))
    return sorted(stale)
