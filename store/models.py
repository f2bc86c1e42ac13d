"""The whole schema: what was seen (sources, items, events, reprints) and what was done
about it (alerts, assignments and their audit trail, clarifications, points, reports).

It lives in ``monitor`` because that is the lowest stage that does I/O; the
responders import it, never the other way round. Timestamps are UTC-aware
(:class:`UTCDateTime`); JSON columns hold raw payloads and policy snapshots.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship

from store.errors import StoreError
from store.types import UTCDateTime, utcnow


class Base(DeclarativeBase):
    type_annotation_map = {dt.datetime: UTCDateTime(), dict[str, Any]: JSON, list[Any]: JSON}


def _now() -> dt.datetime:
    return utcnow()


# --------------------------------------------------------------------------- seen


class Department(Base):
    """A reporting unit, mirrored from the playbook so that ledgers can reference it."""

    __tablename__ = "departments"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    full_name: Mapped[str | None] = mapped_column(String(128))
    parent_key: Mapped[str | None] = mapped_column(String(64))
    ranked: Mapped[bool] = mapped_column(Boolean, default=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Source(Base):
    """A place items come from, with its polling state and health."""

    __tablename__ = "sources"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    url: Mapped[str] = mapped_column(Text)
    host: Mapped[str] = mapped_column(String(255), default="")
    weight_class: Mapped[str] = mapped_column(String(16), default="other")
    department_key: Mapped[str | None] = mapped_column(ForeignKey("departments.key"))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    config: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # conditional GET validators, kept only after a successful parse
    etag: Mapped[str | None] = mapped_column(Text)
    last_modified: Mapped[str | None] = mapped_column(Text)
    # scheduling and health
    interval_seconds: Mapped[int] = mapped_column(Integer, default=900)
    next_poll_at: Mapped[dt.datetime | None]
    last_polled_at: Mapped[dt.datetime | None]
    last_success_at: Mapped[dt.datetime | None]
    last_new_item_at: Mapped[dt.datetime | None]
    last_error_at: Mapped[dt.datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    items_total: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(default=_now)


class Item(Base):
    """One message, post or article in the normalised shape every source kind shares."""

    __tablename__ = "items"
    __table_args__ = (
        UniqueConstraint("source_id", "external_id", name="uq_items_source_external"),
        Index("ix_items_content_hash", "content_hash"),
        Index("ix_items_published_at", "published_at"),
        Index("ix_items_event_id", "event_id"),
        Index("ix_items_source_fetched_at", "source_id", "fetched_at"),  # a source's items per week (health)
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"))
    external_id: Mapped[str] = mapped_column(String(255))
    url: Mapped[str | None] = mapped_column(Text)
    title: Mapped[str] = mapped_column(Text, default="")
    text: Mapped[str] = mapped_column(Text, default="")
    author: Mapped[str | None] = mapped_column(String(255))
    author_verified: Mapped[bool | None] = mapped_column(Boolean)
    author_followers: Mapped[int | None] = mapped_column(Integer)
    published_at: Mapped[dt.datetime | None]
    fetched_at: Mapped[dt.datetime] = mapped_column(default=_now)
    updated_at: Mapped[dt.datetime | None]
    content_hash: Mapped[str] = mapped_column(String(64))
    signature: Mapped[int | None] = mapped_column(BigInteger, doc="near-duplicate signature, signed 64-bit")
    # engagement
    reposts: Mapped[int] = mapped_column(Integer, default=0)
    comments: Mapped[int] = mapped_column(Integer, default=0)
    likes: Mapped[int] = mapped_column(Integer, default=0)
    dislikes: Mapped[int] = mapped_column(Integer, default=0)
    # portal messages: the official reply
    reply_status: Mapped[str | None] = mapped_column(String(32))
    reply_text: Mapped[str | None] = mapped_column(Text)
    reply_at: Mapped[dt.datetime | None]
    # links between items
    repost_of_external_id: Mapped[str | None] = mapped_column(String(255))
    repost_of_id: Mapped[int | None] = mapped_column(ForeignKey("items.id"))
    reprint_of_id: Mapped[int | None] = mapped_column(ForeignKey("items.id"))
    # raw payload for audit
    raw: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # classification
    category: Mapped[str | None] = mapped_column(String(32))
    category_scores: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    rumour_probability: Mapped[float | None] = mapped_column(Float)
    rumour_verdict: Mapped[str | None] = mapped_column(String(32))
    why: Mapped[list[Any] | None] = mapped_column(JSON)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("events.id"))

    source: Mapped[Source] = relationship()


class ItemChange(Base):
    """A recorded change to a stored item (e.g. a portal message gaining its reply)."""

    __tablename__ = "item_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    at: Mapped[dt.datetime] = mapped_column(default=_now)
    field: Mapped[str] = mapped_column(String(64))
    old_value: Mapped[str | None] = mapped_column(Text)
    new_value: Mapped[str | None] = mapped_column(Text)
    handled_at: Mapped[dt.datetime | None]


class Event(Base):
    """A cluster of items about the same happening (a hot topic)."""

    __tablename__ = "events"
    __table_args__ = (Index("ix_events_last_seen_at", "last_seen_at"),)  # the web desk's "last 24 h"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(Text)
    category: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="open")
    first_seen_at: Mapped[dt.datetime] = mapped_column(default=_now)
    last_seen_at: Mapped[dt.datetime] = mapped_column(default=_now)
    item_count: Mapped[int] = mapped_column(Integer, default=0)
    heat: Mapped[float] = mapped_column(Float, default=0.0)
    heat_breakdown: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    rumour_probability: Mapped[float | None] = mapped_column(Float)
    signals: Mapped[list[Any] | None] = mapped_column(JSON)
    centroid: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    places: Mapped[list[Any] | None] = mapped_column(JSON)
    is_emergency: Mapped[bool] = mapped_column(Boolean, default=False)
    closed_at: Mapped[dt.datetime | None]


class Reprint(Base):
    """An item that carries another's content: the spread the score and points count."""

    __tablename__ = "reprints"
    __table_args__ = (UniqueConstraint("original_id", "reprint_id", name="uq_reprints_pair"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    original_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    reprint_id: Mapped[int] = mapped_column(ForeignKey("items.id"))
    host: Mapped[str] = mapped_column(String(255))
    weight: Mapped[float] = mapped_column(Float)
    method: Mapped[str] = mapped_column(String(32))  # near_duplicate | link
    similarity: Mapped[float | None] = mapped_column(Float)
    detected_at: Mapped[dt.datetime] = mapped_column(default=_now)
    clarification_id: Mapped[int | None] = mapped_column(ForeignKey("clarifications.id"))


# --------------------------------------------------------------------------- done


class Alert(Base):
    """The outbox: one row per message to deliver, written before sending.

    ``dedupe_key`` makes delivery idempotent: the same alert is never queued twice,
    and a restart resumes the rows still ``pending``.
    """

    __tablename__ = "alerts"
    __table_args__ = (Index("ix_alerts_state_next", "state", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(255), unique=True)
    kind: Mapped[str] = mapped_column(String(32))  # event | assignment | escalation | source_health | report
    chat_id: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    buttons: Mapped[list[Any] | None] = mapped_column(JSON)
    attachment_path: Mapped[str | None] = mapped_column(Text)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("events.id"))
    assignment_id: Mapped[int | None] = mapped_column(ForeignKey("assignments.id"))
    source_id: Mapped[int | None] = mapped_column(ForeignKey("sources.id"))
    state: Mapped[str] = mapped_column(String(16), default="pending")  # pending | sending | sent | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(default=_now)
    last_error: Mapped[str | None] = mapped_column(Text)
    message_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(default=_now)
    sent_at: Mapped[dt.datetime | None]


class Assignment(Base):
    """One department's duty on one event, with the policy snapshot it was opened under."""

    __tablename__ = "assignments"
    __table_args__ = (UniqueConstraint("event_id", "department_key", name="uq_assignments_event_dept"),
                      Index("ix_assignments_state", "state"))

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id"), index=True)
    department_key: Mapped[str] = mapped_column(ForeignKey("departments.key"), index=True)
    role: Mapped[str] = mapped_column(String(16))  # lead | co | local | override
    reason: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[str] = mapped_column(String(16), default="new")
    rule_snapshot: Mapped[dict[str, Any]] = mapped_column(JSON)
    opened_at: Mapped[dt.datetime] = mapped_column(default=_now)
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
    history: Mapped[list[AssignmentEvent]] = relationship(
        back_populates="assignment", order_by="AssignmentEvent.id"
    )


class AssignmentEvent(Base):
    """Append-only audit row: who did what to an assignment, from which chat, when."""

    __tablename__ = "assignment_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignments.id"), index=True)
    at: Mapped[dt.datetime] = mapped_column(default=_now)
    actor: Mapped[str] = mapped_column(String(128))
    chat_id: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    from_state: Mapped[str | None] = mapped_column(String(16))
    to_state: Mapped[str | None] = mapped_column(String(16))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    assignment: Mapped[Assignment] = relationship(back_populates="history")


