"""Which stored items carry one of our own (a clarification, an adopted submission), as Reprint rows.

Clarification tracking (did the answer spread?) and adoption tracking (who reprinted the unit's
adopted information? 2006 §四) ask the same question of the items stored since the original was
published, so the scan lives here once. The pipeline may have recorded a pair first; such a row
is labelled with the clarification rather than written twice.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from monitor.carrying import Text, carries, host_of
from monitor.policy_carriage import item_text as _item_text
from monitor.policy_carriage import item_time
from playbooks.schema import Playbook
from store.models import Item, Reprint, Source

if TYPE_CHECKING:  # a type only: the sources file's schema pulls in httpx and bs4
    from monitor.config import DedupeSection


def record_carriers(session: Session, own: Item, original: Text, playbook: Playbook, now: dt.datetime,
                    dedupe: DedupeSection, *, clarification_id: int | None = None) -> list[Reprint]:
    """Record a Reprint for each item since *own* was published that carries *original*; the new rows."""
    known = {r.reprint_id: r for r in session.scalars(select(Reprint).where(Reprint.original_id == own.id))}
    if clarification_id is not None:
        for existing in known.values():  # the monitor may have seen the pair first
            if existing.clarification_id is None:
                existing.clarification_id = clarification_id
    start = item_time(own)
    rows = session.execute(select(Item, Source).join(Source, Item.source_id == Source.id)
                           .where(Item.id != own.id, or_(Item.published_at >= start, Item.fetched_at >= start))
                           .order_by(Item.id)).all()
    added = []
    for item, source in rows:
        if item.id in known:
            continue
        found = carries(original, _item_text(item, dedupe), dedupe)
        if found is None:
            continue
        host = host_of(item.url) or source.host or host_of(source.url)
        reprint = Reprint(original_id=own.id, reprint_id=item.id, host=host, method=found.method,
                          weight=playbook.source_weights.weight(host, source.weight_class),
                          similarity=found.similarity, detected_at=now, clarification_id=clarification_id)
        try:
            with session.begin_nested():
                session.add(reprint)
        except IntegrityError:  # the monitor's pipeline recorded the same pair meanwhile
            if clarification_id is not None:
                session.execute(update(Reprint).where(Reprint.original_id == own.id, Reprint.reprint_id == item.id,
                                                      Reprint.clarification_id.is_(None))
                                .values(clarification_id=clarification_id))
            continue
        added.append(reprint)
    session.flush()
    return added
