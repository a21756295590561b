"""Corporate groups (企業グループ): accounts rolled up to the top company of their hierarchy.

A Japanese B2B seller often sells to many subsidiaries of one group; the group's value is the
sum over its members. Each account's *root* is reached by following ``parent_account_id`` up
until an account has no parent (or its parent is not among the accounts given, e.g. not visible
to the caller): the root is the group's top company. A cycle in the parents (a data error) makes
its members one group whose root is the cycle's smallest id.

For a group :math:`G` with members :math:`i \\in G`, the group LTV is
:math:`\\mathrm{LTV}_G = \\sum_{i \\in G} \\mathrm{LTV}_i` (company currency; members without an
LTV count as 0 and are reported in ``unscored``).
"""

from __future__ import annotations

import pandas as pd


def group_roots(parent: pd.Series) -> pd.Series:
    """The root account of every account. ``parent`` is indexed by account id and holds the
    parent's id (or NA); the result, indexed the same, holds each account's group root id.

    One walk up per account, remembering every root found, so each account is visited once.
    """
    ids = set(parent.index)
    up = {int(a): int(p) for a, p in parent.dropna().items() if p in ids and int(p) != int(a)}
    roots: dict[int, int] = {}
    for start in parent.index:
        path: list[int] = []
        on_path: set[int] = set()
        node = int(start)
        while node not in roots and node in up and node not in on_path:
            path.append(node)
            on_path.add(node)
            node = up[node]
        if node in roots:
            root = roots[node]
        elif node in on_path:  # a cycle: its members and the path into it form one group
            root = min(path[path.index(node) :])
        else:  # a top company
            root = node
            roots[node] = node
        for member in path:
            roots[member] = root
    return pd.Series([roots[int(a)] for a in parent.index], index=parent.index, dtype="int64")


def group_rollup(accounts: pd.DataFrame) -> pd.DataFrame:
    """One row per group of two or more accounts, highest LTV first.

    ``accounts`` is indexed by account id with ``name``, ``parent_account_id`` and ``ltv``
    (company currency, NA when unscored). Returns ``group_id`` (the root account's id),
    ``group_name`` (its name), ``accounts`` (members), ``ltv`` (Σ members' LTV) and
    ``unscored`` (members without an LTV).
    """
    columns = ["group_id", "group_name", "accounts", "ltv", "unscored"]
    if accounts.empty:
        return pd.DataFrame(columns=columns)
    roots = group_roots(accounts["parent_account_id"])
    ltv = pd.to_numeric(accounts["ltv"], errors="coerce")
    frame = pd.DataFrame({"group_id": roots, "ltv": ltv.fillna(0.0), "unscored": ltv.isna()})
    groups = frame.groupby("group_id").agg(
        accounts=("ltv", "size"), ltv=("ltv", "sum"), unscored=("unscored", "sum")
    )
    groups = groups[groups["accounts"] > 1].reset_index()
    groups["group_name"] = groups["group_id"].map(accounts["name"])
    groups["unscored"] = groups["unscored"].astype("int64")
    return groups.sort_values(["ltv", "group_id"], ascending=[False, True])[columns].reset_index(
        drop=True
    )
