"""background jobs (``jobs``: a re-score started from the Data page or the worker, its progress
and outcome) and the marks on planned actions (``action_marks``: done or skipped with a note)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 16:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("progress", sa.Float(), server_default="0", nullable=False),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=True),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("user_login", sa.String(length=320), nullable=True),
        sa.Column("runner", sa.String(length=300), nullable=True),
        sa.Column("snapshot_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_jobs_user_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jobs")),
    )
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_jobs_state"), ["state"], unique=False)
    op.create_table(
        "action_marks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("marked_at", sa.DateTime(), nullable=False),
        sa.Column("marked_by", sa.Integer(), nullable=True),
        sa.Column("marked_by_login", sa.String(length=320), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_action_marks_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["marked_by"],
            ["users.id"],
            name=op.f("fk_action_marks_marked_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_action_marks")),
        sa.UniqueConstraint(
            "account_id", "month", "action", name=op.f("uq_action_marks_account_id")
        ),
    )
    with op.batch_alter_table("action_marks", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_action_marks_account_id"), ["account_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("action_marks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_action_marks_account_id"))
    op.drop_table("action_marks")
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_jobs_state"))
    op.drop_table("jobs")
