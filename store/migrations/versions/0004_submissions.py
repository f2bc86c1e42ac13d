"""information submission (信息报送) and adoption; digest entries credit the submitting unit

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07 14:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import store.types

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'submissions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('department_key', sa.String(length=64), nullable=False),
        sa.Column('title', sa.Text(), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('url', sa.Text(), nullable=True),
        sa.Column('attachments', sa.JSON(), nullable=False),
        sa.Column('submitted_by', sa.String(length=128), nullable=False),
        sa.Column('submitted_at', store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('adopted_at', store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column('adopted_by', sa.String(length=128), nullable=True),
        sa.Column('bonus', sa.String(length=32), nullable=True),
        sa.Column('adopted_item_id', sa.Integer(), nullable=True),
        sa.Column('decline_reason', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(['adopted_item_id'], ['items.id']),
        sa.ForeignKeyConstraint(['department_key'], ['departments.key']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_submissions_department_key', 'submissions', ['department_key'])
    op.create_index('ix_submissions_submitted_at', 'submissions', ['submitted_at'])
    op.create_table(
        'submission_events',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('submission_id', sa.Integer(), nullable=False),
        sa.Column('at', store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('actor', sa.String(length=128), nullable=False),
        sa.Column('action', sa.String(length=32), nullable=False),
        sa.Column('detail', sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(['submission_id'], ['submissions.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_submission_events_submission_id', 'submission_events', ['submission_id'])
    with op.batch_alter_table('digest_entries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('submission_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_digest_entries_submission_id', 'submissions', ['submission_id'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('digest_entries', schema=None) as batch_op:
        batch_op.drop_constraint('fk_digest_entries_submission_id', type_='foreignkey')
        batch_op.drop_column('submission_id')
    op.drop_index('ix_submission_events_submission_id', table_name='submission_events')
    op.drop_table('submission_events')
    op.drop_index('ix_submissions_submitted_at', table_name='submissions')
    op.drop_index('ix_submissions_department_key', table_name='submissions')
    op.drop_table('submissions')
