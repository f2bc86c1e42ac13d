"""What responders record about handling an event: the units (mirrored from the playbook), cases
and their append-only audit rows, 会商 and clarifications."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from store.base import Base
from store.monitor_tables import Event
from store.types import utcnow


class Department(Base):
    """A reporting unit, mirrored from the playbook so that ledgers can reference it."""

    __tablename__ = "departments"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    full_name: Mapped[str | None] = mapped_column(String(128))
    parent_key: Mapped[str | None] = mapped_column(String(64))
    ranked: Mapped[bool] = mapped_column(Boolean, default=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Case(Base):
    """One department's duty on one event, with the policy snapshot it was opened under."""

    __tablename__ = "cases"
    __table_args__ = (UniqueConstraint("event_id", "department_key", name="uq_cases_event_dept"),
                      Index("ix_cases_state", "state"))

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id"), index=True)
    department_key: Mapped[str] = mapped_column(ForeignKey("departments.key"), index=True)
    role: Mapped[str] = mapped_column(String(16))  # lead | co | local | override
    reason: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[str] = mapped_column(String(16), default="new")
    rule_snapshot: Mapped[dict[str, Any]] = mapped_column(JSON)
    opened_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # when the citizen's message or the report was received (its own time, never after we fetched it):
    # the first-information and respond clocks count from here (2015 §四 收到…7个工作日内)
    clock_started_at: Mapped[dt.datetime | None]
    acknowledge_due_at: Mapped[dt.datetime | None]
    first_information_due_at: Mapped[dt.datetime | None]
    respond_due_at: Mapped[dt.datetime | None]
    acknowledged_at: Mapped[dt.datetime | None]
    responded_at: Mapped[dt.datetime | None]
    first_information_at: Mapped[dt.datetime | None] = mapped_column(doc="when the first authoritative "
                                                                        "information was published")
    closed_at: Mapped[dt.datetime | None]
    extended: Mapped[bool] = mapped_column(Boolean, default=False)
    extension_reason: Mapped[str | None] = mapped_column(Text)
    explanation: Mapped[str | None] = mapped_column(Text)
    response_url: Mapped[str | None] = mapped_column(Text)
    response_text: Mapped[str | None] = mapped_column(Text)
    acknowledged_on_time: Mapped[bool | None] = mapped_column(Boolean)
    responded_on_time: Mapped[bool | None] = mapped_column(Boolean)
    # escalation state survives restarts
    escalation_step: Mapped[int] = mapped_column(Integer, default=0)
    next_escalation_at: Mapped[dt.datetime | None]
    escalation_state: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    event: Mapped[Event] = relationship()
    history: Mapped[list[CaseAudit]] = relationship(
        back_populates="case", order_by="CaseAudit.id"
    )


class CaseAudit(Base):
    """Append-only audit row: who did what to a case, from which chat, when."""

    __tablename__ = "case_audit"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(128))
    chat_id: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    from_state: Mapped[str | None] = mapped_column(String(16))
    to_state: Mapped[str | None] = mapped_column(String(16))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    case: Mapped[Case] = relationship(back_populates="history")


class Consultation(Base):
    """A joint consultation (会商) thread and the one agreed external line (统一口径)."""

    __tablename__ = "consultations"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id"), unique=True)
    opened_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    opened_by: Mapped[str] = mapped_column(String(128))
    participants: Mapped[list[Any]] = mapped_column(JSON, default=list)
    agreed_line: Mapped[str | None] = mapped_column(Text)
    agreed_by: Mapped[str | None] = mapped_column(String(128))
    agreed_at: Mapped[dt.datetime | None]


class Clarification(Base):
    """A department's published answer or clarification, approved (审签) before it counts."""

    __tablename__ = "clarifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id"), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    department_key: Mapped[str] = mapped_column(ForeignKey("departments.key"))
    url: Mapped[str | None] = mapped_column(Text)
    text: Mapped[str | None] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16), default="submitted")  # submitted | approved | rejected
    submitted_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    submitted_by: Mapped[str] = mapped_column(String(128))
    approved_at: Mapped[dt.datetime | None]
    approved_by: Mapped[str | None] = mapped_column(String(128))
    review_note: Mapped[str | None] = mapped_column(Text, doc="why duty staff rejected it")
    confidentiality_reviewed: Mapped[bool] = mapped_column(Boolean, default=False, doc="保密审查 done at 审签")
    signed_off_as: Mapped[str | None] = mapped_column(String(128), doc="the playbook's signer role")
    published_at: Mapped[dt.datetime | None] = mapped_column(doc="seen online, or marked published")
    item_id: Mapped[int | None] = mapped_column(ForeignKey("items.id"))
