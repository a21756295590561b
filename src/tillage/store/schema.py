"""The canonical data model (SQLAlchemy 2 declarative models).

Every row that comes from a source keeps its natural key in ``key`` (unique per table), so a
re-import of the same export updates rows instead of duplicating them. Relations use integer
surrogate ids. Dates and times are *business-local* (naive, in the configured business time zone,
see :mod:`tillage.store.timezone`): 08:00 JST on 1 April is stored as 2024-04-01 08:00 and falls
in April whatever the server's clock says.

Amounts are in the company (reporting) currency, ``Settings.currency``: an import converts every
amount given in another currency (:mod:`tillage.ingest.currency`) and keeps on the row the
currency the source gave (``source_currency``) and the rate applied (``fx_rate``, reporting units
per source unit), so the source amount is ``amount / fx_rate``. ``currency`` is the currency of
the stored amounts. ``recurring_amount`` is per month.

The tables tillage writes itself (snapshots, strategy versions, the import log, users, tokens,
the audit log) live in :mod:`tillage.store.records`, the base and shared column types in
:mod:`tillage.store.base`; both are re-exported here, so ``Base.metadata`` holds every table.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    false,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from tillage.store.base import NAMING_CONVENTION, Base, Money, account_fk, key_column
from tillage.store.records import (
    ROLES,
    AccountScore,
    ApiToken,
    AuditEntry,
    Import,
    PageCacheEntry,
    Snapshot,
    SnapshotAction,
    SnapshotDeal,
    StrategyVersion,
    User,
)
from tillage.store.work import ActionMark, Job

__all__ = [
    "CANONICAL_TABLES",
    "NAMING_CONVENTION",
    "ROLES",
    "Account",
    "AccountScore",
    "AccountTeamMember",
    "ActionMark",
    "Activity",
    "ApiToken",
    "AuditEntry",
    "Base",
    "Contact",
    "Contract",
    "Import",
    "Job",
    "Money",
    "NPSResponse",
    "Opportunity",
    "Order",
    "PageCacheEntry",
    "Product",
    "Rep",
    "Snapshot",
    "SnapshotAction",
    "SnapshotDeal",
    "StrategyVersion",
    "SuccessStory",
    "Team",
    "Ticket",
    "Usage",
    "User",
]


class Team(Base):
    """A sales team."""

    __tablename__ = "teams"
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = key_column()
    name: Mapped[str] = mapped_column(String(200))


class Rep(Base):
    """A person who sells or manages: sales rep, account manager, CSM or manager.

    ``capacity_hours`` is the selling/account time available per month (hours);
    ``hourly_cost`` is the fully loaded cost of one hour (company currency).
    """

    __tablename__ = "reps"
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = key_column()
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    role: Mapped[str] = mapped_column(String(20), server_default="rep")  # rep | manager
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"), index=True)
    manager_id: Mapped[int | None] = mapped_column(ForeignKey("reps.id"))
    capacity_hours: Mapped[float] = mapped_column(Float, server_default="120")
    hourly_cost: Mapped[float] = mapped_column(Money, server_default="6000")
    hired_on: Mapped[dt.date | None] = mapped_column(Date)
    left_on: Mapped[dt.date | None] = mapped_column(Date)


class Account(Base):
    """A customer account (a company). ``customer_since`` is the first contract or order date.

    ``parent_account_id`` is the account's parent in its corporate group (企業グループ): a
    subsidiary points at its parent company, a group's top company at nothing.
    """

    __tablename__ = "accounts"
    __table_args__ = (
        # the ids of a manager's or rep's own accounts from the index alone (store/access)
        Index("ix_accounts_owner_account", "owner_id", "id"),
        # the account list sorted by name, walked in order (services/listing)
        Index("ix_accounts_name_id", "name", "id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = key_column()
    name: Mapped[str] = mapped_column(String(300))
    industry: Mapped[str | None] = mapped_column(String(100))
    employees: Mapped[int | None] = mapped_column(Integer)
    region: Mapped[str | None] = mapped_column(String(100))
    country: Mapped[str | None] = mapped_column(String(2))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("reps.id"), index=True)
    customer_since: Mapped[dt.date | None] = mapped_column(Date)
    acquisition_cost: Mapped[float | None] = mapped_column(Money)
    currency: Mapped[str | None] = mapped_column(String(3))
    source_currency: Mapped[str | None] = mapped_column(String(3))
    fx_rate: Mapped[float | None] = mapped_column(Float)
    parent_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"), index=True)


# the account search (a substring of the name or key in any case, services/listing) through
# trigram indexes on PostgreSQL (pg_trgm, migration 0011); SQLite scans
for _column in ("name", "key"):
    Index(
        f"ix_accounts_{_column}_trgm",
        func.lower(getattr(Account, _column)).label(f"{_column}_lower"),
        postgresql_using="gin",
        postgresql_ops={f"{_column}_lower": "gin_trgm_ops"},
    ).ddl_if(dialect="postgresql")


class AccountTeamMember(Base):
    """A rep on an account's team besides the owner (e.g. a CSM, an overlay specialist)."""

    __tablename__ = "account_team_members"
    __table_args__ = (
        UniqueConstraint("account_id", "rep_id"),
        Index("ix_account_team_members_rep_account", "rep_id", "account_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = account_fk()
    rep_id: Mapped[int] = mapped_column(ForeignKey("reps.id"), index=True)
    role: Mapped[str | None] = mapped_column(String(50))


class Contact(Base):
    """A person at a customer account."""

    __tablename__ = "contacts"
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = key_column()
    account_id: Mapped[int] = account_fk()
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    title: Mapped[str | None] = mapped_column(String(200))
    department: Mapped[str | None] = mapped_column(String(100))
    is_decision_maker: Mapped[bool] = mapped_column(Boolean, server_default=false())


class Product(Base):
    """A product or service. ``successor_id`` points at the product that replaces this one."""

    __tablename__ = "products"
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = key_column()
    name: Mapped[str] = mapped_column(String(200))
    family: Mapped[str | None] = mapped_column(String(100))
    list_price: Mapped[float | None] = mapped_column(Money)
    is_recurring: Mapped[bool] = mapped_column(Boolean, server_default=false())
    successor_id: Mapped[int | None] = mapped_column(ForeignKey("products.id"))


class Contract(Base):
    """A recurring contract term. A renewal is a new row whose ``renewed_from_id`` is the old one.

    ``recurring_amount`` is the monthly recurring revenue (MRR) of the term; ``term_months`` its
    length; ``status`` one of active | renewed | churned | expired.
    """

    __tablename__ = "contracts"
    # the renewals calendar asks, per contract, whether a renewal term names it: without this
    # index SQLite scans every contract for each one (346,000 contracts at 100k accounts)
    __table_args__ = (Index("ix_contracts_renewed_from_id", "renewed_from_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = key_column()
    account_id: Mapped[int] = account_fk()
    product_id: Mapped[int | None] = mapped_column(ForeignKey("products.id"))
    start_date: Mapped[dt.date] = mapped_column(Date)
    end_date: Mapped[dt.date] = mapped_column(Date)
    term_months: Mapped[int] = mapped_column(Integer)
    recurring_amount: Mapped[float] = mapped_column(Money)
    currency: Mapped[str | None] = mapped_column(String(3))
    source_currency: Mapped[str | None] = mapped_column(String(3))
    fx_rate: Mapped[float | None] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(20))
    renewed_from_id: Mapped[int | None] = mapped_column(ForeignKey("contracts.id"))


class Order(Base):
    """An order line: one product on one order. ``order_number`` groups lines of one order."""

    __tablename__ = "orders"
    __table_args__ = (Index("ix_orders_account_date", "account_id", "order_date"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = key_column()
    order_number: Mapped[str] = mapped_column(String(64))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    product_id: Mapped[int | None] = mapped_column(ForeignKey("products.id"))
    order_date: Mapped[dt.date] = mapped_column(Date)
    quantity: Mapped[float] = mapped_column(Float, server_default="1")
    amount: Mapped[float] = mapped_column(Money)
    margin: Mapped[float | None] = mapped_column(Money)
    currency: Mapped[str | None] = mapped_column(String(3))
    source_currency: Mapped[str | None] = mapped_column(String(3))
    fx_rate: Mapped[float | None] = mapped_column(Float)


class Opportunity(Base):
    """A deal: ``type`` new | upsell | cross_sell | renewal; ``probability`` the CRM's (0–1)."""

    __tablename__ = "opportunities"
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = key_column()
    account_id: Mapped[int] = account_fk()
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("reps.id"), index=True)
    product_id: Mapped[int | None] = mapped_column(ForeignKey("products.id"))
    name: Mapped[str | None] = mapped_column(String(300))
    type: Mapped[str] = mapped_column(String(20))
    stage: Mapped[str] = mapped_column(String(50))
    amount: Mapped[float | None] = mapped_column(Money)
    currency: Mapped[str | None] = mapped_column(String(3))
    source_currency: Mapped[str | None] = mapped_column(String(3))
    fx_rate: Mapped[float | None] = mapped_column(Float)
    probability: Mapped[float | None] = mapped_column(Float)
    created_date: Mapped[dt.date] = mapped_column(Date)
    close_date: Mapped[dt.date | None] = mapped_column(Date)
    is_closed: Mapped[bool] = mapped_column(Boolean, server_default=false())
    is_won: Mapped[bool] = mapped_column(Boolean, server_default=false())
    competitor: Mapped[str | None] = mapped_column(String(200))


class Activity(Base):
    """A touch: meeting | call | email | visit | qbr, by a rep, with a contact, at a local time."""

    __tablename__ = "activities"
    # type, contact and rep in the index too: the renewal covariates read them per account and
    # time from the index alone on PostgreSQL (migration 0012); a rep's activities of a period
    # (the 1on1 agenda) from the second (migration 0015)
    __table_args__ = (
        Index(
            "ix_activities_account_time",
            "account_id",
            "occurred_at",
            "type",
            "contact_id",
            "rep_id",
        ),
        Index(
            "ix_activities_rep_time",
            "rep_id",
            "occurred_at",
            "account_id",
            "type",
            "duration_minutes",
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = key_column()
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    rep_id: Mapped[int | None] = mapped_column(ForeignKey("reps.id"), index=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"))
    type: Mapped[str] = mapped_column(String(20))
    occurred_at: Mapped[dt.datetime] = mapped_column(DateTime)
    duration_minutes: Mapped[float | None] = mapped_column(Float)
    subject: Mapped[str | None] = mapped_column(String(300))


class Ticket(Base):
    """A support case. ``severity`` 1 (critical) … 4 (low); ``satisfaction`` 1–5 when rated."""

    __tablename__ = "tickets"
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = key_column()
    account_id: Mapped[int] = account_fk()
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"))
    opened_at: Mapped[dt.datetime] = mapped_column(DateTime)
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    severity: Mapped[int | None] = mapped_column(Integer)
    satisfaction: Mapped[float | None] = mapped_column(Float)
    subject: Mapped[str | None] = mapped_column(String(300))


class NPSResponse(Base):
    """A Net Promoter Score answer, 0–10."""

    __tablename__ = "nps_responses"
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = key_column()
    account_id: Mapped[int] = account_fk()
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"))
    responded_on: Mapped[dt.date] = mapped_column(Date)
    score: Mapped[int] = mapped_column(Integer)


class Usage(Base):
    """A product-usage measurement: (account, date, metric) is the natural key."""

    __tablename__ = "usage"
    __table_args__ = (UniqueConstraint("account_id", "date", "metric"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    date: Mapped[dt.date] = mapped_column(Date)
    metric: Mapped[str] = mapped_column(String(100))
    value: Mapped[float] = mapped_column(Float)


class SuccessStory(Base):
    """A published customer success story (case study)."""

    __tablename__ = "success_stories"
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = key_column()
    account_id: Mapped[int] = account_fk()
    rep_id: Mapped[int | None] = mapped_column(ForeignKey("reps.id"))
    published_on: Mapped[dt.date] = mapped_column(Date)
    title: Mapped[str | None] = mapped_column(String(300))


CANONICAL_TABLES: tuple[str, ...] = (
    "teams",
    "reps",
    "accounts",
    "account_team_members",
    "contacts",
    "products",
    "contracts",
    "orders",
    "opportunities",
    "activities",
    "tickets",
    "nps_responses",
    "usage",
    "success_stories",
)
"""Source-data tables in dependency order (a table only references tables before it)."""
