"""What monitor records about what was seen: sources, items, their changes, events, reprints."""

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
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from store.base import Base
from store.types import utcnow


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
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


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
    fetched_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
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
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
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
    first_seen_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    item_count: Mapped[int] = mapped_column(Integer, default=0)
    heat: Mapped[float] = mapped_column(Float, default=0.0)
    heat_breakdown: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # the running summary the heat, category and burst test are read from (classifiers.tally); NULL: sum
    # it again from the items at the next batch that touches the event
    heat_state: Mapped[dict[str, Any] | None] = mapped_column(JSON)
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
    detected_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    clarification_id: Mapped[int | None] = mapped_column(ForeignKey("clarifications.id"))
