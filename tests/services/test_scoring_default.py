"""``tillage score`` without ``--as-of`` scores as of the store's last day of data."""

from __future__ import annotations

import datetime as dt

from tillage.services.scoring import data_end, default_as_of
from tillage.store.database import make_engine, migrate


def test_default_as_of_is_the_end_of_the_data(scored_demo) -> None:  # type: ignore[no-untyped-def]
    end = data_end(scored_demo.engine)
    as_of = scored_demo.company.config.as_of  # the demo's rows are dated on or before it
    assert end is not None and as_of - dt.timedelta(days=7) <= end <= as_of
    later = end + dt.timedelta(days=67)
    assert default_as_of(scored_demo.engine, later) == (end, "data_end")
    assert default_as_of(scored_demo.engine, end) == (end, "today")


def test_an_empty_store_scores_as_of_today(tmp_path) -> None:  # type: ignore[no-untyped-def]
    engine = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    migrate(engine)
    today = dt.date(2026, 12, 6)
    assert data_end(engine) is None
    assert default_as_of(engine, today) == (today, "empty")
    engine.dispose()


def test_the_run_builds_each_feature_table_once(scored_demo) -> None:  # type: ignore[no-untyped-def]
    """The scoring run computes the feature table of each date once and passes it to every
    step that reads it (summary, values, signals, risk, expansion, open deals, the forecast's
    folds), rather than each step building its own; the queries it runs on several dates are
    built and compiled once (DatedQuery): the run's two tables, the deal history of six month
    ends and the expansion frames of four dates."""
    builds = scored_demo.feature_builds
    as_of = scored_demo.company.config.as_of
    assert builds["parameter"] == 3
    assert as_of not in builds  # read from the table computed once
    assert as_of - dt.timedelta(days=365) not in builds  # the prior year's summary and a fold
    # no step builds the feature query of one literal date any more (the deal history's month
    # ends did, one query each, before they shared one compiled query)
    assert {d: n for d, n in builds.items() if d != "parameter"} == {}