class AuditRowImmutable(StoreError):
    """Someone tried to change or delete an audit row; the trail is append-only."""


@event.listens_for(Session, "before_flush")
def _audit_rows_are_append_only(session: Session, _ctx: Any, _instances: Any) -> None:
    for obj in (*session.dirty, *session.deleted):
        if isinstance(obj, (AssignmentEvent, SubmissionEvent)) and (obj in session.deleted
                                                                    or session.is_modified(obj)):
            raise AuditRowImmutable(f"audit row {type(obj).__name__} {obj.id} is append-only")


class Consultation(Base):
    """A joint consultation (会商) thread and the one agreed external line (统一口径)."""

    __tablename__ = "consultations"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id"), unique=True)
    opened_at: Mapped[dt.datetime] = mapped_column(default=_now)
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
    assignment_id: Mapped[int | None] = mapped_column(ForeignKey("assignments.id"))
    department_key: Mapped[str] = mapped_column(ForeignKey("departments.key"))
    url: Mapped[str | None] = mapped_column(Text)
    text: Mapped[str | None] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16), default="submitted")  # submitted | approved | rejected
    submitted_at: Mapped[dt.datetime] = mapped_column(default=_now)
    submitted_by: Mapped[str] = mapped_column(String(128))
    approved_at: Mapped[dt.datetime | None]
    approved_by: Mapped[str | None] = mapped_column(String(128))
    review_note: Mapped[str | None] = mapped_column(Text, doc="why duty staff rejected it")
    confidentiality_reviewed: Mapped[bool] = mapped_column(Boolean, default=False, doc="保密审查 done at 审签")
    signed_off_as: Mapped[str | None] = mapped_column(String(128), doc="the playbook's signer role")
    published_at: Mapped[dt.datetime | None] = mapped_column(doc="seen online, or marked published")
    item_id: Mapped[int | None] = mapped_column(ForeignKey("items.id"))


