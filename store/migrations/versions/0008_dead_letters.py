"""dead letters: Celery tasks that kept failing after their retries (yuqing sources health lists them)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 19:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import store.types

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'dead_letters',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('task', sa.String(length=128), nullable=False),
        sa.Column('task_id', sa.String(length=64), nullable=False),
        sa.Column('queue', sa.String(length=32), nullable=True),
        sa.Column('summary', sa.Text(), nullable=False),
        sa.Column('error', sa.Text(), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('failed_at', store.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('task_id'),
    )
    op.create_index('ix_dead_letters_failed_at', 'dead_letters', ['failed_at'])


def downgrade() -> None:
    op.drop_index('ix_dead_letters_failed_at', table_name='dead_letters')
    op.drop_table('dead_letters')
