"""Queue an outbox alert exactly once: the dedupe key decides, even across restarts.

The outbox (``Alert``) is delivered by the notifier; this only writes rows.
A second call with the same key returns ``None`` and writes nothing.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from monitor.store.models import Alert
from responders.messages import clip_html


def enqueue(session: Session, *, dedupe_key: str, kind: str, chat_id: str | int, text: str, now: dt.datetime,
            **fields: Any) -> Alert | None:
    """Add one pending alert unless its dedupe key was queued before."""
    if session.scalar(select(Alert.id).where(Alert.dedupe_key == dedupe_key)) is not None:
        return None
    alert = Alert(dedupe_key=dedupe_key, kind=kind, chat_id=str(chat_id), text=clip_html(text), state="pending",
                  next_attempt_at=now, created_at=now, **fields)
    try:
        with session.begin_nested():
            session.add(alert)
    except IntegrityError:  # queued concurrently by another process
        return None
    return alert
