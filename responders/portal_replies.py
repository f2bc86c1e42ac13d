"""Portal replies close the loop: an official reply recorded by the monitor answers the case.

The monitor writes an ``ItemChange`` (field ``reply``) when a portal message
gains its official reply. One official reply answers the message (件件有回复):
for every such unhandled change on an item whose event has cases, *every* open
case of that event — the portal owner's, the co-responsible departments', the
county's and the city's — becomes *responded* at the reply's time, on-time
judged against each case's own deadline; the others are recorded as answered
by the portal's department. The reply is published, so it also stops the
first-information clocks. The change is then marked handled so it counts once.
No clarification is created: a reply is not a department's clarification.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from responders.cases import (
    OPEN_STATES,
    Actor,
    State,
    cases_of,
    mark_first_information,
    transition,
)
from responders.messages import Templates
from store.models import Case, Item, ItemChange


def _owner(item: Item, cases: list[Case]) -> str | None:
    owner = item.source.department_key if item.source is not None else None
    if owner is not None and any(a.department_key == owner for a in cases):
        return owner
    lead = next((a.department_key for a in cases if a.role == "lead"), None)
    return lead


def apply_portal_replies(session: Session, now: dt.datetime, templates: Templates) -> int:
    """Answer every open case of a message's event from its recorded official reply; returns cases changed."""
    changes = session.scalars(
        select(ItemChange)
        .join(Item, Item.id == ItemChange.item_id)
        .where(ItemChange.field == "reply", ItemChange.handled_at.is_(None), Item.event_id.is_not(None))
        .where(exists().where(Case.event_id == Item.event_id))
        .order_by(ItemChange.id)
    )
    changed = 0
    for change in list(changes):
        item = session.get(Item, change.item_id)
        assert item is not None and item.event_id is not None
        at = item.reply_at or change.at
        text = item.reply_text or change.new_value or templates.plain("portal_replied")
        cases = cases_of(session, item.event_id)
        owner = _owner(item, cases)
        for a in cases:
            if State(a.state) not in OPEN_STATES:
                mark_first_information(a, at)
                continue
            answered_by = None if a.department_key == owner or owner is None else owner
            transition(session, a, "respond", Actor("portal"), now=now, at=at, url=item.url,
                       text=text if answered_by is None else templates.plain("portal_answered_by", owner=owner,
                                                                              text=text),
                       source=f"item {item.id}", answered_by=answered_by, published=True)
            changed += 1
        change.handled_at = now
    return changed
