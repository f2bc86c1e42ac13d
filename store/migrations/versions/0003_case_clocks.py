"""case clocks from the citizen's own time; first information counted at publication; 审签 with 保密审查

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-05 17:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import store.types

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('assignments', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("clock_started_at", store.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("first_information_at", store.types.UTCDateTime(timezone=True), nullable=True)
        )
    with op.batch_alter_table("clarifications", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("confidentiality_reviewed", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("signed_off_as", sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column("published_at", store.types.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("clarifications", schema=None) as batch_op:
        batch_op.drop_column("published_at")
        batch_op.drop_column("signed_off_as")
        batch_op.drop_column("confidentiality_reviewed")
    with op.batch_alter_table("assignments", schema=None) as batch_op:
        batch_op.drop_column("first_information_at")
        batch_op.drop_column("clock_started_at")
