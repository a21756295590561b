"""The dashboard's queries: portfolio cells, the filtered list, an account's history and
timeline — each only over what the caller may see (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from sqlalchemy import Engine, update
from sqlalchemy.orm import Session

from tillage.errors import NotFoundError
from tillage.services.account_views import (
    account_contacts,
    account_timeline,
    filter_choices,
    segment_cells,
)
from tillage.services.accounts import account, history_by_date
from tillage.services.accounts import segment_cells as service_cells
from tillage.services.listing import ScoreFilter, list_scores, risk_bands
from tillage.store.access import Principal, account_filter, everything
from tillage.store.bulk import insert_frame
from tillage.store.diffs import NONE
from tillage.store.schema import AccountScore, Snapshot
from tillage.store.snapshots import write_snapshot

NOW = dt.datetime(2026, 10, 1, 9, 0)
SEGMENT = ["deepen", "deepen", "maintain", "nurture", "reduce", "reduce"]
LTV = [900.0, 700.0, 500.0, 300.0, 100.0, 50.0]
BORDERLINE = [False, True, False, True, True, False]
OWNER = [1, 2, 1, 2, 1, 2]  # rep 1 in team 1, rep 2 in team 2
REP1 = Principal(user_id=1, login="r1", display_name="", role="rep", rep_key="R1")


def _store(engine: Engine) -> None:
    with engine.begin() as c:
        insert_frame(
            c, "teams", pd.DataFrame({"id": [1, 2], "key": ["T1", "T2"], "name": ["East", "West"]})
        )
        insert_frame(
            c,
            "reps",
            pd.DataFrame(
                {"id": [1, 2], "key": ["R1", "R2"], "name": ["Sato", "Kato"], "team_id": [1, 2]}
            ),
        )
        insert_frame(
            c,
            "accounts",
            pd.DataFrame(
                {
                    "id": range(1, 7),
                    "key": [f"ACC-{i}" for i in range(1, 7)],
                    "name": ["Alpha 100%", "Beta", "Gamma", "Delta", "Epsilon", "Zeta_x"],
                    "owner_id": OWNER,
                }
            ),
        )
        insert_frame(
            c,
            "contacts",
            pd.DataFrame(
                {
                    "id": [1, 2],
                    "key": ["C1", "C2"],
                    "account_id": [1, 1],
                    "name": ["Ito", "Ueda"],
                    "is_decision_maker": [False, True],
                }
            ),
        )
        insert_frame(
            c,
            "activities",
            pd.DataFrame(
                {
                    "id": [1, 2, 3],
                    "key": ["X1", "X2", "X3"],
                    "account_id": [1, 1, 2],
                    "rep_id": [1, 1, 2],
                    "contact_id": [1, 1, None],
                    "type": ["meeting", "call", "email"],
                    "occurred_at": [
                        dt.datetime(2026, 8, 1),
                        dt.datetime(2026, 9, 1),
                        dt.datetime(2026, 9, 2),
                    ],
                    "subject": ["kick-off", "follow-up", "hello"],
                }
            ),
        )
    for as_of, scale in ((dt.date(2026, 6, 30), 0.5), (dt.date(2026, 9, 30), 1.0)):
        write_snapshot(
            engine,
            as_of=as_of,
            created_at=NOW,
            scores=pd.DataFrame(
                {
                    "account_id": range(1, 7),
                    "ltv": [v * scale for v in LTV],
                    "ltv_low": [v * scale * 0.8 for v in LTV],
                    "ltv_high": [v * scale * 1.2 for v in LTV],
                    "segment": SEGMENT,
                    "borderline": BORDERLINE,
                    "zone": ["A", "A", "B", "B", "C", "C"],
                    "priority": [None, 80.0, 20.0, 95.0, 10.0, 50.0],
                    "churn_risk": [0.1, 0.6, 0.2, 0.9, 0.5, 0.0],
                    "p_alive": [0.9, 0.8, 0.7, 0.6, 0.5, 0.4],
                }
            ),
        )


def test_segment_cells_count_and_sum_what_the_caller_sees(engine: Engine) -> None:
    _store(engine)
    with Session(engine) as session:
        cells = {c.key: c for c in segment_cells(session, 2, visible=everything())}
        assert [c for c in cells] == ["deepen", "maintain", "nurture", "reduce"]
        assert (
            cells["deepen"].accounts,
            cells["deepen"].total_ltv,
            cells["deepen"].borderline,
        ) == (2, 1600.0, 1)
        assert (
            cells["reduce"].accounts,
            cells["reduce"].total_ltv,
            cells["reduce"].borderline,
        ) == (2, 150.0, 1)
        mine = {c.key: c for c in segment_cells(session, 2, visible=account_filter(REP1))}
        # rep 1 owns accounts 1, 3 and 5: deepen 900, maintain 500, reduce 100 (borderline)
        assert {k: (c.accounts, c.total_ltv, c.borderline) for k, c in mine.items()} == {
            "deepen": (1, 900.0, 0),
            "maintain": (1, 500.0, 0),
            "nurture": (0, 0.0, 0),
            "reduce": (1, 100.0, 1),
        }


def test_accounts_without_a_known_cell_are_one_cell_not_left_out(engine: Engine) -> None:
    """Page, API, CLI and workbook count cells with one function: accounts without a known
    segment are the ``-`` cell, so the cells always sum to the scored accounts and their LTV."""
    _store(engine)
    with Session(engine) as session:
        for account_id, segment in ((5, None), (6, "legacy")):
            session.execute(
                update(AccountScore)
                .where(AccountScore.snapshot_id == 2, AccountScore.account_id == account_id)
                .values(segment=segment)
            )
        session.commit()
        cells = segment_cells(session, 2, visible=everything())
        assert [c.key for c in cells] == ["deepen", "maintain", "nurture", "reduce", NONE]
        assert (cells[3].accounts, cells[3].total_ltv) == (0, 0.0)
        assert (cells[4].accounts, cells[4].total_ltv, cells[4].borderline) == (2, 150.0, 1)
        assert sum(c.accounts for c in cells) == len(LTV)
        assert sum(c.total_ltv for c in cells) == sum(LTV)
        answer = service_cells(session, everything(), 2)
        assert [(c.key, c.accounts, c.total_ltv, c.borderline) for c in answer] == [
            (c.key, c.accounts, c.total_ltv, c.borderline) for c in cells
        ]
        # the first snapshot has every account in a known cell: no "-" cell
        assert NONE not in {c.key for c in segment_cells(session, 1, visible=everything())}


def test_list_filters_sort_and_search(engine: Engine) -> None:
    """The one listing (page, API, CSV, demo): risk flags and bands, search, sort, totals."""
    _store(engine)
    with Session(engine) as session:

        def ids(**kwargs) -> list[int]:  # type: ignore[no-untyped-def]
            filters = kwargs.pop("filters", None)
            kwargs.setdefault("sort", "priority")
            listing = list_scores(session, 2, visible=everything(), where=filters, **kwargs)
            return [r.account_id for r in listing.rows]

        # priority first, highest first; the unscored priority (account 1) goes last
        assert ids() == [4, 2, 6, 3, 5, 1]
        assert ids(descending=False) == [5, 3, 6, 2, 4, 1]
        assert ids(sort="name", descending=False) == [1, 2, 4, 5, 3, 6]
        assert ids(filters=ScoreFilter(segment="reduce")) == [6, 5]
        assert ids(filters=ScoreFilter(risk="borderline")) == [4, 2, 5]
        assert ids(filters=ScoreFilter(risk="churn")) == [4, 2, 5]
        # a snapshot whose scoring run set its churn bands from the company's own risks: the
        # "high churn risk" filter starts at its high bound
        session.get(Snapshot, 2).models = {"churn_bands": {"medium": 0.1, "high": 0.2}}
        session.flush()
        assert ids(filters=ScoreFilter(risk="churn")) == [4, 2, 3, 5]
        assert ids(filters=ScoreFilter(risk="high")) == [4, 2, 3, 5]
        assert risk_bands(session, 2)["medium"] == (0.1, 0.2)
        session.get(Snapshot, 2).models = None
        session.flush()
        assert ids(filters=ScoreFilter(team="T1", zone="A")) == [1]
        assert ids(filters=ScoreFilter(rep="R2")) == [4, 2, 6]
        # search is a substring of name or key; % and _ are literal characters
        assert ids(filters=ScoreFilter(search="100%")) == [1]
        assert ids(filters=ScoreFilter(search="a_x")) == [6]
        assert ids(filters=ScoreFilter(search="acc-3")) == [3]
        assert ids(filters=ScoreFilter(risk="high")) == ids(filters=ScoreFilter(risk="churn"))
        page = list_scores(session, 2, visible=account_filter(REP1), limit=2, offset=0)
        assert (page.total, page.total_ltv, len(page.rows)) == (3, 1500.0, 2)
        assert filter_choices(session, visible=account_filter(REP1)) == (
            [("R1", "Sato")],
            [("T1", "East")],
        )


def test_history_and_timeline_of_a_visible_account(engine: Engine) -> None:
    _store(engine)
    with Session(engine) as session:
        detail = account(session, account_filter(REP1), 1)
        history = history_by_date(detail.history)
        assert [(p.as_of.month, p.ltv, p.ltv_low, p.p_alive) for p in history] == [
            (6, 450.0, 360.0, 0.9),
            (9, 900.0, 720.0, 0.9),
        ]
        timeline = account_timeline(session, 1, visible=everything())
        assert [(t.type, t.rep, t.contact) for t in timeline] == [
            ("call", "Sato", "Ito"),
            ("meeting", "Sato", "Ito"),
        ]
        contacts = account_contacts(session, 1, visible=everything())
        assert [(c.name, c.activities) for c in contacts] == [("Ueda", 0), ("Ito", 2)]
        with pytest.raises(NotFoundError):
            account(session, account_filter(REP1), 2)
        for read in (account_timeline, account_contacts):
            with pytest.raises(NotFoundError):
                read(session, 2, visible=account_filter(REP1))
