"""What responders send: the outbox (every outgoing message, written before it is sent) and the
periodic reports' next due times."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from store.base import Base
from store.types import utcnow


class OutboxMessage(Base):
    """The outbox: one row per message to deliver, written before sending.

    ``dedupe_key`` makes delivery idempotent: the same alert is never queued twice,
    and a restart resumes the rows still ``pending``.
    """

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_state_next", "state", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(255), unique=True)
    kind: Mapped[str] = mapped_column(String(32))  # event | case | escalation | source_health | report
    chat_id: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    buttons: Mapped[list[Any] | None] = mapped_column(JSON)
    attachment_path: Mapped[str | None] = mapped_column(Text)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("events.id"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    source_id: Mapped[int | None] = mapped_column(ForeignKey("sources.id"))
    state: Mapped[str] = mapped_column(String(16), default="pending")  # pending | sending | sent | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)
    message_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[dt.datetime | None]


class ScheduledReport(Base):
    """Next due time of a periodic report; advanced by compare-and-set so it runs once."""

    __tablename__ = "scheduled_reports"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    next_run_at: Mapped[dt.datetime]
    last_run_at: Mapped[dt.datetime | None]
    last_output: Mapped[str | None] = mapped_column(Text)
