"""normalise → dedupe → classify → cluster → store, for items from any source kind.

The pipeline takes normalised items (every kind produces the same shape) and
a session; it decides new / updated / unchanged / duplicate, marks reprints,
asks an :class:`Annotator` for category and rumour verdict and an
:class:`EventAssigner` for the event, then writes rows. A reply that appears
on a stored message is written as an ``ItemChange(field="reply")`` row — the
responders close assignments from those rows.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from monitor.config import DedupeSection
from monitor.dedupe import ReprintFinder, find_existing, find_same_content, host_for, signature_of
from monitor.items import FieldLimits, NormalisedItem, within_limits
from monitor.store.models import Event, Item, ItemChange, Reprint, Source
from playbooks.schema import Playbook


@dataclass(frozen=True)
class Annotation:
    """What the classifiers say about one item, with the one-line reasons ('why')."""

    category: str | None
    category_scores: Mapping[str, float] = field(default_factory=dict)
    rumour_probability: float | None = None
    rumour_verdict: str | None = None
    why: Sequence[str] = ()


Reaction = tuple[str, dt.datetime | None]  # a repost's own text and time


class Annotator(Protocol):
    def annotate(self, item: NormalisedItem | Item, reactions: Sequence[Reaction] = ()) -> Annotation:
        """Classify one item, reading its reposts when there are any (pure: no I/O)."""
        ...


class EventAssigner(Protocol):
    def assign(self, session: Session, item: Item, now: dt.datetime) -> Event | None:
        """Put a stored, annotated item into an event (new or existing) and update it."""
        ...


@dataclass
class ProcessResult:
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    duplicates: int = 0
    reprints: int = 0
    new_item_ids: list[int] = field(default_factory=list)
    change_ids: list[int] = field(default_factory=list)

    def merge(self, other: ProcessResult) -> None:
        for name in ("new", "updated", "unchanged", "duplicates", "reprints"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.new_item_ids += other.new_item_ids
        self.change_ids += other.change_ids


# Fields refreshed on a re-seen item; changes to these count as "updated".
_ENGAGEMENT = ("reposts", "comments", "likes", "dislikes")
_REPLY = ("reply_status", "reply_text", "reply_at")


class Pipeline:
    """Stores items once, links reprints and reposts, annotates and clusters new ones."""

    def __init__(
        self,
        playbook: Playbook,
        dedupe: DedupeSection,
        annotator: Annotator | None = None,
        events: EventAssigner | None = None,
        limits: FieldLimits | None = None,
    ) -> None:
        self.playbook = playbook
        self.dedupe = dedupe
        self.limits = limits or FieldLimits()
        self.annotator = annotator
        self.events = events
        self.finder = ReprintFinder(dedupe)

    def process(
        self, session: Session, source: Source, items: Iterable[NormalisedItem], now: dt.datetime
    ) -> ProcessResult:
        """Run every item through the pipeline; the caller commits."""
        self.finder.refresh(session, now)
        result = ProcessResult()
        for item in items:
            result.merge(self.process_one(session, source, item, now))
        return result

    def process_one(self, session: Session, source: Source, item: NormalisedItem, now: dt.datetime) -> ProcessResult:
        result = ProcessResult()
        item = within_limits(item, self.limits)  # before hashing, signatures and models see it
        existing = find_existing(session, source.id, item.external_id)
        if existing is not None:
            change_ids = self._update(session, existing, item, now, content=source.kind == "import")
            if change_ids is None:
                result.unchanged = 1
            else:
                result.updated = 1
                result.change_ids = change_ids
            return result
        if find_same_content(session, source.id, item.content_hash) is not None:
            result.duplicates = 1
            return result
        row = self._insert(session, source, item, now)
        result.new = 1
        result.new_item_ids.append(row.id)
        result.reprints = int(row.reprint_of_id is not None)
        return result

    # -- new items -------------------------------------------------------

    def _insert(self, session: Session, source: Source, item: NormalisedItem, now: dt.datetime) -> Item:
        signature = signature_of(item, self.dedupe)
        row = Item(
            source_id=source.id,
            external_id=item.external_id,
            url=item.url,
            title=item.title,
            text=item.text,
            author=item.author,
            author_verified=item.author_verified,
            author_followers=item.author_followers,
            published_at=item.published_at,
            fetched_at=now,
            content_hash=item.content_hash,
            signature=signature,
            reposts=item.reposts,
            comments=item.comments,
            likes=item.likes,
            dislikes=item.dislikes,
            reply_status=item.reply_status,
            reply_text=item.reply_text,
            reply_at=item.reply_at,
            repost_of_external_id=item.repost_of_external_id,
            raw=_jsonable(item.raw),
        )
        if item.repost_of_external_id:
            original = find_existing(session, source.id, item.repost_of_external_id)
            row.repost_of_id = original.id if original is not None else None
        match = self.finder.find(session, item, source.id, signature, now)
        session.add(row)
        session.flush()
        if match is not None:
            row.reprint_of_id = match.original_id
            host = host_for(item, source)
            session.add(
                Reprint(
                    original_id=match.original_id,
                    reprint_id=row.id,
                    host=host,
                    weight=self.playbook.source_weights.weight(host, source.weight_class),
                    method=match.method,
                    similarity=match.similarity,
                    detected_at=now,
                )
            )
        elif signature is not None:
            self.finder.remember(row.id, signature, now)
        self._annotate(row, item, source)
        if row.repost_of_id is not None:
            self._rejudge_original(session, row.repost_of_id, source)
        if self.events is not None:
            event = self.events.assign(session, row, now)
            row.event_id = event.id if event is not None else None
        session.flush()
        return row

    def _annotate(self, row: Item, item: NormalisedItem, source: Source) -> None:
        if self.annotator is None:
            return
        note = self.annotator.annotate(item)
        row.category = note.category
        row.category_scores = {k: float(v) for k, v in note.category_scores.items()}
        if source.kind in self.playbook.rumour.source_kinds:
            row.rumour_probability = note.rumour_probability
            row.rumour_verdict = note.rumour_verdict
        row.why = list(note.why)

    def _rejudge_original(self, session: Session, original_id: int, source: Source) -> None:
        """A new repost changes what we know of the original: the rumour model reads the reposts too
        (readers writing 谣言/辟谣/求证, and how fast they come)."""
        if self.annotator is None or source.kind not in self.playbook.rumour.source_kinds:
            return
        original = session.get(Item, original_id)
        if original is None:
            return
        reposts = session.execute(
            select(Item.text, Item.published_at)
            .where(Item.repost_of_id == original_id)
            .order_by(Item.published_at, Item.id)
        ).all()
        note = self.annotator.annotate(original, [(text, when) for text, when in reposts])
        original.rumour_probability, original.rumour_verdict = note.rumour_probability, note.rumour_verdict

    # -- items seen before --------------------------------------------------

    def _update(
        self, session: Session, row: Item, item: NormalisedItem, now: dt.datetime, content: bool = False
    ) -> list[int] | None:
        """Refresh counts and reply (and, for *content* sources such as imports, the title and text);
        None when nothing changed, else the ItemChange ids."""
        changed = False
        change_ids: list[int] = []
        if content and item.content_hash != row.content_hash:
            change_ids.append(self._content_change(session, row, item, now))
            changed = True
        for name in _ENGAGEMENT:
            value = getattr(item, name)
            if value != getattr(row, name):
                setattr(row, name, value)
                changed = True
        if _reply_changed(row, item):
            change = ItemChange(
                item_id=row.id,
                at=now,
                field="reply",
                old_value=_reply_summary(row.reply_status, row.reply_text),
                new_value=_reply_summary(item.reply_status, item.reply_text),
            )
            for name in _REPLY:
                setattr(row, name, getattr(item, name))
            session.add(change)
            session.flush()
            change_ids.append(change.id)
            changed = True
        if not changed:
            return None
        row.updated_at = now
        return change_ids

    def _content_change(self, session: Session, row: Item, item: NormalisedItem, now: dt.datetime) -> int:
        """A record re-imported under its id with other words: keep the new words, record the old."""
        change = ItemChange(
            item_id=row.id,
            at=now,
            field="content",
            old_value=_content_summary(row.title, row.text),
            new_value=_content_summary(item.title, item.text),
        )
        row.title, row.text, row.url = item.title, item.text, item.url or row.url
        row.content_hash = item.content_hash
        row.signature = signature_of(item, self.dedupe)
        row.raw = _jsonable(item.raw)
        session.add(change)
        session.flush()
        return change.id


def _content_summary(title: str | None, text: str | None) -> str:
    return f"{title or ''}\n{text or ''}".strip()


def _reply_changed(row: Item, item: NormalisedItem) -> bool:
    if item.reply_text is None and item.reply_status in (None, row.reply_status):
        return False  # a page that lacks the reply block does not erase a stored reply
    return (row.reply_text or None) != (item.reply_text or None) or row.reply_status != item.reply_status


def _reply_summary(status: str | None, text: str | None) -> str | None:
    if status is None and text is None:
        return None
    return f"{status or ''}\n{text or ''}".strip()


def _jsonable(value: Any) -> Any:
    """The raw payload with anything JSON cannot hold turned into text."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)  # JSON (and PostgreSQL) hold no Infinity or NaN
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return str(value)

