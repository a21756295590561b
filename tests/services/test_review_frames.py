"""The review's frames (:mod:`tillage.services.review_frames`): read on the connection as the
ORM read them, the review's score fields, and the rows a warm step reads once."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from sqlalchemy import event, select, true
from sqlalchemy.orm import Session

from tillage.services import review_frames as frames
from tillage.services.reviews import build_agenda, build_review
from tillage.store.access import Principal, account_filter
from tillage.store.schema import Account, AccountScore, Rep

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


def test_a_limited_review_reads_only_the_rows_of_its_accounts(scored_demo, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A manager's review reads the actions, activities, contracts and orders of the accounts
    it may see: the same review as from every account's rows, filtered after reading."""
    with Session(scored_demo.engine) as session:
        owners = sorted(set(session.scalars(select(Account.owner_id))) - {None})
    visible = Account.owner_id.in_(owners[: len(owners) // 3])
    period = "2026-10"
    limited = build_review(scored_demo.url, period, visible=visible)
    with Session(scored_demo.engine) as session:
        first, last = dt.date(2026, 10, 1), dt.date(2026, 10, 31)
        every = frames.planned_actions(session, scored_demo.snapshot_id, first, last)
        mine = frames.planned_actions(
            session, scored_demo.snapshot_id, first, last, visible=visible
        )
        acts = frames.activities_between(session, FIRST, LAST)
        acts_mine = frames.activities_between(session, FIRST, LAST, visible=visible)
        seen = set(session.scalars(select(Account.id).where(visible)))
    assert 0 < len(mine) < len(every)
    assert 0 < len(acts_mine) < len(acts)
    expected = acts[acts["account_id"].isin(seen)].reset_index(drop=True)
    pd.testing.assert_frame_equal(acts_mine, expected)  # the same rows in the same order
    monkeypatch.setattr(frames, "_of_visible", lambda _column, _visible: true())
    read_all = build_review(scored_demo.url, period, visible=visible)
    assert limited.execution and limited.forecast is not None
    assert limited.model_dump() == read_all.model_dump()


def _reps_owning(session: Session) -> list:  # type: ignore[type-arg]
    """The first rep (a manager in the demo: no accounts of their own), then the reps owning
    accounts, by id."""
    owners = select(Account.owner_id)
    first = session.execute(select(Rep.id, Rep.key).order_by(Rep.id).limit(1)).one()
    return [
        first,
        *session.execute(select(Rep.id, Rep.key).where(Rep.id.in_(owners)).order_by(Rep.id)),
    ]


def test_a_warm_step_gives_each_rep_and_caller_the_rows_read_for_them(scored_demo) -> None:  # type: ignore[no-untyped-def]
    """Inside :func:`reading_once` a rep's scores, deals and planned actions, as each kind of
    caller may see them, are the rows a query filtered in the store reads, typed alike (a rep
    none of whose accounts a caller sees included); the store is read once for every rep, and
    once more for each caller's filter."""
    snapshot = scored_demo.snapshot_id
    first, last = dt.date(2026, 10, 1), dt.date(2026, 10, 31)
    with Session(scored_demo.engine) as session:
        reps = _reps_owning(session)
        callers = [
            None,  # the admin
            Account.owner_id.in_([r.id for r in reps[1:3]]),  # a manager of two reps
            account_filter(Principal(None, "rep", "rep", "rep", reps[1].key)),  # a rep
        ]
        asked = [(v, r.id) for v in callers for r in reps[:5]]

        def read(visible, rep_id):  # type: ignore[no-untyped-def]
            return (
                frames.snapshot_scores(session, snapshot, visible=visible, rep_id=rep_id),
                frames.scored_deals(session, snapshot, visible=visible, rep_id=rep_id),
                frames.planned_actions(session, snapshot, first, last, rep_id=rep_id),
                frames.planned_actions(session, snapshot, first, last, visible=visible),
            )

        direct = [read(v, r) for v, r in asked]
        statements = _counting(session)
        with frames.reading_once():
            kept = [read(v, r) for v, r in asked]
    assert len(statements) == 3 + 2  # scores, deals, actions; the ids of two callers' accounts
    sizes = set()
    for (_visible, rep_id), ours, theirs in zip(asked, kept, direct, strict=True):
        for mine, read_alone in zip(ours, theirs, strict=True):
            pd.testing.assert_frame_equal(mine, read_alone, obj=f"rep {rep_id}")
        sizes.add(len(ours[0]))
    assert 0 in sizes and len(sizes) > 2  # callers who see none of a rep's accounts, and some


def test_an_agenda_built_from_kept_rows_is_the_agenda_read_alone(scored_demo) -> None:  # type: ignore[no-untyped-def]
    with Session(scored_demo.engine) as session:
        reps = _reps_owning(session)
    own = account_filter(Principal(None, "rep", "rep", "rep", reps[1].key))
    team = Account.owner_id.in_([r.id for r in reps[1:3]])
    for key, visible in ((reps[1].key, own), (reps[2].key, team)):
        alone = build_agenda(scored_demo.url, key, visible=visible)
        with frames.reading_once():
            build_agenda(scored_demo.url, reps[3].key)  # every row read and kept before
            kept = build_agenda(scored_demo.url, key, visible=visible)
        assert alone.top_accounts and kept.model_dump() == alone.model_dump()
        assert {a.account_id for a in kept.top_accounts} <= _ids(scored_demo, visible)


def _ids(scored_demo, visible) -> set[int]:  # type: ignore[no-untyped-def]
    with Session(scored_demo.engine) as session:
        return set(session.scalars(select(Account.id).where(visible)))
