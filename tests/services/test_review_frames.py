"""The review's frames (:mod:`tillage.services.review_frames`): read on the connection as the
ORM read them, the review's score fields, and the rows a warm step reads once."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from tillage.services import review_frames as frames
from tillage.services.reviews import build_review
from tillage.store.schema import Account, AccountScore

FIRST, LAST = dt.date(2026, 7, 1), dt.date(2026, 9, 30)


def _orm_scores(session: Session, snapshot_id: int) -> pd.DataFrame:
    """The scores as the ORM's rows made them before (``session.execute(...).all()``)."""
    result = session.execute(
        select(
            AccountScore.account_id,
            Account.key,
            Account.name,
            Account.owner_id,
            *(getattr(AccountScore, name) for name in frames.SCORE_FIELDS),
        )
        .join(Account, Account.id == AccountScore.account_id)
        .where(AccountScore.snapshot_id == snapshot_id)
        .order_by(AccountScore.account_id)
    )
    return pd.DataFrame(result.all(), columns=list(result.keys()))


def _counting(session: Session) -> list[str]:
    statements: list[str] = []
    event.listen(
        session.get_bind(),
        "before_cursor_execute",
        lambda _conn, _cursor, statement, *_args: statements.append(statement),
    )
    return statements


def test_scores_are_the_orm_rows_and_the_review_fields_a_part_of_them(scored_demo) -> None:  # type: ignore[no-untyped-def]
    with Session(scored_demo.engine) as session:
        before = _orm_scores(session, scored_demo.snapshot_id)
        read = frames.snapshot_scores(session, scored_demo.snapshot_id)
        review = frames.snapshot_scores(
            session, scored_demo.snapshot_id, fields=frames.REVIEW_FIELDS
        )
    assert len(read) == 600
    pd.testing.assert_frame_equal(read, before)
    assert "reasons" not in review.columns and "signals" not in review.columns
    pd.testing.assert_frame_equal(review, before[list(review.columns)])


def test_a_warm_step_reads_each_snapshot_and_period_once(scored_demo) -> None:  # type: ignore[no-untyped-def]
    snapshot = scored_demo.snapshot_id
    with Session(scored_demo.engine) as session:
        alone = frames.snapshot_scores(session, snapshot)
        acts = frames.activities_between(session, FIRST, LAST)
        statements = _counting(session)
        with frames.reading_once():
            review = frames.snapshot_scores(session, snapshot, fields=frames.REVIEW_FIELDS)
            cells = frames.snapshot_scores(session, snapshot, fields=("ltv", "segment"))
            first = frames.activities_between(session, FIRST, LAST)
            first["occurred_at"] = pd.NaT  # a reader's change stays its own
            again = frames.activities_between(session, FIRST, LAST)
            assert len(statements) == 2  # the scores once, the activities once
            every = frames.snapshot_scores(session, snapshot)  # the reasons: read again
            assert len(statements) == 3
            kept = frames.snapshot_scores(session, snapshot, fields=frames.REVIEW_FIELDS)
            assert len(statements) == 3
        frames.snapshot_scores(session, snapshot, fields=frames.REVIEW_FIELDS)
        assert len(statements) == 4  # outside the span, nothing is kept
    assert len(acts) > 0
    pd.testing.assert_frame_equal(again, acts)
    pd.testing.assert_frame_equal(every, alone)
    pd.testing.assert_frame_equal(review, alone[list(review.columns)])
    pd.testing.assert_frame_equal(kept, review)
    assert list(cells.columns) == ["account_id", "key", "name", "owner_id", "ltv", "segment"]
    pd.testing.assert_frame_equal(cells, alone[list(cells.columns)])


def test_the_review_does_not_read_the_reasons(scored_demo, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The review of the month after the snapshot (which starts and ends it) read with every
    score field is the review read with :data:`REVIEW_FIELDS`."""
    period = "2026-10"
    review = build_review(scored_demo.url, period)
    monkeypatch.setattr(frames, "REVIEW_FIELDS", frames.SCORE_FIELDS)
    full = build_review(scored_demo.url, period)
    assert review.forecast is not None and review.forecast.retention.n > 0
    assert review.model_dump() == full.model_dump()
