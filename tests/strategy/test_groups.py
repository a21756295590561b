"""Corporate groups: every account rolled up to the top company of its hierarchy."""

from __future__ import annotations

import pandas as pd
import pytest

from tillage.strategy.groups import group_rollup, group_roots


def _parents(links: dict[int, int | None]) -> pd.Series:
    return pd.Series(list(links.values()), index=list(links), dtype="Int64")


def test_chains_reach_the_top_company() -> None:
    # 1 ← 2 ← 3 ← 4 (a chain of subsidiaries), 5 alone, 6 ← 7
    roots = group_roots(_parents({1: None, 2: 1, 3: 2, 4: 3, 5: None, 6: None, 7: 6}))
    assert roots.to_dict() == {1: 1, 2: 1, 3: 1, 4: 1, 5: 5, 6: 6, 7: 6}


def test_a_parent_outside_the_accounts_makes_its_child_the_top() -> None:
    # account 9's parent 99 is not among the accounts (not visible to the caller)
    assert group_roots(_parents({9: 99, 10: 9})).to_dict() == {9: 9, 10: 9}


@pytest.mark.parametrize(
    ("links", "expected"),
    [
        ({1: 2, 2: 1}, {1: 1, 2: 1}),  # two accounts each the other's parent
        ({3: 4, 4: 5, 5: 3, 6: 5}, {3: 3, 4: 3, 5: 3, 6: 3}),  # a loop and a child of it
        ({7: 7}, {7: 7}),  # its own parent
    ],
)
def test_a_cycle_is_one_group_under_its_smallest_id(
    links: dict[int, int], expected: dict[int, int]
) -> None:
    assert group_roots(_parents(links)).to_dict() == expected


def test_rollup_sums_members_and_counts_the_unscored() -> None:
    accounts = pd.DataFrame(
        {
            "name": ["三菱系 HD", "子会社A", "孫会社B", "独立C", "トヨタ系 HD", "子会社D"],
            "parent_account_id": pd.array([None, 1, 2, None, None, 5], dtype="Int64"),
            "ltv": [1_000.0, 250.0, None, 9_999.0, 4_000.0, 500.0],
        },
        index=pd.Index([1, 2, 3, 4, 5, 6], name="account_id"),
    )
    groups = group_rollup(accounts)
    assert groups.to_dict("records") == [
        {"group_id": 5, "group_name": "トヨタ系 HD", "accounts": 2, "ltv": 4_500.0, "unscored": 0},
        {"group_id": 1, "group_name": "三菱系 HD", "accounts": 3, "ltv": 1_250.0, "unscored": 1},
    ]  # the independent account 4 is no group


def test_no_accounts_no_groups() -> None:
    empty = pd.DataFrame(columns=["name", "parent_account_id", "ltv"])
    assert group_rollup(empty).empty
