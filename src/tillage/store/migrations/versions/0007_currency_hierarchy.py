"""currency and hierarchy: the source currency and the rate applied to every converted amount
(accounts, contracts, orders, opportunities; opportunities gain ``currency``), and the account's
parent in its corporate group (``accounts.parent_account_id``)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 10:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

CONVERTED = ("accounts", "contracts", "orders", "opportunities")


def upgrade() -> None:
    with op.batch_alter_table("opportunities", schema=None) as batch_op:
        batch_op.add_column(sa.Column("currency", sa.String(length=3), nullable=True))
    for table in CONVERTED:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("source_currency", sa.String(length=3), nullable=True))
            batch_op.add_column(sa.Column("fx_rate", sa.Float(), nullable=True))
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("parent_account_id", sa.Integer(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_accounts_parent_account_id"), ["parent_account_id"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_accounts_parent_account_id_accounts"),
            "accounts",
            ["parent_account_id"],
            ["id"],
        )


def downgrade() -> None:
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_accounts_parent_account_id_accounts"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_accounts_parent_account_id"))
        batch_op.drop_column("parent_account_id")
    for table in CONVERTED:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("fx_rate")
            batch_op.drop_column("source_currency")
    with op.batch_alter_table("opportunities", schema=None) as batch_op:
        batch_op.drop_column("currency")
