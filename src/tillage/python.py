"""The Python API for analysts: a small façade over the services, importable as ``tillage``.

::

    import tillage

    store = tillage.open_store()                 # the configured store (or a URL)
    scores = store.latest_scores()               # one row per account, a pandas DataFrame
    at_risk = store.accounts(risk="churn", sort="ltv")
    result = tillage.fit_clv(transactions)       # BG/NBD + Gamma-Gamma CLV on a frame
    model = tillage.BetaGeoModel().fit(summary)  # any model of tillage.models on a frame

No SQLAlchemy expression is needed: the store is read through the same services as the CLI, the
API and the dashboard, with an analyst's full view (every account). ``docs/python.md`` is the
reference.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any

import pandas as pd
from sqlalchemy import Engine

from tillage.config import get_settings
from tillage.services.accounts import Listing, account_page
from tillage.services.clv import ClvResult, clv_of_log
from tillage.services.listing import ScoreFilter, SortKey
from tillage.services.strategy import strategy_in_force
from tillage.store.access import everything
from tillage.store.database import ensure_current, make_engine, session_factory
from tillage.store.snapshots import SCORE_COLUMNS, latest_snapshot, list_snapshots
from tillage.strategy.config import Strategy

__all__ = ["Store", "fit_clv", "open_store"]


@dataclass
class Store:
    """An open store: its URL and engine. Close it with :meth:`close` (or ``with``)."""

    url: str
    engine: Engine

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Release the store's connections."""
        self.engine.dispose()

    def snapshots(self) -> pd.DataFrame:
        """Every complete snapshot, newest first: id, as_of, created_at, label, accounts."""
        with session_factory(self.engine)() as session:
            return pd.DataFrame([asdict(info) for info in list_snapshots(session, limit=10_000)])

    def latest_scores(self) -> pd.DataFrame:
        """The newest complete snapshot's scores, one row per account (index ``account_id``):
        the account's ``key`` and ``name``, then every stored score (LTV and its interval in
        company currency, churn risk and other probabilities, zone, segment, priority …)."""
        from sqlalchemy import select

        from tillage.store.schema import Account, AccountScore

        with session_factory(self.engine)() as session:
            snapshot = latest_snapshot(session)
            columns = [getattr(AccountScore, c) for c in SCORE_COLUMNS if c != "account_id"]
            rows = session.execute(
                select(AccountScore.account_id, Account.key, Account.name, *columns)
                .join(Account, Account.id == AccountScore.account_id)
                .where(AccountScore.snapshot_id == snapshot.id)
                .order_by(AccountScore.account_id)
            )
            frame = pd.DataFrame(rows.all(), columns=list(rows.keys()))
        for column in frame.columns:  # exact decimals as floats, as every other surface shows
            if frame[column].map(lambda v: isinstance(v, Decimal)).any():
                frame[column] = pd.to_numeric(frame[column])
        frame.attrs["snapshot_id"], frame.attrs["as_of"] = snapshot.id, snapshot.as_of
        return frame.set_index("account_id")

    def accounts(
        self,
        *,
        sort: SortKey = "ltv",
        descending: bool | None = None,
        limit: int = 500,
        offset: int = 0,
        **filters: Any,
    ) -> pd.DataFrame:
        """The account listing of the dashboard and ``/api/v1/accounts``, as a DataFrame:
        ``filters`` are those of :class:`~tillage.services.listing.ScoreFilter` (``zone``,
        ``segment``, ``rep``, ``team``, ``risk``, ``borderline``, ``search``, ``deal_zone``)."""
        listing = Listing(where=ScoreFilter(**filters), sort=sort, descending=descending)
        with session_factory(self.engine)() as session:
            page = account_page(session, everything(), listing, limit=limit, offset=offset)
        frame = pd.DataFrame([asdict(row) for row in page.items])
        frame.attrs["total"], frame.attrs["total_ltv"] = page.total, page.total_ltv
        return frame

    def strategy(self) -> Strategy:
        """The strategy in force (the newest saved version, else the defaults)."""
        return strategy_in_force(self.engine, currency=get_settings().currency)


def open_store(url: str | None = None) -> Store:
    """The store at ``url`` (default: the configured one, ``TILLAGE_DATABASE_URL`` or the data
    directory's), checked to be at the current schema."""
    resolved = url or get_settings().resolved_database_url
    engine = make_engine(resolved)
    ensure_current(engine)
    return Store(resolved, engine)


def fit_clv(
    transactions: pd.DataFrame,
    *,
    customer: str = "customer",
    date: str = "date",
    amount: str = "amount",
    period: str = "week",
    calibration_end: str | dt.date | None = None,
    horizon: int = 52,
    discount_rate: float = 0.1,
) -> ClvResult:
    """Per-customer CLV of a transaction frame (one row per purchase: ``customer``, ``date``,
    ``amount`` columns), as ``tillage clv`` computes it: :func:`tillage.services.clv.clv_of_log`
    (``period`` day/week/month, fitted up to ``calibration_end`` — default the last purchase —
    ``horizon`` in periods, annual ``discount_rate``)."""
    log = pd.DataFrame(
        {
            "customer": transactions[customer].astype("string"),
            "date": pd.to_datetime(transactions[date]),
            "amount": pd.to_numeric(transactions[amount]),
        }
    )
    end = None if calibration_end is None else pd.Timestamp(calibration_end).date()
    return clv_of_log(
        log,
        period=period,
        calibration_end=end,
        horizon=horizon,
        discount_rate=discount_rate,
        source="transactions",
    )
