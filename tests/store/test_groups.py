"""Hierarchy reads: the accounts in groups with their LTV, an account's parent and subsidiaries,
as far as the caller may see."""

from __future__ import annotations

import math

from sqlalchemy import Engine, insert
from sqlalchemy.orm import Session

from tillage.store.access import everything
from tillage.store.groups import AccountRef, hierarchy_frame, parent_and_subsidiaries
from tillage.store.schema import Account


def _accounts(engine: Engine) -> None:
    rows = [
        {"id": 1, "key": "HD", "name": "髙橋ホールディングス", "parent_account_id": None},
        {"id": 2, "key": "S1", "name": "髙橋精機", "parent_account_id": 1},
        {"id": 3, "key": "S2", "name": "髙橋物流", "parent_account_id": 1},
        {"id": 4, "key": "S3", "name": "髙橋精機九州", "parent_account_id": 2},
        {"id": 5, "key": "X", "name": "独立系", "parent_account_id": None},
    ]
    with engine.begin() as connection:
        connection.execute(insert(Account), [{**r, "parent_account_id": None} for r in rows])
        for row in rows:
            if row["parent_account_id"] is not None:
                connection.execute(
                    Account.__table__.update()
                    .where(Account.id == row["id"])
                    .values(parent_account_id=row["parent_account_id"])
                )


def test_hierarchy_frame_lists_only_accounts_in_groups(engine: Engine) -> None:
    _accounts(engine)
    with Session(engine) as session:
        frame = hierarchy_frame(session, snapshot_id=1, visible=everything())
    assert frame.index.tolist() == [1, 2, 3, 4]  # the independent account 5 is in no group
    assert frame["parent_account_id"].tolist()[1:] == [1, 1, 2]
    assert all(math.isnan(v) for v in frame["ltv"])  # no scores in that snapshot


def test_parent_and_subsidiaries_respect_visibility(engine: Engine) -> None:
    _accounts(engine)
    with Session(engine) as session:
        parent, children = parent_and_subsidiaries(session, 2, visible=everything())
        assert parent == AccountRef(1, "髙橋ホールディングス")
        assert children == [AccountRef(4, "髙橋精機九州")]
        top, subsidiaries = parent_and_subsidiaries(session, 1, visible=everything())
        assert top is None and [s.account_id for s in subsidiaries] == [3, 2]  # by name
        hidden = Account.id.not_in([1, 3])  # a caller who may not see 1 and 3
        parent, children = parent_and_subsidiaries(session, 2, visible=hidden)
        assert parent is None and children == [AccountRef(4, "髙橋精機九州")]
        with_hidden = hierarchy_frame(session, snapshot_id=1, visible=hidden)
        assert with_hidden.index.tolist() == [2, 4]
