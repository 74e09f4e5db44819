"""Guardians belong to an app: ``guardians.app_id`` (a tenant boundary; issue #17, item 6).

Revision ID: 0005_guardian_app
Revises: 0004_web_sessions

Existing guardians take the app of the children already linked to them (the smallest app id, should a
guardian already span apps: the operator can see such guardians with ``app_id`` set and the link table).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_guardian_app"
down_revision = "0004_web_sessions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # No foreign key: SQLite cannot add one to an existing table, and apps are never deleted.
    op.add_column("guardians", sa.Column("app_id", sa.Integer(), nullable=True))
    op.create_index("ix_guardians_app_id", "guardians", ["app_id"])
    op.execute(
        "UPDATE guardians SET app_id = (SELECT MIN(children.app_id) FROM guardian_children "
        "JOIN children ON children.id = guardian_children.child_id "
        "WHERE guardian_children.guardian_id = guardians.id)"
    )


def downgrade() -> None:
    op.drop_index("ix_guardians_app_id", table_name="guardians")
    with op.batch_alter_table("guardians") as batch:
        batch.drop_column("app_id")
