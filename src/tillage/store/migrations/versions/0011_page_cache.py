"""page cache: ``page_cache`` (a page's computed content per snapshot, keyed by what it depends
on); on PostgreSQL, trigram indexes for the account search (``pg_trgm``)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 16:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

TRIGRAM_COLUMNS = ("name", "key")
"""The account columns the search reads (``lower(column) LIKE '%…%'``)."""


def upgrade() -> None:
    op.create_table(
        "page_cache",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("snapshot_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["snapshot_id"],
            ["snapshots.id"],
            name=op.f("fk_page_cache_snapshot_id_snapshots"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_page_cache")),
        sa.UniqueConstraint("key", name=op.f("uq_page_cache_key")),
    )
    with op.batch_alter_table("page_cache", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_page_cache_snapshot_id"), ["snapshot_id"])
    if op.get_bind().dialect.name == "postgresql":
        # pg_trgm is a trusted extension (PostgreSQL 13+): the database's owner may create it
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        for column in TRIGRAM_COLUMNS:
            op.create_index(
                f"ix_accounts_{column}_trgm",
                "accounts",
                [sa.text(f"lower({column}) gin_trgm_ops")],
                postgresql_using="gin",
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for column in TRIGRAM_COLUMNS:
            op.drop_index(f"ix_accounts_{column}_trgm", table_name="accounts")
    with op.batch_alter_table("page_cache", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_page_cache_snapshot_id"))
    op.drop_table("page_cache")
