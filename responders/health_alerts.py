"""Source-health findings from the monitor go to the duty chat through the same outbox.

One alert per source, problem and failure streak (the finding's own
``dedupe_key``), so a feed that stays broken is reported once, not every poll.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from monitor.health import HealthFinding
from playbooks.members import Members
from responders.messages import Templates
from responders.outbox import enqueue
from store.models import Source


def queue_source_health(session: Session, findings: Iterable[HealthFinding], members: Members,
                        templates: Templates, now: dt.datetime) -> int:
    """Queue an alert for every finding that is a problem; returns how many were new."""
    queued = 0
    for finding in findings:
        if finding.problem == "ok":
            continue
        source_id = session.scalar(select(Source.id).where(Source.name == finding.source))
        text = templates.render("source_health", source=finding.source, message=finding.message, url=finding.url)
        if enqueue(session, dedupe_key=finding.dedupe_key, kind="source_health", chat_id=members.duty.chat_id,
                   text=text, now=now, source_id=source_id) is not None:
            queued += 1
    return queued
