"""one name per concept: assignments → cases, their audit rows → case_audit, alerts → outbox

A department's duty on an event is a *case* everywhere (chat, commands, desk, tables), and the
table of every outgoing message (alerts, reminders, reports) is the *outbox*. Columns that point
at a case are ``case_id``; constraint and index names follow their tables; outbox rows of kind
``assignment`` become ``case``; a submission's audit rows name the action (``adopt``, not ``adopted``),
as the case audit does.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 19:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

# (old table, new table)
TABLES = (("assignments", "cases"), ("assignment_events", "case_audit"),
          ("submission_events", "submission_audit"), ("alerts", "outbox"))
# tables with a column pointing at a case (old names, new names)
CASE_COLUMNS = (("assignment_events", "case_audit"), ("alerts", "outbox"),
                ("clarifications", "clarifications"), ("points_ledger", "points_ledger"))
# (old table, old index, new table, new index, columns)
INDEXES = (
    ("assignments", "ix_assignments_department_key", "cases", "ix_cases_department_key", ["department_key"]),
    ("assignments", "ix_assignments_event_id", "cases", "ix_cases_event_id", ["event_id"]),
    ("assignments", "ix_assignments_state", "cases", "ix_cases_state", ["state"]),
    ("submission_events", "ix_submission_events_submission_id", "submission_audit",
     "ix_submission_audit_submission_id", ["submission_id"]),
    ("alerts", "ix_alerts_state_next", "outbox", "ix_outbox_state_next", ["state", "next_attempt_at"]),
)

# a submission's audit rows name the action taken, as the case audit does (old, new)
SUBMISSION_ACTIONS = (("submitted", "submit"), ("adopted", "adopt"), ("declined", "decline"),
                      ("adoption_undone", "undo_adoption"), ("published", "publish"))


def _rename_actions(table: str, pairs: tuple[tuple[str, str], ...]) -> None:
    for old, new in pairs:
        op.execute(sa.text(f"UPDATE {table} SET action = :new WHERE action = :old").bindparams(old=old, new=new))


def upgrade() -> None:
    op.drop_index("ix_assignment_events_assignment_id", table_name="assignment_events")
    for old_table, old_index, _, _, _ in INDEXES:
        op.drop_index(old_index, table_name=old_table)
    for old, new in TABLES:
        op.rename_table(old, new)
    for _, table in CASE_COLUMNS:
        with op.batch_alter_table(table) as batch:
            batch.alter_column("assignment_id", new_column_name="case_id")
    with op.batch_alter_table("cases") as batch:
        batch.drop_constraint("uq_assignments_event_dept", type_="unique")
        batch.create_unique_constraint("uq_cases_event_dept", ["event_id", "department_key"])
    for _, _, new_table, new_index, columns in INDEXES:
        op.create_index(new_index, new_table, columns)
    op.create_index("ix_case_audit_case_id", "case_audit", ["case_id"])
    _rename_actions("submission_audit", SUBMISSION_ACTIONS)
    op.execute("UPDATE outbox SET kind = 'case' WHERE kind = 'assignment'")
    op.execute("UPDATE outbox SET dedupe_key = 'case:' || substr(dedupe_key, 12) WHERE dedupe_key LIKE 'assignment:%'")


def downgrade() -> None:
    _rename_actions("submission_audit", tuple((new, old) for old, new in SUBMISSION_ACTIONS))
    op.execute("UPDATE outbox SET kind = 'assignment' WHERE kind = 'case'")
    op.execute("UPDATE outbox SET dedupe_key = 'assignment:' || substr(dedupe_key, 6) WHERE dedupe_key LIKE 'case:%'")
    op.drop_index("ix_case_audit_case_id", table_name="case_audit")
    for _, _, new_table, new_index, _ in INDEXES:
        op.drop_index(new_index, table_name=new_table)
    with op.batch_alter_table("cases") as batch:
        batch.drop_constraint("uq_cases_event_dept", type_="unique")
        batch.create_unique_constraint("uq_assignments_event_dept", ["event_id", "department_key"])
    for _, table in CASE_COLUMNS:
        with op.batch_alter_table(table) as batch:
            batch.alter_column("case_id", new_column_name="assignment_id")
    for old, new in TABLES:
        op.rename_table(new, old)
    for old_table, old_index, _, _, columns in INDEXES:
        op.create_index(old_index, old_table, columns)
    op.create_index("ix_assignment_events_assignment_id", "assignment_events", ["assignment_id"])
