"""The renewals calendar: the contracts whose renewal is still undecided and falls in the next
``days`` days (90 by default) after the newest snapshot's date, on the accounts the caller may
see, by rep and team.

The service behind ``/api/v1/renewals``, ``tillage``'s /renewals page and its CSV. A renewal is
*undecided* while its contract is not churned, expired or renewed and no renewal term (a contract
whose ``renewed_from_id`` is it) is on file. Amounts in company currency: ``arr`` = 12 × the
contract's monthly recurring amount; ``ltv`` and ``churn_risk`` are the account's in the snapshot.
"""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel
from sqlalchemy import and_, exists, select
from sqlalchemy.orm import Session, aliased

from tillage.errors import ParameterError
from tillage.services.accounts import snapshot_of
from tillage.services.snapshots import SnapshotOut
from tillage.store.access import AccountFilter
from tillage.store.records import AccountScore
from tillage.store.schema import Account, Contract, Product, Rep, Team

DEFAULT_DAYS = 90
MAX_DAYS = 366
MONTHS_PER_YEAR = 12
CLOSED = ("churned", "expired", "renewed")


class RenewalOut(BaseModel):
    """One undecided renewal: the contract's end date, its ARR, the account's owner and team,
    and the account's LTV and churn risk in the snapshot."""

    contract_id: int
    account_id: int
    account: str
    product: str | None
    renewal_date: dt.date
    days_to_renewal: int
    arr: float
    rep_key: str | None
    rep: str | None
    team: str | None
    ltv: float | None
    churn_risk: float | None


class RenewalCalendar(BaseModel):
    """The undecided renewals after ``start`` up to ``end`` (included), soonest first, with
    their count and total ARR (company currency)."""

    snapshot: SnapshotOut
    start: dt.date
    end: dt.date
    total: int
    total_arr: float
    items: list[RenewalOut]


def renewal_calendar(
    session: Session,
    visible: AccountFilter,
    *,
    days: int = DEFAULT_DAYS,
    rep: str | None = None,
    team: str | None = None,
) -> RenewalCalendar:
    """The undecided renewals in the ``days`` days after the newest snapshot's date, on the
    accounts ``visible``, of the owner rep ``rep`` (key) or team ``team`` (key) when given."""
    if not 1 <= days <= MAX_DAYS:
        raise ParameterError(f"days: {days} is not between 1 and {MAX_DAYS}")
    snapshot = snapshot_of(session)
    start = snapshot.as_of
    end = start + dt.timedelta(days=days)
    successor = aliased(Contract)
    query = (
        select(
            Contract.id,
            Account.id,
            Account.name,
            Product.name,
            Contract.end_date,
            Contract.recurring_amount,
            Rep.key,
            Rep.name,
            Team.name,
            AccountScore.ltv,
            AccountScore.churn_risk,
        )
        .join(Account, Account.id == Contract.account_id)
        .outerjoin(Product, Product.id == Contract.product_id)
        .outerjoin(Rep, Rep.id == Account.owner_id)
        .outerjoin(Team, Team.id == Rep.team_id)
        .outerjoin(
            AccountScore,
            and_(AccountScore.account_id == Account.id, AccountScore.snapshot_id == snapshot.id),
        )
        .where(
            visible,
            Contract.end_date > start,
            Contract.end_date <= end,
            Contract.status.not_in(CLOSED),
            ~exists().where(successor.renewed_from_id == Contract.id),
        )
        .order_by(Contract.end_date, Account.name, Contract.id)
    )
    if rep:
        query = query.where(Rep.key == rep)
    if team:
        query = query.where(Team.key == team)
    items = [
        RenewalOut(
            contract_id=cid,
            account_id=aid,
            account=name,
            product=product,
            renewal_date=end_date,
            days_to_renewal=(end_date - start).days,
            arr=MONTHS_PER_YEAR * float(mrr or 0.0),
            rep_key=rep_key,
            rep=rep_name,
            team=team_name,
            ltv=ltv,
            churn_risk=churn,
        )
        for cid, aid, name, product, end_date, mrr, rep_key, rep_name, team_name, ltv, churn in (
            session.execute(query).all()
        )
    ]
    return RenewalCalendar(
        snapshot=snapshot,
        start=start,
        end=end,
        total=len(items),
        total_arr=sum(i.arr for i in items),
        items=items,
    )
