"""What tillage itself records beside the source data: scoring snapshots (scores, scored
deals, planned actions), saved strategy versions, the import log, users, API tokens and the
audit log. Amounts are in the company currency; times of security events in UTC.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from tillage.store.base import Base, Money, account_fk


class Snapshot(Base):
    """One scoring run, immutable once ``status`` is 'complete'.

    ``as_of`` is the business date the scores describe; ``strategy_hash`` the SHA-256 of the
    strategy file used; ``models`` the model versions and fitted parameters.
    """

    __tablename__ = "snapshots"
    id: Mapped[int] = mapped_column(primary_key=True)
    as_of: Mapped[dt.date] = mapped_column(Date, index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    status: Mapped[str] = mapped_column(String(20), server_default="complete")
    label: Mapped[str | None] = mapped_column(String(200))
    strategy_hash: Mapped[str | None] = mapped_column(String(64))
    models: Mapped[dict | None] = mapped_column(JSON)


class AccountScore(Base):
    """An account's scores in one snapshot. Amounts in company currency; ``tenure_months`` months.

    ``ltv``/``ltv_low``/``ltv_high`` are the point estimate and the interval bounds;
    ``reasons`` a list of reason codes with their values, rendered in the user's language.
    """

    __tablename__ = "account_scores"
    __table_args__ = (
        UniqueConstraint("snapshot_id", "account_id"),
        # serves the default listing (a snapshot by LTV, ties by account) without sorting
        Index("ix_account_scores_snapshot_ltv", "snapshot_id", "ltv", "account_id"),
        Index("ix_account_scores_snapshot_revenue", "snapshot_id", "revenue_12m", "account_id"),
        # the nullable sorts list missing values last (DESC NULLS LAST), which only
        # PostgreSQL can declare in an index; SQLite sorts the few rows it holds
        Index(
            "ix_account_scores_snapshot_priority",
            "snapshot_id",
            text("priority DESC NULLS LAST"),
            text("account_id DESC"),
        ).ddl_if(dialect="postgresql"),
        Index(
            "ix_account_scores_snapshot_churn",
            "snapshot_id",
            text("churn_risk DESC NULLS LAST"),
            text("account_id DESC"),
        ).ddl_if(dialect="postgresql"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    snapshot_id: Mapped[int] = mapped_column(
        ForeignKey("snapshots.id", ondelete="CASCADE"), index=True
    )
    account_id: Mapped[int] = account_fk()
    revenue_12m: Mapped[float] = mapped_column(Money, server_default="0")
    tenure_months: Mapped[float] = mapped_column(Float, server_default="0")
    ltv: Mapped[float] = mapped_column(Money, server_default="0")
    ltv_low: Mapped[float | None] = mapped_column(Money)
    ltv_high: Mapped[float | None] = mapped_column(Money)
    churn_risk: Mapped[float | None] = mapped_column(Float)
    growth: Mapped[float | None] = mapped_column(Money)
    priority: Mapped[float | None] = mapped_column(Float)
    zone: Mapped[str | None] = mapped_column(String(10))
    segment: Mapped[str | None] = mapped_column(String(20))
    reasons: Mapped[list | None] = mapped_column(JSON)
    detail: Mapped[str | None] = mapped_column(Text)
    # the forecast the review checks later: revenue expected over the 12 months after ``as_of``
    # (company currency) and P(alive) of the non-contractual orders at ``as_of``
    expected_revenue: Mapped[float | None] = mapped_column(Money)
    p_alive: Mapped[float | None] = mapped_column(Float)
    # the owner when scored (history, plan execution and diffs survive an owner change)
    rep_id: Mapped[int | None] = mapped_column(ForeignKey("reps.id"), index=True)
    days_to_renewal: Mapped[int | None] = mapped_column(Integer)
    # value × growth cell (``segment``): P(the account truly belongs there), flagged when low
    p_cell: Mapped[float | None] = mapped_column(Float)
    borderline: Mapped[bool | None] = mapped_column(Boolean)
    # organisational risk: key-person dependency (0–1), single-threaded flag, silent churn (0–1)
    key_person_risk: Mapped[float | None] = mapped_column(Float)
    single_threaded: Mapped[bool | None] = mapped_column(Boolean)
    silent_churn: Mapped[float | None] = mapped_column(Float)
    signals: Mapped[list | None] = mapped_column(JSON)
    # a manual override in force pinned ``segment`` / ``priority``: the values computed beside
    # them (null when not overridden; :mod:`tillage.store.overrides`)
    computed_segment: Mapped[str | None] = mapped_column(String(20))
    computed_priority: Mapped[float | None] = mapped_column(Float)


class SnapshotAction(Base):
    """A planned action in a snapshot's account plans: ``hours`` of ``rep_id``'s ``month``.

    ``expected_uplift`` is the expected LTV gain in company currency; ``must_do`` marks actions
    forced by a capacity rule (e.g. a renewal inside N days); ``products`` the suggested products
    of an upsell / cross-sell proposal.
    """

    __tablename__ = "snapshot_actions"
    __table_args__ = (Index("ix_snapshot_actions_snapshot_rep", "snapshot_id", "rep_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    snapshot_id: Mapped[int] = mapped_column(ForeignKey("snapshots.id", ondelete="CASCADE"))
    account_id: Mapped[int] = account_fk()
    rep_id: Mapped[int | None] = mapped_column(ForeignKey("reps.id"))
    month: Mapped[dt.date] = mapped_column(Date)
    action: Mapped[str] = mapped_column(String(40))
    hours: Mapped[float] = mapped_column(Float)
    expected_uplift: Mapped[float] = mapped_column(Money)
    must_do: Mapped[bool] = mapped_column(Boolean, server_default=false())
    products: Mapped[list | None] = mapped_column(JSON)


class SnapshotDeal(Base):
    """An open deal scored in a snapshot: win probability and its A / B / C zone.

    ``amount`` and ``expected_value`` (= amount × win_probability) in company currency;
    ``p_zone`` is P(the deal truly belongs in ``zone``), ``borderline`` flags a low one.
    """

    __tablename__ = "snapshot_deals"
    __table_args__ = (UniqueConstraint("snapshot_id", "opportunity_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    snapshot_id: Mapped[int] = mapped_column(
        ForeignKey("snapshots.id", ondelete="CASCADE"), index=True
    )
    opportunity_id: Mapped[int] = mapped_column(ForeignKey("opportunities.id"))
    account_id: Mapped[int] = account_fk()
    amount: Mapped[float | None] = mapped_column(Money)
    win_probability: Mapped[float | None] = mapped_column(Float)
    expected_value: Mapped[float | None] = mapped_column(Money)
    zone: Mapped[str | None] = mapped_column(String(10))
    p_zone: Mapped[float | None] = mapped_column(Float)
    borderline: Mapped[bool | None] = mapped_column(Boolean)


class StrategyVersion(Base):
    """A saved version of the strategy file (TOML text), newest id wins; the edit history.

    ``sha256`` is the hash of ``text`` (what a snapshot's ``strategy_hash`` refers to);
    ``created_by`` the user who saved it (None for the command line).
    """

    __tablename__ = "strategy_versions"
    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    text: Mapped[str] = mapped_column(Text)
    comment: Mapped[str | None] = mapped_column(String(500))


class Import(Base):
    """One run of ``tillage import``: who imported what, when, and what it changed.

    ``checksum`` is the SHA-256 of the source bytes (of every file, in name order, for a
    folder); ``rows_rejected`` counts rows skipped with a warning (errors block the import, so a
    recorded import never has rejected rows with errors).
    """

    __tablename__ = "imports"
    id: Mapped[int] = mapped_column(primary_key=True)
    imported_at: Mapped[dt.datetime] = mapped_column(DateTime, index=True)
    imported_by: Mapped[str | None] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(500))
    format: Mapped[str] = mapped_column(String(20))
    mapping: Mapped[str | None] = mapped_column(String(200))
    checksum: Mapped[str] = mapped_column(String(64), index=True)
    rows_read: Mapped[int] = mapped_column(Integer)
    rows_inserted: Mapped[int] = mapped_column(Integer)
    rows_updated: Mapped[int] = mapped_column(Integer)
    rows_unchanged: Mapped[int] = mapped_column(Integer)
    rows_rejected: Mapped[int] = mapped_column(Integer)
    tables: Mapped[dict | None] = mapped_column(JSON)
    warnings: Mapped[int] = mapped_column(Integer, server_default="0")


class User(Base):
    """A person who logs in to the dashboard or the API.

    ``role`` is ``admin``, ``manager`` or ``rep``. Managers and reps are linked to their row in
    ``reps`` by the rep's natural key (``rep_key``), so the link survives a re-import of the reps.
    ``password_hash`` is an argon2 hash (never the password); ``session_epoch`` is increased on
    logout, password change and disabling, which invalidates every session cookie issued before.
    Times are UTC.
    """

    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    login: Mapped[str] = mapped_column(String(320), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    rep_key: Mapped[str | None] = mapped_column(String(128), index=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    disabled: Mapped[bool] = mapped_column(Boolean, server_default=false())
    session_epoch: Mapped[int] = mapped_column(Integer, server_default="0")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class ApiToken(Base):
    """A bearer token for machines. Only the SHA-256 of the token is stored; ``prefix`` (its
    first characters) identifies it in listings. ``scopes`` is a space-separated subset of
    ``read write admin``. Times are UTC; a revoked or expired token is refused.
    """

    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    prefix: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    expires_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class AuditEntry(Base):
    """One security-relevant event: who (user id and login as typed), when (UTC), from where
    (client address), what (``action`` such as ``login.failed``), on which object, and details.
    """

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_action_at", "action", "at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    actor: Mapped[str | None] = mapped_column(String(320))
    client: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(50))
    object_type: Mapped[str | None] = mapped_column(String(50))
    object_id: Mapped[str | None] = mapped_column(String(128))
    detail: Mapped[dict | None] = mapped_column(JSON)


class AccountOverride(Base):
    """One manual override: ``field`` (``cell`` or ``priority``) of ``account_id`` pinned to
    ``cell`` or ``priority`` until ``expires_on`` (included), for ``reason``; who set it and
    when (UTC); ``cleared_at`` / ``cleared_by`` once cleared."""

    __tablename__ = "account_overrides"
    __table_args__ = (Index("ix_account_overrides_account_field", "account_id", "field"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = account_fk()
    field: Mapped[str] = mapped_column(String(20))
    cell: Mapped[str | None] = mapped_column(String(20))
    priority: Mapped[float | None] = mapped_column(Float)
    reason: Mapped[str] = mapped_column(Text)
    expires_on: Mapped[dt.date] = mapped_column(Date)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_by_login: Mapped[str] = mapped_column(String(320))
    cleared_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    cleared_by_login: Mapped[str | None] = mapped_column(String(320))

    @property
    def value(self) -> str | float | None:
        """The pinned value: the cell's name or the priority."""
        return self.cell if self.field == "cell" else self.priority


class PageCacheEntry(Base):
    """A page's computed content for one snapshot (:mod:`tillage.store.page_cache`): ``key`` the
    SHA-256 of what the content depends on (the snapshot, the strategy version, the data marker,
    the page's parameters and the caller's reach), ``payload`` the content (JSON or Parquet
    bytes by ``kind``). Deleted with its snapshot; never a source of truth."""

    __tablename__ = "page_cache"
    id: Mapped[int] = mapped_column(primary_key=True)
    snapshot_id: Mapped[int] = mapped_column(
        ForeignKey("snapshots.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(40))
    key: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    payload: Mapped[bytes] = mapped_column(LargeBinary)


class AccountNote(Base):
    """A note on an account, shared by every user who may see the account: its text, who wrote
    it (user id, and the login as it was) and when it was written and last changed (UTC)."""

    __tablename__ = "account_notes"
    __table_args__ = (Index("ix_account_notes_account_created", "account_id", "created_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = account_fk()
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    author_login: Mapped[str] = mapped_column(String(320))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime)


ROLES: tuple[str, ...] = ("admin", "manager", "rep", "success", "marketing", "finance")
"""User roles: the sales roles, most powerful first, then customer success, marketing and
finance / executive (what each may see and do: :mod:`tillage.store.access`)."""
