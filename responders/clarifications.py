"""Clarifications: a department submits its answer, duty staff sign it off (审签), the monitor watches it spread.

2015 §三 / 2014 §四–七: false information is answered with accurate
information, reviewed and signed off before publishing. A clarification is
``submitted`` → ``approved`` (counts as published; its reach is tracked) or
``rejected`` (with the reason, so the department can resubmit). Submitting on
an open case goes through the case's own ``respond`` transition,
so its clock and audit trail stay the single source of truth.

After approval :func:`track` finds the clarification's own item (same URL,
else the first item whose text matches it) and every item carrying it (a
near-duplicate or a link), and records :class:`Reprint` rows with the
clarification id, host and weight (major 1.0 / other 0.5 by the playbook).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from monitor.carrying import Text, carries, same_url
from monitor.config import DedupeSection
from monitor.policy_carriage import item_text, item_time
from playbooks.schema import Playbook
from responders.carriers import record_carriers
from responders.cases import OPEN_STATES, Actor, State, mark_first_information, transition
from responders.errors import BadCommand, InvalidTransition, ResponderError, UnknownCase, UnknownDepartment
from responders.messages import Templates
from store.models import Case, Clarification, Event, Item, Reprint

_IN_CHUNK = 500  # URLs per IN (...) list: well inside SQLite's and PostgreSQL's parameter limits
REVIEW_LABELS = {"approve": "审签通过", "reject": "退回"}  # the two reviews, as a refusal names them


class ClarificationError(ResponderError):
    """A clarification action is not possible; the message says why."""


def _split(url_or_text: str) -> tuple[str | None, str | None]:
    value = url_or_text.strip()
    if not value:
        raise BadCommand(reply="clarification_needs_text")
    if value.startswith(("http://", "https://")) and " " not in value:
        return value, None
    return None, value


def get(session: Session, clarification_id: int) -> Clarification:
    row = session.get(Clarification, clarification_id)
    if row is None:
        raise UnknownCase(reply="no_such", kind="clarification", n=clarification_id)
    return row


def _case_for(session: Session, event: Event, department: str | None) -> Case | None:
    query = select(Case).where(Case.event_id == event.id).order_by(Case.id)
    rows = list(session.scalars(query))
    if department is not None:
        return next((a for a in rows if a.department_key == department), None)
    lead = [a for a in rows if a.role == "lead"] or rows
    return lead[0] if len(lead) == 1 else None


def submit(session: Session, target: Event | Case, department: str | None, url_or_text: str, who: Actor,
           now: dt.datetime) -> Clarification:
    """Record a department's clarification for an event or one of its cases, pending 审签."""
    url, text = _split(url_or_text)
    if isinstance(target, Case):
        case: Case | None = target
        event = target.event
    else:
        event, case = target, _case_for(session, target, department)
    if case is not None and department is not None and case.department_key != department:
        raise ClarificationError(reply="case_of_other", case=case.id, owner=case.department_key,
                                 department=department)
    if case is not None and State(case.state) in OPEN_STATES:
        transition(session, case, "respond", who, now=now, url=url, text=text, source="clarify")
    dept = department or (case.department_key if case else None)
    if dept is None:
        raise UnknownDepartment(reply="many_departments", event=event.id)
    row = Clarification(event_id=event.id, case_id=case.id if case else None, department_key=dept,
                        url=url, text=text, submitted_at=now, submitted_by=who.name)
    session.add(row)
    session.flush()
    return row


def _review(row: Clarification, action: str) -> None:
    if row.state != "submitted":
        raise InvalidTransition(row.id, REVIEW_LABELS[action], row.state, reply="only_submitted")


def approve(session: Session, clarification_id: int, who: Actor, now: dt.datetime,
            playbook: Playbook | None = None) -> Clarification:
    """Duty staff sign off (审签, with the 保密审查 the playbook requires): from now on it may be published
    and its spread is tracked. The first-information clock stops only when it is published."""
    row = get(session, clarification_id)
    _review(row, "approve")
    sign_off = playbook.sign_off if playbook is not None else None
    row.state, row.approved_at, row.approved_by = "approved", now, who.name
    row.confidentiality_reviewed = sign_off.confidentiality_review if sign_off is not None else True
    row.signed_off_as = sign_off.office if sign_off is not None else None
    session.flush()
    return row


