"""visibility indexes: accounts by owner and account, account-team rows by rep and account (the
manager's and rep's account filter reads the ids of their accounts from these indexes alone);
accounts by name and id (the account list sorted by name walks it and stops at the page)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 19:40:00.000000
"""

from __future__ import annotations

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.create_index("ix_accounts_owner_account", ["owner_id", "id"], unique=False)
        batch_op.create_index("ix_accounts_name_id", ["name", "id"], unique=False)
    with op.batch_alter_table("account_team_members", schema=None) as batch_op:
        batch_op.create_index(
            "ix_account_team_members_rep_account", ["rep_id", "account_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("account_team_members", schema=None) as batch_op:
        batch_op.drop_index("ix_account_team_members_rep_account")
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_index("ix_accounts_name_id")
        batch_op.drop_index("ix_accounts_owner_account")