class PointsEntry(Base):
    """One row of the points ledger (2006 §四), with its reason; 1 point = 1 yuan."""

    __tablename__ = "points_ledger"
    __table_args__ = (UniqueConstraint("dedupe_key", name="uq_points_dedupe"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    department_key: Mapped[str] = mapped_column(ForeignKey("departments.key"), index=True)
    at: Mapped[dt.datetime] = mapped_column(default=_now)
    points: Mapped[float] = mapped_column(Float)
    reason: Mapped[str] = mapped_column(String(64))
    detail: Mapped[str] = mapped_column(Text, default="")
    item_id: Mapped[int | None] = mapped_column(ForeignKey("items.id"))
    assignment_id: Mapped[int | None] = mapped_column(ForeignKey("assignments.id"))
    dedupe_key: Mapped[str] = mapped_column(String(255))
    recorded_by: Mapped[str] = mapped_column(String(128), default="system")


class Submission(Base):
    """Information a unit submits to the provincial portal (2006 §三 信息报送, 实名制) and what became of it.

    ``state`` is submitted | adopted | declined; an adopted submission links the portal item that
    published it, whose reprints earn the unit points (2006 §四).
    """

    __tablename__ = "submissions"

    id: Mapped[int] = mapped_column(primary_key=True)
    department_key: Mapped[str] = mapped_column(ForeignKey("departments.key"), index=True)
    title: Mapped[str] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text, default="")
    url: Mapped[str | None] = mapped_column(Text)
    attachments: Mapped[list[Any]] = mapped_column(JSON, default=list)
    submitted_by: Mapped[str] = mapped_column(String(128), doc="the submitter's real name (实名制)")
    submitted_at: Mapped[dt.datetime] = mapped_column(default=_now, index=True)
    state: Mapped[str] = mapped_column(String(16), default="submitted")
    adopted_at: Mapped[dt.datetime | None]
    adopted_by: Mapped[str | None] = mapped_column(String(128))
    bonus: Mapped[str | None] = mapped_column(String(32), doc="interview | commentary | video | headline")
    adopted_item_id: Mapped[int | None] = mapped_column(ForeignKey("items.id"), doc="the portal's publication")
    decline_reason: Mapped[str | None] = mapped_column(Text)


class SubmissionEvent(Base):
    """Append-only audit row of a submission: submitted, adopted, declined, adoption undone."""

    __tablename__ = "submission_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), index=True)
    at: Mapped[dt.datetime] = mapped_column(default=_now)
    actor: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(32))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class DigestEntry(Base):
    """An item or event picked into the day's 《网络信息摘要》, with any leader's instruction."""

    __tablename__ = "digest_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[dt.date] = mapped_column(index=True)
    item_id: Mapped[int | None] = mapped_column(ForeignKey("items.id"))
    event_id: Mapped[int | None] = mapped_column(ForeignKey("events.id"))
    department_key: Mapped[str | None] = mapped_column(ForeignKey("departments.key"))
    submission_id: Mapped[int | None] = mapped_column(ForeignKey("submissions.id"),
                                                      doc="the unit's submission this entry came from")
    added_by: Mapped[str] = mapped_column(String(128))
    added_at: Mapped[dt.datetime] = mapped_column(default=_now)
    leader_instruction: Mapped[str | None] = mapped_column(Text)
    instruction_recorded_by: Mapped[str | None] = mapped_column(String(128))


class ScheduledReport(Base):
    """Next due time of a periodic report; advanced by compare-and-set so it runs once."""

    __tablename__ = "scheduled_reports"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    next_run_at: Mapped[dt.datetime]
    last_run_at: Mapped[dt.datetime | None]
    last_output: Mapped[str | None] = mapped_column(Text)


class DeskPassword(Base):
    """A web-desk sign-in's password hash (argon2id); the people and roles come from the members file."""

    __tablename__ = "desk_passwords"

    login: Mapped[str] = mapped_column(String(64), primary_key=True)
    password_hash: Mapped[str] = mapped_column(Text)
    set_at: Mapped[dt.datetime] = mapped_column(default=_now)
