"""A manager's or rep's listing walks the snapshot's sort index with the visibility filter on the
scores' account id: every page, sort, filter, cursor and total must still hold exactly the
accounts the role may see, in order (checked against the rule computed by hand), on SQLite and
PostgreSQL; and the page cache never takes a second connection per request."""

from __future__ import annotations

import datetime as dt
import random

import pandas as pd
import pytest
from sqlalchemy import Engine, create_engine, delete, func, insert, select
from sqlalchemy.orm import Session

from tillage.services.accounts import Listing, account_page
from tillage.services.listing import ScoreFilter, cursor_of, list_scores
from tillage.store.access import Principal, account_filter
from tillage.store.page_cache import PageCacheEntry
from tillage.store.schema import Account, AccountTeamMember, Rep, Team
from tillage.store.snapshots import write_snapshot

N = 240
# reps 1-4: 1 manages team 1 (reps 1, 2, 3 and rep 4 reports to 1 from team 2); 5 in team 2
REPS = [(1, "manager", 1, None), (2, "rep", 1, 1), (3, "rep", 1, 1), (4, "rep", 2, 1)]
REPS += [(5, "rep", 2, None)]


def _store(engine: Engine) -> dict[int, set[int]]:
    """Teams, reps, accounts (owners and account teams drawn with a seed) and one snapshot;
    the ids each rep's own rule reaches: owned or on the account team."""
    rng = random.Random(7)
    owner = {a: rng.choice([1, 2, 3, 4, 5, None]) for a in range(1, N + 1)}
    team = {(a, r) for a in range(1, N + 1) for r in range(1, 6) if rng.random() < 0.12}
    with engine.begin() as connection:
        connection.execute(
            insert(Team), [{"id": t, "key": f"T{t}", "name": f"班{t}"} for t in (1, 2)]
        )
        connection.execute(
            insert(Rep),
            [
                {"id": i, "key": f"R{i}", "name": f"担当{i}", "role": role, "team_id": t}
                for i, role, t, _m in REPS
            ],
        )
        for i, _role, _t, manager in REPS:
            connection.execute(Rep.__table__.update().where(Rep.id == i).values(manager_id=manager))
        connection.execute(
            insert(Account),
            [
                {
                    "id": a,
                    "key": f"A{a:04d}",
                    "name": f"会社{(a * 37) % N:04d}",
                    "owner_id": owner[a],
                }
                for a in range(1, N + 1)
            ],
        )
        connection.execute(
            insert(AccountTeamMember), [{"account_id": a, "rep_id": r} for a, r in sorted(team)]
        )
    ltv = [round(rng.lognormvariate(12, 1)) // 1000 * 1000 for _ in range(N)]  # with ties
    scores = pd.DataFrame(
        {
            "account_id": range(1, N + 1),
            "revenue_12m": [v / 3 for v in ltv],
            "tenure_months": [12.0] * N,
            "ltv": [float(v) for v in ltv],
            "ltv_low": [v * 0.8 for v in ltv],
            "ltv_high": [v * 1.2 for v in ltv],
            "churn_risk": [None if a % 9 == 0 else (a % 13) / 13 for a in range(1, N + 1)],
            "zone": ["ABC"[a % 3] for a in range(1, N + 1)],
        }
    )
    write_snapshot(
        engine, as_of=dt.date(2026, 9, 30), created_at=dt.datetime(2026, 10, 1), scores=scores
    )
    return {
        r: {a for a in owner if owner[a] == r} | {a for a, m in team if m == r} for r in range(1, 6)
    }


def _principal(role: str, rep: int) -> Principal:
    return Principal(user_id=rep, login=f"u{rep}", display_name="", role=role, rep_key=f"R{rep}")


@pytest.mark.parametrize(
    ("role", "rep", "reach"), [("manager", 1, (1, 2, 3, 4)), ("rep", 2, (2,)), ("rep", 5, (5,))]
)
def test_pages_sorts_filters_and_totals_hold_exactly_the_visible_accounts(
    engine: Engine, role: str, rep: int, reach: tuple[int, ...]
) -> None:
    by_rep = _store(engine)
    expected = set().union(*(by_rep[r] for r in reach))
    visible = account_filter(_principal(role, rep))
    with Session(engine) as session:
        for sort in ("ltv", "churn_risk", "name", "revenue_12m"):
            for where in (ScoreFilter(), ScoreFilter(zone="B"), ScoreFilter(search="会社00")):
                whole = list_scores(session, 1, visible=visible, limit=N, sort=sort, where=where)
                ids = [r.account_id for r in whole.rows]
                assert set(ids) <= expected and whole.total == len(ids)
                if where == ScoreFilter():
                    assert set(ids) == expected
                # offset pages and keyset pages both give the whole listing, in its order
                by_offset, by_cursor, after = [], [], None
                for offset in range(0, len(ids) + 1, 7):
                    page = list_scores(
                        session, 1, visible=visible, limit=7, offset=offset, sort=sort, where=where
                    )
                    by_offset += [r.account_id for r in page.rows]
                    assert page.total == len(ids)
                while True:
                    page = list_scores(
                        session, 1, visible=visible, limit=7, sort=sort, where=where, after=after
                    )
                    by_cursor += [r.account_id for r in page.rows]
                    if len(page.rows) < 7:
                        break
                    after = cursor_of(page.rows[-1], sort)
                assert by_offset == ids and by_cursor == ids, (sort, where)


@pytest.mark.parametrize(("role", "rep"), [("admin", None), ("manager", 1), ("rep", 2)])
def test_the_kept_order_pages_as_the_walk_does(engine: Engine, role: str, rep: int | None) -> None:
    """The listing read from its kept order (every id once, a page a slice of it) gives what
    the index walk gives: each sort, filter and reach, by offset and by cursor, with the same
    totals; a cursor whose position no longer names its row (the order dropped, or a cursor
    without one) continues after its row all the same."""
    _store(engine)
    who = Principal(None, "admin", "", "admin", None) if rep is None else _principal(role, rep)
    visible = account_filter(who)
    with Session(engine) as session:
        for sort in ("ltv", "churn_risk", "name", "revenue_12m"):
            for desc in (None, False):
                for where in (ScoreFilter(), ScoreFilter(zone="B"), ScoreFilter(search="会社00")):
                    listing = Listing(None, where, sort, desc)
                    walk = list_scores(
                        session,
                        1,
                        visible=visible,
                        limit=N,
                        sort=sort,
                        descending=desc,
                        where=where,
                    )
                    ids = [r.account_id for r in walk.rows]
                    by_offset = []
                    for offset in range(0, len(ids) + 1, 11):
                        page = account_page(session, visible, listing, limit=11, offset=offset)
                        assert page.total == walk.total
                        assert page.total_ltv == pytest.approx(walk.total_ltv)
                        by_offset += [r.account_id for r in page.items]
                    by_cursor, cursor, pages = [], None, 0
                    while True:
                        page = account_page(session, visible, listing, limit=11, cursor=cursor)
                        by_cursor += [r.account_id for r in page.items]
                        pages += 1
                        if page.next_cursor is None:
                            break
                        cursor = page.next_cursor
                        if pages == 2:  # the kept order dropped: found again by the row
                            session.execute(delete(PageCacheEntry))
                            session.commit()
                    assert by_offset == ids and by_cursor == ids, (sort, desc, where)
        assert session.scalar(
            select(func.count()).where(PageCacheEntry.kind == "list-order")
        )  # the order was kept
        # a cursor whose row is not in the listing (made on zone B, sent to zone A) goes on
        # from its value, by keyset
        b_page = account_page(session, visible, Listing(None, ScoreFilter(zone="B")), limit=5)
        a_listing = Listing(None, ScoreFilter(zone="A"))
        after = account_page(session, visible, a_listing, limit=5, cursor=b_page.next_cursor)
        last = b_page.items[-1]
        walk = list_scores(
            session,
            1,
            visible=visible,
            limit=5,
            where=ScoreFilter(zone="A"),
            after=cursor_of(last, "ltv"),
        )
        assert [r.account_id for r in after.items] == [r.account_id for r in walk.rows]
        assert after.items and all(r.zone == "A" for r in after.items)


def test_a_filter_on_other_account_columns_still_joins_the_accounts(engine: Engine) -> None:
    _store(engine)
    owned_by_three = Account.owner_id == 3  # reads accounts.owner_id, not only the id
    with Session(engine) as session:
        page = list_scores(session, 1, visible=owned_by_three, limit=500)
        owners = set(
            session.scalars(
                Account.__table__.select()
                .with_only_columns(Account.owner_id)
                .where(Account.id.in_([r.account_id for r in page.rows]))
            )
        )
        few = list_scores(session, 1, visible=owned_by_three, limit=3, offset=2)
    assert owners == {3} and page.total == len(page.rows) > 3
    assert [r.account_id for r in few.rows] == [r.account_id for r in page.rows][2:5]
    assert few.total == page.total


@pytest.mark.parametrize(
    "database_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)  # an embedded store has no connection pool to run dry
def test_the_page_cache_takes_no_second_connection(database_url: str, engine: Engine) -> None:
    """A request holds one connection; reading or writing the cached total must not wait for
    another from the same pool (with every request doing so, the pool runs dry)."""
    _store(engine)
    one = create_engine(database_url, pool_size=1, max_overflow=0, pool_timeout=2)
    visible = account_filter(_principal("manager", 1))
    try:
        with Session(one) as session:
            first = account_page(session, visible, Listing(), limit=5)  # computes, writes
            again = account_page(session, visible, Listing(), limit=5)  # reads the cache
            kept = session.scalar(select(func.count()).where(PageCacheEntry.kind == "list-total"))
        assert first.total == again.total > 5
        assert kept == 1  # written, though the request's one connection was taken
    finally:
        one.dispose()
