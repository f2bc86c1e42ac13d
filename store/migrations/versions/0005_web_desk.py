"""the web desk: sign-in password hashes; indexes for its event and case lists

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07 16:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import store.types

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'desk_passwords',
        sa.Column('login', sa.String(length=64), nullable=False),
        sa.Column('password_hash', sa.Text(), nullable=False),
        sa.Column('set_at', store.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('login'),
    )
    op.create_index('ix_events_last_seen_at', 'events', ['last_seen_at'])
    op.create_index('ix_assignments_state', 'assignments', ['state'])


def downgrade() -> None:
    op.drop_index('ix_assignments_state', table_name='assignments')
    op.drop_index('ix_events_last_seen_at', table_name='events')
    op.drop_table('desk_passwords')
