"""sort indexes: account_scores by snapshot and revenue, priority or churn risk (the listing's
other sorts; priority and churn risk as DESC NULLS LAST, on PostgreSQL only)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24 18:50:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

NULLABLE_SORTS = {
    "ix_account_scores_snapshot_priority": "priority",
    "ix_account_scores_snapshot_churn": "churn_risk",
}


def upgrade() -> None:
    with op.batch_alter_table("account_scores", schema=None) as batch_op:
        batch_op.create_index(
            "ix_account_scores_snapshot_revenue",
            ["snapshot_id", "revenue_12m", "account_id"],
            unique=False,
        )
    if op.get_bind().dialect.name == "postgresql":
        for name, column in NULLABLE_SORTS.items():
            op.create_index(
                name,
                "account_scores",
                [
                    "snapshot_id",
                    sa.text(f"{column} DESC NULLS LAST"),
                    sa.text("account_id DESC"),
                ],
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name in NULLABLE_SORTS:
            op.drop_index(name, table_name="account_scores")
    with op.batch_alter_table("account_scores", schema=None) as batch_op:
        batch_op.drop_index("ix_account_scores_snapshot_revenue")
