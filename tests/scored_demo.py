"""A small demo company in a SQLite store, scored once per test session (``scored_demo``)."""

from __future__ import annotations

import datetime as dt
import pickle
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from unittest import mock

from sqlalchemy import Engine

from tillage.demo import DemoCompany, DemoConfig, generate
from tillage.features import build
from tillage.features._common import AsOfParameter
from tillage.features.dated import forget_compiled
from tillage.services.scoring import run_scoring
from tillage.store.database import make_engine, migrate
from tillage.store.load import replace_all

CREATED = dt.datetime(2026, 10, 1, 6, 0)


@dataclass
class ScoredDemo:
    company: DemoCompany
    engine: Engine
    url: str
    snapshot_id: int
    #: how many times the scoring run built each as-of date's account feature query
    #: ("parameter": a query of any date, compiled once, :class:`DatedQuery`)
    feature_builds: Counter[dt.date | str] = field(default_factory=Counter)


def load_demo(
    path: Path, n_accounts: int, seed: int, n_reps: int = 40
) -> tuple[DemoCompany, Engine, str]:
    """A demo company loaded into a fresh SQLite store at ``path``."""
    company = generate(DemoConfig(n_accounts=n_accounts, seed=seed, n_reps=n_reps))
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    migrate(engine)
    replace_all(engine, company.tables)
    return company, engine, url


def scored_demo_store(path: Path) -> ScoredDemo:
    """600 accounts and 12 reps (50 accounts a rep, as in the default demo), scored as of the
    demo's date with the built-in strategy."""
    company, engine, url = load_demo(path, 600, 5, 12)
    builds: Counter[dt.date | str] = Counter()
    query = build._account_features

    def counted(con, as_of, period, horizon_days):  # type: ignore[no-untyped-def]
        builds["parameter" if isinstance(as_of, AsOfParameter) else as_of] += 1
        return query(con, as_of, period, horizon_days)

    forget_compiled()  # count the builds of a run in a fresh process (queries kept by recipe)
    with mock.patch.object(build, "_account_features", counted):
        snapshot_id = run_scoring(engine, company.config.as_of, created_at=CREATED)
    return ScoredDemo(company, engine, url, snapshot_id, builds)


def build_scored_demo(folder: Path) -> None:
    """Write the scored demo (``t.db``) and what :func:`open_scored_demo` needs into ``folder``."""
    scored = scored_demo_store(folder / "t.db")
    scored.engine.dispose()
    record = (scored.company, scored.snapshot_id, scored.feature_builds)
    (folder / "scored.pickle").write_bytes(pickle.dumps(record))


def open_scored_demo(folder: Path) -> ScoredDemo:
    """The scored demo that :func:`build_scored_demo` wrote into ``folder``."""
    company, snapshot_id, builds = pickle.loads((folder / "scored.pickle").read_bytes())
    url = f"sqlite:///{folder / 't.db'}"
    return ScoredDemo(company, make_engine(url), url, snapshot_id, builds)
