"""A departure simulated on the shared pieces (every account with its scores and key-person
risk, kept in the page cache as Parquet) is the departure read from the store for the call."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from tillage.services.departure import (
    DeparturePieces,
    departure_from_store,
    departure_out,
    departure_pieces,
)
from tillage.services.page_cache import bytes_frame, frame_bytes
from tillage.store.schema import Account, AccountScore, Rep
from tillage.strategy.config import Strategy


def test_the_kept_account_frame_gives_the_same_departure(scored_demo) -> None:  # type: ignore[no-untyped-def]
    engine, strategy = scored_demo.engine, Strategy()
    with Session(engine) as session:
        rep = session.scalars(
            select(Rep.key).join(Account, Account.owner_id == Rep.id).order_by(Rep.id)
        ).first()
        scores = dict(
            session.execute(
                select(AccountScore.account_id, AccountScore.ltv).where(
                    AccountScore.snapshot_id == scored_demo.snapshot_id
                )
            ).all()
        )
    assert rep is not None
    as_of = scored_demo.company.config.as_of
    fresh = departure_pieces(engine, as_of, strategy)
    frame = fresh.accounts
    assert len(frame) == len(scored_demo.company.tables["accounts"])
    assert frame["ltv"].to_dict() == scores  # every account scored, its LTV beside it
    assert frame["single_threaded"].dtype == bool and frame["single_threaded"].any()

    def kept(_day, _strategy) -> DeparturePieces:  # type: ignore[no-untyped-def]
        """The pieces as the page cache gives them back."""
        return DeparturePieces(
            risk=bytes_frame(frame_bytes(fresh.risk)),
            calibration=fresh.calibration,
            accounts=bytes_frame(frame_bytes(fresh.accounts)),
        )

    computed = departure_from_store(engine, rep, strategy=strategy)
    cached = departure_from_store(engine, rep, strategy=strategy, pieces=kept)
    pd.testing.assert_frame_equal(cached.accounts, computed.accounts)
    assert len(computed.accounts) > 0
    assert departure_out(cached) == departure_out(computed)
    pd.testing.assert_frame_equal(kept(None, None).accounts, frame)  # Parquet keeps the dtypes
