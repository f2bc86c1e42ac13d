"""Joint consultation (会商): every involved spokesperson and the duty chief agree one external line.

Opening writes a :class:`Consultation` row and messages the duty chat, each
involved department's chat and the duty chief; the line (统一口径) is recorded
by duty staff and sent to every participant. Reopening is a no-op.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from playbooks.members import Members
from responders.cases import WITHDRAWN_STATES, Actor, State, cases_of
from responders.errors import BadCommand, UnknownCase
from responders.messages import Templates
from responders.outbox import enqueue
from store.models import Consultation, Event

PARTICIPANT_LABELS = {"chief": "值班长"}  # a label (the duty chief's row among the participating departments)


def consultation_of(session: Session, event_id: int) -> Consultation | None:
    return session.scalar(select(Consultation).where(Consultation.event_id == event_id))


def _participants(session: Session, event: Event, members: Members) -> list[dict[str, Any]]:
    people = []
    for a in cases_of(session, event.id):
        if State(a.state) in WITHDRAWN_STATES:
            continue
        dept = members.departments.get(a.department_key)
        people.append({"department": a.department_key, "spokesperson": dept.spokesperson if dept else None,
                       "chat_id": dept.chat_id if dept else None})
    people.append({"department": PARTICIPANT_LABELS["chief"], "spokesperson": members.duty.chief,
                   "chat_id": members.duty.chief})
    return people


def _chats(consultation: Consultation, members: Members) -> list[int]:
    chats = {members.duty.chat_id}
    chats.update(p["chat_id"] for p in consultation.participants if p.get("chat_id") is not None)
    return sorted(chats)


def open_consultation(session: Session, event: Event, reasons: list[str] | tuple[str, ...], members: Members,
                      templates: Templates, actor: Actor, now: dt.datetime) -> tuple[Consultation, bool]:
    """Open the 会商 thread for *event* (or return the open one); the flag says whether it is new."""
    existing = consultation_of(session, event.id)
    if existing is not None:
        return existing, False
    consultation = Consultation(event_id=event.id, opened_at=now, opened_by=actor.name,
                                participants=_participants(session, event, members))
    session.add(consultation)
    session.flush()
    names = [p["department"] for p in consultation.participants]
    text = templates.render("consultation", event=event, reasons=list(reasons) or [templates.plain("consult_by_duty")],
                            participants=names)
    for chat in _chats(consultation, members):
        enqueue(session, dedupe_key=f"consultation:{event.id}:{chat}", kind="consultation", chat_id=chat,
                text=text, now=now, event_id=event.id)
    return consultation, True


def record_line(session: Session, event_id: int, line: str, members: Members, templates: Templates,
                actor: Actor, now: dt.datetime) -> Consultation:
    """Record the agreed external line and send it to every participant."""
    line = line.strip()
    if not line:
        raise BadCommand(reply="line_needs_text")
    consultation = consultation_of(session, event_id)
    if consultation is None:
        raise UnknownCase(reply="no_consultation", event=event_id)
    if consultation.agreed_line == line:
        return consultation
    consultation.agreed_line, consultation.agreed_by, consultation.agreed_at = line, actor.name, now
    event = session.get(Event, event_id)
    text = templates.render("agreed_line", event=event, line=line, agreed_by=actor.name, agreed_at=now)
    digest = hashlib.sha1(line.encode()).hexdigest()[:12]
    for chat in _chats(consultation, members):
        enqueue(session, dedupe_key=f"line:{event_id}:{digest}:{chat}", kind="consultation", chat_id=chat,
                text=text, now=now, event_id=event_id)
    return consultation
