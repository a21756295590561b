"""Win probability on a CRM opportunities export (the Maven "CRM Sales Opportunities" shape).

    python benchmarks/crm_win_probability.py CRM_FOLDER [--cutoff 2017-06-30]

Imports the folder with ``examples/mappings/crm_opportunities.toml`` into a temporary SQLite
store (nothing is copied into the project), builds month-end snapshots of the open deals, trains
the calibrated model on deals closed by the cutoff and tests on the deals open after it, next to
the stage-rate baseline. Run from the repository root with ``PYTHONPATH=src``.

This export records ``close_value`` 0 for every lost deal and nothing for open ones, so the
amount would give the outcome away: the amount features are left out here.
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import time
from pathlib import Path

from tillage.features import feature_backend
from tillage.features.deals import deal_history
from tillage.ingest import import_path
from tillage.models.win_probability import DEAL_FEATURES, WinProbabilityModel
from tillage.store.database import make_engine, migrate
from tillage.strategy.deals import month_ends, win_probability_backtest

MAPPING = Path(__file__).resolve().parents[1] / "examples" / "mappings" / "crm_opportunities.toml"
LEAKY = ("log_amount", "amount_vs_account")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--as-of", default="2017-12-31")
    parser.add_argument("--cutoff", default="2017-06-30")
    args = parser.parse_args()
    as_of = dt.date.fromisoformat(args.as_of)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'crm.db'}"
        engine = make_engine(url)
        migrate(engine)
        started = time.perf_counter()
        import_path(
            engine,
            args.folder,
            mapping=MAPPING,
            as_of=as_of,
            imported_at=dt.datetime(2018, 1, 1),
            currency="USD",
        )
        engine.dispose()
        print(f"imported in {time.perf_counter() - started:.1f} s")
        with feature_backend(url, "duckdb") as con:
            started = time.perf_counter()
            history = deal_history(con, month_ends(as_of, 15))
            print(f"{len(history):,} deal snapshots in {time.perf_counter() - started:.1f} s")
            features = tuple(f for f in DEAL_FEATURES if f not in LEAKY)
            result = win_probability_backtest(
                con,
                as_of,
                cutoff=dt.date.fromisoformat(args.cutoff),
                history=history,
                model=WinProbabilityModel(features=features),
            )
    print("\n".join(result.notes))
    print(result.metrics.round(4).to_string())
    print(result.reliability.round(3).to_string())


if __name__ == "__main__":
    main()
