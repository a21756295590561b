"""listing index: account_scores by snapshot, LTV and account (the default account listing)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25 15:20:00.000000
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("account_scores", schema=None) as batch_op:
        batch_op.create_index(
            "ix_account_scores_snapshot_ltv", ["snapshot_id", "ltv", "account_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("account_scores", schema=None) as batch_op:
        batch_op.drop_index("ix_account_scores_snapshot_ltv")
