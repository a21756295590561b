"""Account hierarchy reads: the accounts in corporate groups with their LTV in a snapshot, and an
account's parent and subsidiaries. Both apply the caller's ``visible`` filter (an account the
caller may not see is neither listed nor counted). The roll-up itself is
:func:`tillage.strategy.groups.group_rollup`.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session, aliased

from tillage.store.access import AccountFilter
from tillage.store.schema import Account, AccountScore


@dataclass(frozen=True)
class AccountRef:
    """Another account, by id and name (a link on the account page)."""

    account_id: int
    name: str


def hierarchy_frame(session: Session, snapshot_id: int, *, visible: AccountFilter) -> pd.DataFrame:
    """The visible accounts that have a parent or a subsidiary, indexed by account id, with
    ``name``, ``parent_account_id`` and ``ltv`` in the snapshot (NaN when unscored)."""
    # the parents as one set (hashed once), not a lookup per account
    child = aliased(Account)
    has_child = Account.id.in_(
        select(child.parent_account_id).where(child.parent_account_id.is_not(None))
    )
    rows = session.execute(
        select(Account.id, Account.name, Account.parent_account_id, AccountScore.ltv)
        .outerjoin(
            AccountScore,
            and_(AccountScore.account_id == Account.id, AccountScore.snapshot_id == snapshot_id),
        )
        .where(visible, or_(Account.parent_account_id.is_not(None), has_child))
        .order_by(Account.id)
    ).all()
    frame = pd.DataFrame(rows, columns=["account_id", "name", "parent_account_id", "ltv"])
    frame["parent_account_id"] = frame["parent_account_id"].astype("Int64")
    frame["ltv"] = pd.to_numeric(frame["ltv"]).astype("float64")
    return frame.set_index("account_id")


def parent_and_subsidiaries(
    session: Session, account_id: int, *, visible: AccountFilter
) -> tuple[AccountRef | None, list[AccountRef]]:
    """The account's parent and its direct subsidiaries (by name), as far as the caller sees."""
    parent_of = select(Account.parent_account_id).where(Account.id == account_id)
    parent = session.execute(
        select(Account.id, Account.name).where(Account.id == parent_of.scalar_subquery(), visible)
    ).first()
    children = session.execute(
        select(Account.id, Account.name)
        .where(Account.parent_account_id == account_id, visible)
        .order_by(Account.name, Account.id)
    ).all()
    return (
        AccountRef(int(parent[0]), str(parent[1])) if parent is not None else None,
        [AccountRef(int(i), str(n)) for i, n in children],
    )
