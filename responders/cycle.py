"""One turn of the responders' clock: route new events, close cases from portal replies, escalate,
then close the loop: track approved clarifications and their reprints, detect the portal adopting
submitted information and track its reprints, award points (2006 §四; missed clocks are never points),
close rumour events whose clarification has covered them, and chase policy reprints.

Each step runs in its own transaction and a failing step is logged without
stopping the others, so one bad event cannot stall escalation.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.orm import Session, sessionmaker

from monitor.config import DedupeSection
from playbooks.members import Members
from playbooks.schema import Playbook
from responders import clarifications, points, policy_reminders, spread, submissions
from responders.escalation import run_escalations
from responders.intake import process_recent
from responders.messages import Templates
from responders.portal_replies import apply_portal_replies
from store.database import session_scope

log = logging.getLogger(__name__)

# Important policies stay under watch this long: their latest deadline is one working day,
# which the longest holiday (Spring Festival, National Day) stretches to about ten days.
POLICY_LOOKBACK = dt.timedelta(days=14)
# The portal adopts submitted information within days; a month covers a slow editor and a holiday.
ADOPTION_LOOKBACK = dt.timedelta(days=31)


@dataclass
class CycleReport:
    routed_events: int = 0
    opened_cases: int = 0
    portal_replies: int = 0
    escalations: int = 0
    clarification_reprints: int = 0
    adoptions_detected: int = 0
    submission_reprints: int = 0
    points_rows: int = 0
    closed_events: int = 0
    policy_reminders: int = 0
    errors: list[str] = field(default_factory=list)


def _step(report: CycleReport, name: str, sessions: sessionmaker[Session], fn: Callable[[Session], None]) -> None:
    try:
        with session_scope(sessions) as session:
            fn(session)
    except Exception as exc:
        log.exception("responders: %s failed", name)
        report.errors.append(f"{name}: {exc}")


def run_cycle(sessions: sessionmaker[Session], playbook: Playbook, members: Members, templates: Templates,
              now: dt.datetime, since: dt.datetime, dedupe: DedupeSection | None = None) -> CycleReport:
    """Route events seen since *since*, apply portal replies, escalate, then close the loop, all at *now*."""
    report = CycleReport()

    def intake(session: Session) -> None:
        results = process_recent(session, playbook, members, templates, now, since)
        report.routed_events = sum(1 for r in results if r.opened)
        report.opened_cases = sum(len(r.opened) for r in results)

    def portal(session: Session) -> None:
        report.portal_replies = apply_portal_replies(session, now, templates)

    def escalate(session: Session) -> None:
        report.escalations = run_escalations(session, members, templates, now)

    def clarification_spread(session: Session) -> None:
        results = clarifications.track_all(session, playbook, now, dedupe)
        report.clarification_reprints = sum(len(r.added) for r in results)

    def adoptions(session: Session) -> None:
        found = submissions.detect_adoptions(session, playbook, now, since=now - ADOPTION_LOOKBACK, dedupe=dedupe)
        report.adoptions_detected = len(found)
        report.submission_reprints = len(submissions.track_adopted(session, playbook, now, dedupe))

    def ledger(session: Session) -> None:
        report.points_rows = len(points.award_reprints(session, playbook, now))

    def close_covered(session: Session) -> None:
        report.closed_events = len(spread.close_answered(session, playbook, now))

    def policy_reprints(session: Session) -> None:
        chats = {key: chat for key in members.departments if (chat := members.chat_of(key)) is not None}
        alerts = policy_reminders.remind(
            session,
            playbook,
            now,
            since=now - POLICY_LOOKBACK,
            duty_chat_id=members.duty.chat_id,
            department_chats=chats,
            dedupe=dedupe,
        )
        report.policy_reminders = len(alerts)

    _step(report, "routing", sessions, intake)
    _step(report, "portal replies", sessions, portal)
    _step(report, "escalation", sessions, escalate)
    _step(report, "clarification reprints", sessions, clarification_spread)
    _step(report, "adoptions", sessions, adoptions)
    _step(report, "points", sessions, ledger)
    _step(report, "spread", sessions, close_covered)
    _step(report, "policy reprints", sessions, policy_reprints)
    return report
