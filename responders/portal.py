"""Portal replies close the loop: an official reply recorded by the monitor answers the case.

The monitor writes an ``ItemChange`` (field ``reply``) when a portal message
gains its official reply. For every such unhandled change on an item whose
event has cases, the open cases (those of the portal's own department if the
source names one, else all of the event's) become *responded* at the reply's
time, with on-time judged against the case's deadline. The change is then
marked handled so it counts once.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from monitor.store.models import Assignment, Item, ItemChange
from responders.assignments import OPEN_STATES, Actor, State, assignments_of, transition


def _cases_for(session: Session, item: Item) -> list[Assignment]:
    assert item.event_id is not None
    cases = [a for a in assignments_of(session, item.event_id) if State(a.state) in OPEN_STATES]
    owner = item.source.department_key if item.source is not None else None
    if owner is not None and any(a.department_key == owner for a in cases):
        return [a for a in cases if a.department_key == owner]
    return cases


def apply_portal_replies(session: Session, now: dt.datetime) -> int:
    """Mark cases responded from recorded portal replies; returns how many cases changed."""
    changes = session.scalars(
        select(ItemChange)
        .join(Item, Item.id == ItemChange.item_id)
        .where(ItemChange.field == "reply", ItemChange.handled_at.is_(None), Item.event_id.is_not(None))
        .where(exists().where(Assignment.event_id == Item.event_id))
        .order_by(ItemChange.id)
    )
    changed = 0
    for change in list(changes):
        item = session.get(Item, change.item_id)
        assert item is not None
        at = item.reply_at or change.at
        text = item.reply_text or change.new_value or "（门户网站已答复）"
        for a in _cases_for(session, item):
            transition(session, a, "respond", Actor("portal"), now=now, at=at, url=item.url, text=text,
                       source=f"item {item.id}")
            changed += 1
        change.handled_at = now
    return changed
