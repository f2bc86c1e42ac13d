"""Every table, grouped by the stage that owns it, and the rules that span them.

* ``store/monitor_tables.py`` — monitor: sources, items, item changes, events, reprints.
* ``store/case_tables.py`` — responders: units, cases and their audit rows, 会商, clarifications.
* ``store/ledger_tables.py`` — responders: the points ledger, submissions and their audit rows, the digest.
* ``store/delivery_tables.py`` — responders: the outbox and the report schedule.
* ``store/desk_tables.py`` — the web desk: password hashes.
* ``store/cluster_tables.py`` — the cluster (``yuqing worker``): dead letters of tasks that kept failing.

Import tables from here; the grouping says who writes a table, not who may read it. Timestamps are
UTC-aware (:class:`~store.types.UTCDateTime`); JSON columns hold raw payloads and policy snapshots.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from store.base import Base
from store.case_tables import Case, CaseAudit, Clarification, Consultation, Department
from store.cluster_tables import DeadLetter
from store.delivery_tables import OutboxMessage, ScheduledReport
from store.desk_tables import DeskPassword
from store.errors import AuditRowImmutable
from store.ledger_tables import DigestEntry, PointsEntry, Submission, SubmissionAudit
from store.monitor_tables import Event, Item, ItemChange, Reprint, Source

__all__ = [
    "AuditRowImmutable", "Base", "Case", "CaseAudit", "Clarification", "Consultation", "DeadLetter", "Department",
    "DeskPassword",
    "DigestEntry", "Event", "Item", "ItemChange", "OutboxMessage", "PointsEntry", "Reprint", "ScheduledReport",
    "Source", "Submission", "SubmissionAudit",
]


@event.listens_for(Session, "before_flush")
def _audit_rows_are_append_only(session: Session, _ctx: Any, _instances: Any) -> None:
    for obj in (*session.dirty, *session.deleted):
        if isinstance(obj, (CaseAudit, SubmissionAudit)) and (obj in session.deleted or session.is_modified(obj)):
            raise AuditRowImmutable(f"audit row {type(obj).__name__} {obj.id} is append-only")
