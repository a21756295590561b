"""snapshot strategy: forecast, risk and portfolio columns on account_scores;
planned actions, scored deals and strategy versions

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 14:35:39.653751
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "strategy_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("comment", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_strategy_versions_created_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_strategy_versions")),
    )
    with op.batch_alter_table("strategy_versions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_strategy_versions_sha256"), ["sha256"], unique=False)

    op.create_table(
        "snapshot_actions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("snapshot_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("rep_id", sa.Integer(), nullable=True),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("hours", sa.Float(), nullable=False),
        sa.Column(
            "expected_uplift", sa.Numeric(precision=18, scale=2, asdecimal=False), nullable=False
        ),
        sa.Column("must_do", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("products", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_snapshot_actions_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["rep_id"], ["reps.id"], name=op.f("fk_snapshot_actions_rep_id_reps")
        ),
        sa.ForeignKeyConstraint(
            ["snapshot_id"],
            ["snapshots.id"],
            name=op.f("fk_snapshot_actions_snapshot_id_snapshots"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_snapshot_actions")),
    )
    with op.batch_alter_table("snapshot_actions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_snapshot_actions_account_id"), ["account_id"], unique=False
        )
        batch_op.create_index(
            "ix_snapshot_actions_snapshot_rep", ["snapshot_id", "rep_id"], unique=False
        )

    op.create_table(
        "snapshot_deals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("snapshot_id", sa.Integer(), nullable=False),
        sa.Column("opportunity_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("amount", sa.Numeric(precision=18, scale=2, asdecimal=False), nullable=True),
        sa.Column("win_probability", sa.Float(), nullable=True),
        sa.Column(
            "expected_value", sa.Numeric(precision=18, scale=2, asdecimal=False), nullable=True
        ),
        sa.Column("zone", sa.String(length=10), nullable=True),
        sa.Column("p_zone", sa.Float(), nullable=True),
        sa.Column("borderline", sa.Boolean(), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_snapshot_deals_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["opportunity_id"],
            ["opportunities.id"],
            name=op.f("fk_snapshot_deals_opportunity_id_opportunities"),
        ),
        sa.ForeignKeyConstraint(
            ["snapshot_id"],
            ["snapshots.id"],
            name=op.f("fk_snapshot_deals_snapshot_id_snapshots"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_snapshot_deals")),
        sa.UniqueConstraint(
            "snapshot_id", "opportunity_id", name=op.f("uq_snapshot_deals_snapshot_id")
        ),
    )
    with op.batch_alter_table("snapshot_deals", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_snapshot_deals_account_id"), ["account_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_snapshot_deals_snapshot_id"), ["snapshot_id"], unique=False
        )

    with op.batch_alter_table("account_scores", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "expected_revenue",
                sa.Numeric(precision=18, scale=2, asdecimal=False),
                nullable=True,
            )
        )
        batch_op.add_column(sa.Column("p_alive", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("rep_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("days_to_renewal", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("p_cell", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("borderline", sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column("key_person_risk", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("single_threaded", sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column("silent_churn", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("signals", sa.JSON(), nullable=True))
        batch_op.create_index(batch_op.f("ix_account_scores_rep_id"), ["rep_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_account_scores_rep_id_reps"), "reps", ["rep_id"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("account_scores", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_account_scores_rep_id_reps"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_account_scores_rep_id"))
        batch_op.drop_column("signals")
        batch_op.drop_column("silent_churn")
        batch_op.drop_column("single_threaded")
        batch_op.drop_column("key_person_risk")
        batch_op.drop_column("borderline")
        batch_op.drop_column("p_cell")
        batch_op.drop_column("days_to_renewal")
        batch_op.drop_column("rep_id")
        batch_op.drop_column("p_alive")
        batch_op.drop_column("expected_revenue")

    with op.batch_alter_table("snapshot_deals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_snapshot_deals_snapshot_id"))
        batch_op.drop_index(batch_op.f("ix_snapshot_deals_account_id"))

    op.drop_table("snapshot_deals")
    with op.batch_alter_table("snapshot_actions", schema=None) as batch_op:
        batch_op.drop_index("ix_snapshot_actions_snapshot_rep")
        batch_op.drop_index(batch_op.f("ix_snapshot_actions_account_id"))

    op.drop_table("snapshot_actions")
    with op.batch_alter_table("strategy_versions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_strategy_versions_sha256"))

    op.drop_table("strategy_versions")
