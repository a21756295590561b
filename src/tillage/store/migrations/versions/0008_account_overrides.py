"""manual overrides: ``account_overrides`` (an account's cell or priority pinned with a reason and
an expiry) and the computed values kept beside an overridden score
(``account_scores.computed_segment``, ``computed_priority``)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 14:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "account_overrides",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("field", sa.String(length=20), nullable=False),
        sa.Column("cell", sa.String(length=20), nullable=True),
        sa.Column("priority", sa.Float(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_by_login", sa.String(length=320), nullable=False),
        sa.Column("cleared_at", sa.DateTime(), nullable=True),
        sa.Column("cleared_by_login", sa.String(length=320), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_account_overrides_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
            name=op.f("fk_account_overrides_created_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_overrides")),
    )
    with op.batch_alter_table("account_overrides", schema=None) as batch_op:
        batch_op.create_index(
            "ix_account_overrides_account_field", ["account_id", "field"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_account_overrides_account_id"), ["account_id"], unique=False
        )
    with op.batch_alter_table("account_scores", schema=None) as batch_op:
        batch_op.add_column(sa.Column("computed_segment", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("computed_priority", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("account_scores", schema=None) as batch_op:
        batch_op.drop_column("computed_priority")
        batch_op.drop_column("computed_segment")
    with op.batch_alter_table("account_overrides", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_account_overrides_account_id"))
        batch_op.drop_index("ix_account_overrides_account_field")
    op.drop_table("account_overrides")