def publish(session: Session, clarification_id: int, url: str | None, at: dt.datetime,
            playbook: Playbook) -> list[Case]:
    """Mark an approved clarification published (its URL, or the time it was seen online).

    Stops the first-information clock of every case on the event; when the lead department
    published it, the other departments' open cases are answered by the lead (联席会议: the
    lead answers, co departments join the reply), not left to go overdue. Returns the cases changed.
    """
    row = get(session, clarification_id)
    if row.state != "approved":
        raise ClarificationError(reply="not_approved", clarification=row.id, step="publish")
    if url:
        if not url.startswith(("http://", "https://")):
            raise BadCommand(reply="bad_publish_url", url=url)
        row.url = row.url or url
    if row.published_at is None:
        row.published_at = at
    changed = []
    cases = list(session.scalars(select(Case).where(Case.event_id == row.event_id)
                                 .order_by(Case.id)))
    for a in cases:
        if mark_first_information(a, row.published_at):
            changed.append(a)
    by_lead = any(a.department_key == row.department_key and a.role == "lead" for a in cases)
    if by_lead:
        for a in cases:
            if a.department_key != row.department_key and State(a.state) in OPEN_STATES:
                transition(session, a, "respond", Actor("system"), now=at, at=row.published_at,
                           url=row.url, text=Templates.of(playbook).plain("answered_by_lead", lead=row.department_key,
                                                                          clarification=row.id),
                           source=f"clarification {row.id}", answered_by=row.department_key)
                changed.append(a)
    session.flush()
    return changed


def reject(session: Session, clarification_id: int, who: Actor, reason: str, now: dt.datetime) -> Clarification:
    """Duty staff send it back with the reason (e.g. 口径不一致); the department may resubmit."""
    if not reason.strip():
        raise BadCommand(reply="reject_needs_reason")
    row = get(session, clarification_id)
    _review(row, "reject")
    row.state, row.approved_at, row.approved_by, row.review_note = "rejected", now, who.name, reason.strip()
    session.flush()
    return row


# --------------------------------------------------------------------------- tracking the spread


@dataclass(frozen=True)
class TrackResult:
    clarification_id: int
    own_item_id: int | None
    added: list[Reprint]


def _original_text(row: Clarification, own: Item | None, dedupe: DedupeSection) -> Text:
    if own is not None:
        return item_text(own, dedupe)
    return Text(row.url, row.text or "")


def find_own_item(session: Session, row: Clarification, dedupe: DedupeSection) -> Item | None:
    """The stored item that is the clarification itself: same URL, else earliest matching text."""
    since = row.submitted_at - dedupe.window
    candidates = list(session.scalars(select(Item).where(or_(Item.published_at >= since, Item.fetched_at >= since))
                                      .order_by(Item.published_at, Item.id)))
    if row.url:
        found = next((i for i in candidates if same_url(i.url, row.url)), None)
        if found is not None:
            return found
    if row.text:
        original = Text(None, row.text)
        return next((i for i in candidates if carries(original, item_text(i, dedupe), dedupe) is not None), None)
    return None


def track(session: Session, row: Clarification, playbook: Playbook, now: dt.datetime,
          dedupe: DedupeSection | None = None) -> TrackResult:
    """Record the reprints of an approved clarification seen so far (safe to repeat)."""
    dedupe = dedupe or DedupeSection()
    if row.state != "approved":
        raise ClarificationError(reply="not_approved", clarification=row.id, step="track")
    own = session.get(Item, row.item_id) if row.item_id else find_own_item(session, row, dedupe)
    if own is None:
        return TrackResult(row.id, None, [])
    row.item_id = own.id
    if row.published_at is None:  # seen online: that is when it was published
        publish(session, row.id, own.url, min(item_time(own), now), playbook)
    added = record_carriers(session, own, _original_text(row, own, dedupe), playbook, now, dedupe,
                            clarification_id=row.id)
    return TrackResult(row.id, own.id, added)


def track_all(session: Session, playbook: Playbook, now: dt.datetime,
              dedupe: DedupeSection | None = None) -> list[TrackResult]:
    """Track every approved clarification (what the service runs after each poll cycle)."""
    rows = session.scalars(select(Clarification).where(Clarification.state == "approved").order_by(Clarification.id))
    return [track(session, row, playbook, now, dedupe) for row in rows]


def of_event(session: Session, event_id: int) -> list[Clarification]:
    return list(session.scalars(select(Clarification).where(Clarification.event_id == event_id)
                                .order_by(Clarification.id)))


class ClarificationPages:
    """The monitor's :class:`monitor.annotate.ClarificationLookup`, answered from our clarifications.

    An item fetched from a page we published as a clarification (submitted or approved, not
    rejected) belongs to the event it answers and is not itself a rumour; the monitor asks this
    per batch, so it need not read this stage's table.
    """

    def answered_events(self, session: Session, urls: Collection[str]) -> dict[str, int]:
        """The event each of these URLs answers (the earliest clarification's, when several share a page)."""
        found: dict[str, int] = {}
        ordered = sorted(urls)
        for start in range(0, len(ordered), _IN_CHUNK):
            for url, event_id in session.execute(
                select(Clarification.url, Clarification.event_id)
                .where(Clarification.url.in_(ordered[start:start + _IN_CHUNK]), Clarification.state != "rejected")
                .order_by(Clarification.id)
            ):
                if url is not None:
                    found.setdefault(url, event_id)
        return found
