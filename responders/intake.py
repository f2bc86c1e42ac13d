"""From an event in the store to cases and alerts: the shell around :func:`routing.route`.

For an event hot enough to alert (heat ≥ ``heat.alert_threshold``, a rumour
verdict of 疑似谣言, or an emergency), or one holding a citizen's message to
government (a portal or hotline record: 件件有回复, every message gets an
answer within the 2015 document's working days), that the duty desk has not ignored,
:func:`process_event` opens a case per routed department, queues each
department's notice and the duty chat's alert, and opens the 会商 when
routing asks for it. Everything is keyed, so running it again on the same
event (a restart, an update) only adds what is new.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from classifiers.signals import kinds
from playbooks.members import Members
from playbooks.schema import Playbook
from responders.cases import Actor, open_from_routing
from responders.consultation import open_consultation
from responders.errors import UnknownCase
from responders.messages import Templates
from responders.outbox import enqueue
from responders.routing import RUMOUR_LIKELY, EventFacts, Routing, route, rumour_verdict
from responders.views import case_notice, duty_alert_message
from store.models import Case, Event, Item

SKIPPED_STATUSES = frozenset({"ignored", "dismissed", "closed"})
MAX_ITEMS = 50


def event_items(session: Session, event_id: int, limit: int = MAX_ITEMS) -> list[Item]:
    return list(session.scalars(
        select(Item).where(Item.event_id == event_id).order_by(Item.published_at, Item.id).limit(limit)))


CITIZEN_MESSAGE = "citizen_message"
CITIZEN_MESSAGE_KINDS = frozenset({"portal", "import"})  # messages written to government, not about it


def facts_for(event: Event, items: Iterable[Item]) -> EventFacts:
    """Routing facts from the stored event and its items."""
    items = list(items)
    signals = kinds(event.signals or [])
    if any(i.source is not None and i.source.kind in CITIZEN_MESSAGE_KINDS for i in items):
        signals += (CITIZEN_MESSAGE,)
    places = tuple(p for p in (event.places or []) if isinstance(p, str))
    return EventFacts(
        title=event.title,
        texts=tuple(f"{i.title}\n{i.text}" for i in items),
        category=event.category,
        heat=event.heat or 0.0,
        rumour_probability=event.rumour_probability,
        is_emergency=bool(event.is_emergency),
        places=places,
        signals=signals,
        reach=sum((i.reposts or 0) + (i.comments or 0) for i in items),
    )


def deserves_alert(facts: EventFacts, playbook: Playbook) -> bool:
    return (
        facts.heat >= playbook.heat.alert_threshold
        or rumour_verdict(facts.rumour_probability, playbook, facts.signals) == RUMOUR_LIKELY
        or facts.is_emergency
        or CITIZEN_MESSAGE in facts.signals
    )


@dataclass
class IntakeResult:
    routed: bool = False
    opened: list[int] = field(default_factory=list)
    consultation_opened: bool = False


def top_terms(items: Iterable[Item], n: int = 6) -> list[str]:
    counts: Counter[str] = Counter()
    for item in items:
        counts.update(str(w) for w in (item.why or []) if w)
    return [w for w, _ in counts.most_common(n)]


def notify_case(session: Session, a: Case, members: Members, templates: Templates,
                playbook_links: list[str], now: dt.datetime, excerpt: str = "") -> None:
    """Queue the department's notice (to the duty chat when it has no chat of its own)."""
    chat = members.chat_of(a.department_key) or members.duty.chat_id
    text, buttons = case_notice(session, a, templates, links=playbook_links, excerpt=excerpt)
    enqueue(session, dedupe_key=f"case:{a.id}:notice", kind="case", chat_id=chat, text=text,
            buttons=buttons, now=now, event_id=a.event_id, case_id=a.id)


def process_event(session: Session, event: Event, playbook: Playbook, members: Members, templates: Templates,
                  now: dt.datetime, *, force: bool = False) -> IntakeResult:
    """Route *event* if it deserves it (or if *force*, for 指派/确认 by the duty desk)."""
    result = IntakeResult()
    if event.status in SKIPPED_STATUSES and not force:
        return result
    items = event_items(session, event.id)
    facts = facts_for(event, items)
    if not force and not deserves_alert(facts, playbook):
        return result
    routing = route(facts, playbook)
    opened = open_from_routing(session, event, routing, playbook, now=now)
    result.routed = True
    result.opened = [a.id for a in opened]
    links = [i.url for i in items if i.url][:3]
    excerpt = next((i.text for i in items if i.text), "")
    for a in opened:
        notify_case(session, a, members, templates, links, now, excerpt)
    if opened:
        _alert_duty(session, event, routing, items, members, templates, now, key=min(result.opened))
    if routing.consult:
        _, result.consultation_opened = open_consultation(
            session, event, routing.consult_reasons, members, templates, Actor.system(), now)
    return result


def _alert_duty(session: Session, event: Event, routing: Routing, items: list[Item], members: Members,
                templates: Templates, now: dt.datetime, key: int) -> None:
    text, buttons = duty_alert_message(
        session, event, templates, verdict=routing.rumour_verdict, category=routing.category,
        terms=top_terms(items), links=[i.url for i in items if i.url][:3],
        excerpt=next((i.text for i in items if i.text), ""), consult_reasons=list(routing.consult_reasons))
    enqueue(session, dedupe_key=f"event:{event.id}:alert:{key}", kind="event", chat_id=members.duty.chat_id,
            text=text, buttons=buttons, now=now, event_id=event.id)


def process_recent(session: Session, playbook: Playbook, members: Members, templates: Templates,
                   now: dt.datetime, since: dt.datetime) -> list[IntakeResult]:
    """Route every event that gained or changed an item since *since* (by when we stored it, not when
    it was published: a message posted yesterday and fetched now is news to us).

    Idempotent, so overlap after a restart is harmless.
    """
    touched = select(Item.event_id).where(Item.event_id.is_not(None),
                                          or_(Item.fetched_at >= since, Item.updated_at >= since))
    events = session.scalars(select(Event).where(or_(Event.last_seen_at >= since, Event.id.in_(touched)))
                             .order_by(Event.id))
    return [process_event(session, e, playbook, members, templates, now) for e in list(events)]


def get_event(session: Session, event_id: int) -> Event:
    event = session.get(Event, event_id)
    if event is None:
        raise UnknownCase(reply="no_such", kind="event", n=event_id)
    return event

