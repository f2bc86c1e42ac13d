"""an index for a source's recent items: source health (yuqing sources health, the desk's /sources)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07 16:10:00
"""

from __future__ import annotations

from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_items_source_fetched_at', 'items', ['source_id', 'fetched_at'])


def downgrade() -> None:
    op.drop_index('ix_items_source_fetched_at', table_name='items')
