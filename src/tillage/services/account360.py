"""The account 360: what a rep or a manager needs about one account on one screen, beyond its
scores — the contracts with their renewal dates and annual recurring revenue, the open and past
deals with their win probability, the priority and churn broken into their parts, and the notes
the account's people left (:mod:`tillage.services.notes`).

The service behind ``/api/v1/accounts/{account_id}/overview`` and the account page. Amounts in
company currency. The parts are read from the snapshot the scoring run wrote; nothing is
re-computed here.

**ARR** of a contract is 12 × its monthly recurring amount (``contracts.recurring_amount`` is
the MRR of the term); the account's ARR sums its contracts in force on the snapshot's date
(``start_date ≤ as_of < end_date``, as the scoring's renewal evidence reads it, and not
churned). A contract's **renewal** is its end date;
it is *undecided* while no renewal term (a contract whose ``renewed_from_id`` is this one) is on
file and it has not churned or expired.

**Priority parts** are the snapshot's reasons: each part's ``share`` is its share of the
priority value P = V × (1 + U) (see :mod:`tillage.strategy.priority`), so the listed parts and
the remainder ``other_share`` add up to 1.

**Churn parts** are the silent-churn signals (see :mod:`tillage.strategy.risk`): silent_churn =
Σₖ sₖ / 5, so a signal's ``share`` of the silent-churn score is sₖ / Σ sₖ.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from tillage.services.accounts import account
from tillage.services.notes import NoteOut, notes_list
from tillage.store.access import AccountFilter
from tillage.store.records import AccountScore, Snapshot, SnapshotDeal
from tillage.store.schema import Contract, Opportunity, Product
from tillage.store.snapshots import AccountDetail

MONTHS_PER_YEAR = 12
DECIDED = ("churned", "expired")


class ContractOut(BaseModel):
    """One contract term: ``mrr`` and ``arr`` (= 12 × mrr) in company currency; ``undecided``
    while its renewal is still open; ``days_to_renewal`` from the snapshot's date to its end
    (negative once past)."""

    contract_id: int
    key: str
    product: str | None
    start_date: dt.date
    end_date: dt.date
    term_months: int
    status: str
    mrr: float
    arr: float
    in_force: bool
    undecided: bool
    days_to_renewal: int | None


class AccountDealOut(BaseModel):
    """A deal of the account: open ones with the snapshot's win probability and zone, past ones
    with their outcome; ``probability`` the CRM's own estimate (0–1), when it gave one."""

    opportunity_id: int
    key: str
    name: str | None
    type: str
    stage: str
    amount: float | None
    created_date: dt.date
    close_date: dt.date | None
    is_closed: bool
    is_won: bool
    competitor: str | None
    probability: float | None
    win_probability: float | None
    expected_value: float | None
    zone: str | None


class PartOut(BaseModel):
    """One part of the priority or of the churn risk: its ``code``, its ``share`` (0–1) and the
    evidence the snapshot recorded for it (``value``, ``threshold`` …)."""

    code: str
    share: float
    evidence: dict[str, Any]


class Account360(BaseModel):
    """The account 360 beyond the scores (the detail of ``/api/v1/accounts/{id}`` has those)."""

    account_id: int
    as_of: dt.date | None
    arr: float
    next_renewal: dt.date | None
    contracts: list[ContractOut]
    open_deals: list[AccountDealOut]
    past_deals: list[AccountDealOut]
    priority_parts: list[PartOut]
    priority_other_share: float | None
    silent_churn: float | None
    churn_parts: list[PartOut]
    notes: list[NoteOut]
    """The account's notes, newest first (shared by every role that may see the account)."""


def _contracts(session: Session, account_id: int, as_of: dt.date | None) -> list[ContractOut]:
    renewal = aliased(Contract)
    rows = session.execute(
        select(Contract, Product.name)
        .outerjoin(Product, Product.id == Contract.product_id)
        .where(Contract.account_id == account_id)
        .order_by(Contract.end_date.desc(), Contract.id.desc())
    ).all()
    renewed = set(
        session.scalars(
            select(renewal.renewed_from_id).where(
                renewal.account_id == account_id, renewal.renewed_from_id.is_not(None)
            )
        )
    )
    out = []
    for contract, product in rows:
        in_force = (
            as_of is not None
            and contract.start_date <= as_of < contract.end_date
            and contract.status not in DECIDED
        )
        undecided = contract.id not in renewed and contract.status not in (*DECIDED, "renewed")
        mrr = float(contract.recurring_amount or 0.0)
        out.append(
            ContractOut(
                contract_id=contract.id,
                key=contract.key,
                product=product,
                start_date=contract.start_date,
                end_date=contract.end_date,
                term_months=contract.term_months,
                status=contract.status,
                mrr=mrr,
                arr=MONTHS_PER_YEAR * mrr,
                in_force=in_force,
                undecided=undecided,
                days_to_renewal=(contract.end_date - as_of).days if as_of else None,
            )
        )
    return out


