"""Accounts outside the demo: ``web_users.disabled_at`` and one-time guardian invitations (issue #18, part B).

Revision ID: 0006_users_invitations
Revises: 0005_guardian_app
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_users_invitations"
down_revision = "0005_guardian_app"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A nullable column without a default: SQLite adds it in place, no table copy.
    op.add_column("web_users", sa.Column("disabled_at", sa.DateTime(), nullable=True))
    op.create_table(
        "guardian_invitations",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("guardian_id", sa.String(length=40), nullable=False),
        sa.Column("username", sa.String(length=100), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("used_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_index("ix_guardian_invitations_guardian_id", "guardian_invitations", ["guardian_id"])


def downgrade() -> None:
    op.drop_index("ix_guardian_invitations_guardian_id", table_name="guardian_invitations")
    op.drop_table("guardian_invitations")
    with op.batch_alter_table("web_users") as batch:
        batch.drop_column("disabled_at")
