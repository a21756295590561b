"""contracts by the term they renew: the renewals calendar's "no renewal term on file" check
reads this index instead of scanning every contract for each one (quadratic on SQLite: the
100,000-account store's /renewals did not answer in four minutes)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 00:50:00.000000
"""

from __future__ import annotations

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("contracts", schema=None) as batch_op:
        batch_op.create_index("ix_contracts_renewed_from_id", ["renewed_from_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("contracts", schema=None) as batch_op:
        batch_op.drop_index("ix_contracts_renewed_from_id")
