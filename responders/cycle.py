"""One turn of the responders' clock: route new events, close cases from portal replies, escalate.

Each step runs in its own transaction and a failing step is logged without
stopping the others, so one bad event cannot stall escalation.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.orm import Session, sessionmaker

from monitor.store.database import session_scope
from playbooks.members import Members
from playbooks.schema import Playbook
from responders.escalation import run_escalations
from responders.intake import process_recent
from responders.messages import Templates
from responders.portal import apply_portal_replies

log = logging.getLogger(__name__)


@dataclass
class CycleReport:
    routed_events: int = 0
    opened_cases: int = 0
    portal_replies: int = 0
    escalations: int = 0
    errors: list[str] = field(default_factory=list)


def _step(report: CycleReport, name: str, sessions: sessionmaker[Session], fn: Callable[[Session], None]) -> None:
    try:
        with session_scope(sessions) as session:
            fn(session)
    except Exception as exc:
        log.exception("responders: %s failed", name)
        report.errors.append(f"{name}: {exc}")


def run_cycle(sessions: sessionmaker[Session], playbook: Playbook, members: Members, templates: Templates,
              now: dt.datetime, since: dt.datetime) -> CycleReport:
    """Route events seen since *since*, apply portal replies, then escalate, all at *now*."""
    report = CycleReport()

    def intake(session: Session) -> None:
        results = process_recent(session, playbook, members, templates, now, since)
        report.routed_events = sum(1 for r in results if r.opened)
        report.opened_cases = sum(len(r.opened) for r in results)

    def portal(session: Session) -> None:
        report.portal_replies = apply_portal_replies(session, now)

    def escalate(session: Session) -> None:
        report.escalations = run_escalations(session, members, templates, now)

    _step(report, "routing", sessions, intake)
    _step(report, "portal replies", sessions, portal)
    _step(report, "escalation", sessions, escalate)
    return report
