"""clarification review note (why duty staff rejected a clarification)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 16:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('clarifications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('review_note', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('clarifications', schema=None) as batch_op:
        batch_op.drop_column('review_note')