def _deals(
    session: Session, account_id: int, snapshot_id: int | None
) -> tuple[list[AccountDealOut], list[AccountDealOut]]:
    scored: dict[int, SnapshotDeal] = {}
    if snapshot_id is not None:
        scored = {
            d.opportunity_id: d
            for d in session.scalars(
                select(SnapshotDeal).where(
                    SnapshotDeal.snapshot_id == snapshot_id, SnapshotDeal.account_id == account_id
                )
            )
        }
    rows = session.scalars(
        select(Opportunity)
        .where(Opportunity.account_id == account_id)
        .order_by(Opportunity.close_date.desc().nulls_first(), Opportunity.id.desc())
    ).all()
    open_deals, past_deals = [], []
    for o in rows:
        s = scored.get(o.id)
        deal = AccountDealOut(
            opportunity_id=o.id,
            key=o.key,
            name=o.name,
            type=o.type,
            stage=o.stage,
            amount=o.amount,
            created_date=o.created_date,
            close_date=o.close_date,
            is_closed=o.is_closed,
            is_won=o.is_won,
            competitor=o.competitor,
            probability=o.probability,
            win_probability=s.win_probability if s else None,
            expected_value=s.expected_value if s else None,
            zone=s.zone if s else None,
        )
        (past_deals if o.is_closed else open_deals).append(deal)
    return open_deals, past_deals


def _parts(score: AccountScore | None) -> tuple[list[PartOut], float | None, list[PartOut]]:
    if score is None:
        return [], None, []
    priority = [
        PartOut(
            code=str(r["code"]),
            share=float(r.get("contribution") or 0.0) / 100.0,
            evidence={k: v for k, v in r.items() if k not in ("code", "contribution")},
        )
        for r in score.reasons or []
    ]
    other = max(0.0, 1.0 - sum(p.share for p in priority)) if priority else None
    signals = list(score.signals or [])
    total = sum(float(s.get("strength") or 0.0) for s in signals)
    churn = [
        PartOut(
            code=str(s["code"]),
            share=float(s.get("strength") or 0.0) / total if total > 0 else 0.0,
            evidence={k: v for k, v in s.items() if k != "code"},
        )
        for s in signals
    ]
    return priority, other, churn


def account_overview(session: Session, detail: AccountDetail) -> Account360:
    """The 360 of an account the caller may see (``detail`` comes from
    :func:`tillage.services.accounts.account`, which applies the caller's reach)."""
    snapshot_id = detail.snapshot_id
    as_of = None
    score = None
    if snapshot_id is not None:
        as_of = session.get(Snapshot, snapshot_id).as_of  # type: ignore[union-attr]
        score = session.scalars(
            select(AccountScore).where(
                AccountScore.snapshot_id == snapshot_id,
                AccountScore.account_id == detail.account_id,
            )
        ).first()
    contracts = _contracts(session, detail.account_id, as_of)
    open_deals, past_deals = _deals(session, detail.account_id, snapshot_id)
    priority, other, churn = _parts(score)
    upcoming = [
        c.end_date for c in contracts if c.undecided and (as_of is None or c.end_date > as_of)
    ]
    return Account360(
        account_id=detail.account_id,
        as_of=as_of,
        arr=sum(c.arr for c in contracts if c.in_force),
        next_renewal=min(upcoming) if upcoming else None,
        contracts=contracts,
        open_deals=open_deals,
        past_deals=past_deals,
        priority_parts=priority,
        priority_other_share=other,
        silent_churn=score.silent_churn if score else None,
        churn_parts=churn,
        notes=notes_list(session, detail.account_id),
    )


def account_overview_for(session: Session, visible: AccountFilter, account_id: int) -> Account360:
    """The 360 of ``account_id`` as the caller sees it (404 outside their reach)."""
    return account_overview(session, account(session, visible, account_id))
