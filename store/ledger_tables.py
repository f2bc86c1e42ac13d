"""What responders record for the 2006 scheme: the points ledger, units' submissions and their
append-only audit rows, and the daily digest's entries."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Float,
    ForeignKey,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from store.base import Base
from store.types import utcnow


class PointsEntry(Base):
    """One row of the points ledger (2006 §四), with its reason; 1 point = 1 yuan."""

    __tablename__ = "points_ledger"
    __table_args__ = (UniqueConstraint("dedupe_key", name="uq_points_dedupe"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    department_key: Mapped[str] = mapped_column(ForeignKey("departments.key"), index=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    points: Mapped[float] = mapped_column(Float)
    reason: Mapped[str] = mapped_column(String(64))
    detail: Mapped[str] = mapped_column(Text, default="")
    item_id: Mapped[int | None] = mapped_column(ForeignKey("items.id"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
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
    submitted_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    state: Mapped[str] = mapped_column(String(16), default="submitted")
    adopted_at: Mapped[dt.datetime | None]
    adopted_by: Mapped[str | None] = mapped_column(String(128))
    bonus: Mapped[str | None] = mapped_column(String(32), doc="interview | commentary | video | headline")
    adopted_item_id: Mapped[int | None] = mapped_column(ForeignKey("items.id"), doc="the portal's publication")
    decline_reason: Mapped[str | None] = mapped_column(Text)


class SubmissionAudit(Base):
    """Append-only audit row of a submission: submitted, adopted, declined, adoption undone."""

    __tablename__ = "submission_audit"

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), index=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
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
    added_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    leader_instruction: Mapped[str | None] = mapped_column(Text)
    instruction_recorded_by: Mapped[str | None] = mapped_column(String(128))
