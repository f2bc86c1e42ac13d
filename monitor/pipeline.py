"""normalise → dedupe → classify → cluster → store, for items from any source kind.

The pipeline takes a batch of normalised items (a fetched page or an import
chunk; every kind produces the same shape) and a session; it decides new /
updated / unchanged / duplicate, marks reprints, asks an :class:`Annotator` for
category and rumour verdict and an :class:`EventAssigner` for the events, then
writes rows — each stage once per batch, each text segmented once and the
tokens shared by the models and the clusterer. A reply that appears
on a stored message is written as an ``ItemChange(field="reply")`` row — the
responders close cases from those rows.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import math
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from monitor.config import DedupeSection
from monitor.dedupe import Match, ReprintFinder, content_holders, existing_items, host_for, signature_of
from monitor.items import FieldLimits, NormalisedItem, within_limits
from playbooks.schema import Playbook
from store.models import Item, ItemChange, Reprint, Source


@dataclass(frozen=True)
class Annotation:
    """What the classifiers say about one item, with the one-line reasons ('why')."""

    category: str | None
    category_scores: Mapping[str, float] = field(default_factory=dict)
    rumour_probability: float | None = None
    rumour_verdict: str | None = None
    why: Sequence[str] = ()


Reaction = tuple[str, dt.datetime | None]  # a repost's own text and time


@dataclass(frozen=True)
class Standing:
    """What an event's running summary read from one of its stored items, taken before the item changes."""

    url: str | None
    likes: int
    comments: int
    reposts: int
    rumour_probability: float | None

    @classmethod
    def of(cls, row: Item) -> Standing:
        return cls(row.url, row.likes, row.comments, row.reposts, row.rumour_probability)


class Annotator(Protocol):
    def annotate(self, item: NormalisedItem | Item, reactions: Sequence[Reaction] = ()) -> Annotation:
        """Classify one item, reading its reposts when there are any (pure: no I/O)."""
        ...

    def annotate_many(
        self, items: Sequence[NormalisedItem | Item], reactions: Sequence[Sequence[Reaction]] | None = None
    ) -> list[Annotation]:
        """Classify a batch (*reactions*: each item's reposts). This default asks one by one; an annotator
        whose models run faster on a batch says so by overriding it."""
        if reactions is None:
            return [self.annotate(item) for item in items]
        return [self.annotate(item, seen) for item, seen in zip(items, reactions, strict=True)]


class EventAssigner(Protocol):
    def assign_many(self, session: Session, items: Sequence[Item], now: dt.datetime) -> None:
        """Put stored, annotated items into events (new or existing), in order, setting each item's
        ``event_id``, and update each event touched once."""
        ...

    def forget(self) -> None:
        """Drop what is held in memory: the next batch reads the open events from the store again."""
        ...

    def catch_up(self, session: Session, event_ids: Sequence[int]) -> None:
        """Read these events again from the store (another process changed them since they were read)."""
        ...

    def revise(self, session: Session, changed: Sequence[tuple[Item, Standing]]) -> None:
        """Stored items of events changed, each from its *before* (new counts, another URL, a rejudged rumour
        probability): bring their events' running summaries up to date in this transaction."""
        ...


class Segmenter(Protocol):
    """The tokeniser the models and the clusterer share (``classifiers.tokenizer.Tokenizer``)."""

    def batch(self) -> AbstractContextManager[None]: ...

    def tokenize_many(self, texts: Sequence[str]) -> list[list[str]]: ...


@dataclass(frozen=True)
class SourceBatch:
    """One source's items for :meth:`Pipeline.process_many`, with any verdicts classified ahead of the lock."""

    source: Source
    items: Sequence[NormalisedItem]
    ahead: Mapping[str, Annotation] = field(default_factory=dict)


@dataclass(frozen=True)
class _Admitted:
    """A new item of a run, its source batch and its inserted row."""

    batch: SourceBatch
    item: NormalisedItem
    row: Item


def _rows_by_batch(admitted: Sequence[_Admitted]) -> list[tuple[SourceBatch, list[Item]]]:
    """The admitted rows grouped by their source batch, in first-seen order."""
    groups: dict[int, tuple[SourceBatch, list[Item]]] = {}
    for entry in admitted:
        groups.setdefault(id(entry.batch), (entry.batch, []))[1].append(entry.row)
    return list(groups.values())


STAGES = ("dedupe", "tokenise", "classify", "cluster", "store")


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
    """Stores items once, links reprints and reposts, annotates and clusters new ones, a batch at a time."""

    def __init__(
        self,
        playbook: Playbook,
        dedupe: DedupeSection,
        annotator: Annotator | None = None,
        events: EventAssigner | None = None,
        limits: FieldLimits | None = None,
        tokenizer: Segmenter | None = None,
    ) -> None:
        self.playbook = playbook
        self.dedupe = dedupe
        self.limits = limits or FieldLimits()
        self.annotator = annotator
        self.events = events
        self.tokenizer = tokenizer
        self.finder = ReprintFinder(dedupe)
        self.stage_seconds = dict.fromkeys(STAGES, 0.0)  # time spent in each stage so far (benchmarks read it)
        self._high_written: int | None = None  # the newest item id this process knows the store holds

    def warm(self) -> None:
        """Load the classifiers, then the segmenter's dictionary, now rather than at the first item (blocking).

        The order is the memory peak: reading a model file parses tens of MB of JSON for a moment, and
        the segmenter's dictionary (rjieba's or jieba's, 50–80 MB) built after that reuses the freed
        memory, while a dictionary built first sits under the models' peak (with rjieba, one process:
        about 360 MB against 416 MB; bench/README.md). Raises what the annotator's load raises
        (``ModelsMismatch``).
        """
        load = getattr(self.annotator, "load", None)  # a lazy annotator; others are loaded already
        if callable(load):
            load()
        if self.tokenizer is not None:
            self.tokenizer.tokenize_many(["长春市"])  # builds the segmenter's dictionary

    def forget(self) -> None:
        """Drop every index held in memory (after a batch was rolled back, its ids must not be matched)."""
        self.finder = ReprintFinder(self.dedupe)
        if self.events is not None:
            self.events.forget()
        self._high_written = None

    def follow(self, session: Session) -> None:
        """In a cluster, under its pipeline lock (batches one after another): when another process stored
        items since this one's last batch, the events those items joined or opened are read again, so the
        clusters held in memory are the store's. (The reprint index needs nothing: it indexes every id
        above the last it saw, and the lock makes ids grow in commit order.)"""
        high = session.scalar(select(func.max(Item.id))) or 0
        if self.events is not None and high != self._high_written:
            if self._high_written is None:
                self.events.forget()  # the first batch of this process, or after a failure: read them all
            else:
                touched = session.scalars(select(Item.event_id).distinct().where(
                    Item.id > self._high_written, Item.event_id.is_not(None)))
                self.events.catch_up(session, [event_id for event_id in touched if event_id is not None])
        self._high_written = high

    def annotate_ahead(self, session: Session, source: Source,
                       items: Sequence[NormalisedItem]) -> dict[str, Annotation]:
        """Classify the items the store does not hold yet, before the pipeline lock is taken (the models are
        pure, so workers classify side by side; only dedupe, clustering and the writes go one at a time).
        :meth:`process` uses these verdicts for the items it finds new; one stored meanwhile just wastes its
        verdict, one missing here is classified under the lock as usual."""
        if self.annotator is None or not items:
            return {}
        limited = [within_limits(item, self.limits) for item in items]
        held = existing_items(session, source.id, {item.external_id for item in limited})
        unknown = list({item.external_id: item for item in limited if item.external_id not in held}.values())
        if not unknown:
            return {}
        with self._stage("classify"):
            notes = self.annotator.annotate_many(unknown)
        return {item.external_id: note for item, note in zip(unknown, notes, strict=True)}

    def process(
        self, session: Session, source: Source, items: Iterable[NormalisedItem], now: dt.datetime,
        ahead: Mapping[str, Annotation] | None = None,
    ) -> ProcessResult:
        """Run a batch of one source (a fetched page, an import chunk) through the pipeline; the caller
        commits. See :meth:`process_many`."""
        return self.process_many(session, [SourceBatch(source, list(items), ahead or {})], now)[0]

    def process_many(self, session: Session, batches: Sequence[SourceBatch], now: dt.datetime) -> list[ProcessResult]:
        """Run the pages of many sources (a poll cycle's changed feeds) through the pipeline as one batch;
        one result per source batch, in order; the caller commits.

        Dedupe and the inserts go source by source (two queries find each source's stored ids and content
        hashes, three its reprints, and a reprint of an item another source stored earlier in the same
        batch is found); then every new item of the batch is segmented once, classified in one call and
        placed by the clusterer in order, and each event touched is scored once. An external id seen twice
        in a source's page, or a repost of an item new in the batch, ends that source's run there: the rest
        goes through as the next run and meets the stored row, as it would have one item at a time (a repost
        rejudges its stored original before it is clustered).
        """
        self.finder.refresh(session, now)
        pending = [[within_limits(item, self.limits) for item in batch.items] for batch in batches]
        results = [ProcessResult() for _ in batches]
        while any(pending):
            pending = self._run(session, batches, pending, now, results)
        new_ids = [item_id for result in results for item_id in result.new_item_ids]
        if new_ids and self._high_written is not None:
            self._high_written = max(self._high_written, *new_ids)
        return results

    @contextlib.contextmanager
    def _stage(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.stage_seconds[name] += time.perf_counter() - started

    def _run(
        self, session: Session, batches: Sequence[SourceBatch], pending: list[list[NormalisedItem]],
        now: dt.datetime, results: list[ProcessResult],
    ) -> list[list[NormalisedItem]]:
        """Process each source's longest prefix in which no item repeats or reposts a new one, then annotate
        and cluster all of them together; return each source's rest."""
        rests: list[list[NormalisedItem]] = []
        admitted: list[_Admitted] = []
        for batch, items, result in zip(batches, pending, results, strict=True):
            if not items:
                rests.append([])
                continue
            fresh, rest, rows = self._admit(session, batch.source, items, now, result)
            rests.append(rest)
            admitted += [_Admitted(batch, item, row) for item, row in zip(fresh, rows, strict=True)]
        if not admitted:
            return rests
        with contextlib.ExitStack() as stack:
            self._share_tokens(stack, [entry.item for entry in admitted])
            if self.annotator is not None:
                with self._stage("classify"):
                    for entry, note in zip(admitted, self._annotations(admitted), strict=True):
                        self._apply(entry.row, note, entry.batch.source)
                    for batch, rows in _rows_by_batch(admitted):
                        self._rejudge_originals(session, rows, batch.source)
            if self.events is not None:
                with self._stage("cluster"):
                    self.events.assign_many(session, [entry.row for entry in admitted], now)
        with self._stage("store"):
            session.flush()
        return rests

    def _admit(
        self, session: Session, source: Source, items: list[NormalisedItem], now: dt.datetime, result: ProcessResult,
    ) -> tuple[list[NormalisedItem], list[NormalisedItem], list[Item]]:
        """Dedupe one source's run and insert its new items: (new items, the rest, their rows)."""
        with self._stage("dedupe"):
            fresh, rest = self._sort(session, source, items, now, result)
            signatures = [signature_of(item, self.dedupe) for item in fresh]
            matches = self.finder.find_many(session, fresh, source.id, signatures, now)
            originals = existing_items(session, source.id,
                                       {i.repost_of_external_id for i in fresh if i.repost_of_external_id})
        if not fresh:
            return fresh, rest, []
        with self._stage("store"):
            rows = self._insert(session, source, fresh, signatures, matches, originals, now)
        result.new += len(rows)
        result.new_item_ids += [row.id for row in rows]
        result.reprints += sum(match is not None for match in matches)
        return fresh, rest, rows

    def _annotations(self, admitted: Sequence[_Admitted]) -> list[Annotation]:
        """Each new item's verdict: classified ahead of the lock where it was, the rest in one call now."""
        assert self.annotator is not None
        missing = [entry.item for entry in admitted if entry.item.external_id not in entry.batch.ahead]
        now_done = iter(self.annotator.annotate_many(missing) if missing else [])
        return [entry.batch.ahead.get(entry.item.external_id) or next(now_done) for entry in admitted]

    def _sort(
        self, session: Session, source: Source, items: list[NormalisedItem], now: dt.datetime, result: ProcessResult
    ) -> tuple[list[NormalisedItem], list[NormalisedItem]]:
        """Update the items we hold, count the duplicates; return the new items and what follows the run."""
        stored = existing_items(session, source.id, {item.external_id for item in items})
        held = content_holders(session, source.id, {item.content_hash for item in items})
        fresh: list[NormalisedItem] = []
        new_ids: set[str] = set()
        new_hashes: set[str] = set()
        changes: list[ItemChange] = []
        revised: list[tuple[Item, Standing]] = []
        rest: list[NormalisedItem] = []
        for k, item in enumerate(items):
            if item.external_id in new_ids or item.repost_of_external_id in new_ids:
                rest = items[k:]  # a repeat, or a repost of an item this run stores: it waits for the next run
                break
            row = stored.get(item.external_id)
            if row is not None:
                old_hash, before = row.content_hash, Standing.of(row)
                changed = self._update(session, row, item, now, content=source.kind == "import")
                if changed is None:
                    result.unchanged += 1
                    continue
                result.updated += 1
                changes += changed
                revised.append((row, before))
                held.get(old_hash, set()).discard(row.id)
                held.setdefault(row.content_hash, set()).add(row.id)
            elif held.get(item.content_hash) or item.content_hash in new_hashes:
                result.duplicates += 1
            else:
                fresh.append(item)
                new_ids.add(item.external_id)
                new_hashes.add(item.content_hash)
        self._restate(session, revised)
        if changes:
            session.flush()
            result.change_ids += [change.id for change in changes]
        return fresh, rest

    def _share_tokens(self, stack: contextlib.ExitStack[bool | None], fresh: Sequence[NormalisedItem]) -> None:
        """Segment each new title and text once; until *stack* closes the models and the clusterer read
        those tokens instead of segmenting again."""
        if self.tokenizer is None or (self.annotator is None and self.events is None):
            return
        stack.enter_context(self.tokenizer.batch())
        with self._stage("tokenise"):
            self.tokenizer.tokenize_many([text for item in fresh for text in (item.title, item.text)])

    # -- new items -------------------------------------------------------

    def _insert(
        self,
        session: Session,
        source: Source,
        fresh: Sequence[NormalisedItem],
        signatures: Sequence[int | None],
        matches: Sequence[Match | None],
        originals: Mapping[str, Item],
        now: dt.datetime,
    ) -> list[Item]:
        """The new rows and their reprint rows, inserted in bulk."""
        rows = [self._row(source, item, signature, match, now)
                for item, signature, match in zip(fresh, signatures, matches, strict=True)]
        for item, row in zip(fresh, rows, strict=True):
            original = originals.get(item.repost_of_external_id) if item.repost_of_external_id else None
            row.repost_of_id = original.id if original is not None else None
        session.add_all(rows)
        session.flush()
        reprints = []
        for item, row, signature, match in zip(fresh, rows, signatures, matches, strict=True):
            if match is not None:
                host = host_for(item, source)
                reprints.append(Reprint(
                    original_id=match.original_id,
                    reprint_id=row.id,
                    host=host,
                    weight=self.playbook.source_weights.weight(host, source.weight_class),
                    method=match.method,
                    similarity=match.similarity,
                    detected_at=now,
                ))
            elif signature is not None:
                self.finder.remember(row.id, signature, now)
        session.add_all(reprints)
        return rows

    def _row(
        self, source: Source, item: NormalisedItem, signature: int | None, match: Match | None, now: dt.datetime
    ) -> Item:
        return Item(
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
            reprint_of_id=match.original_id if match is not None else None,
            raw=_jsonable(item.raw),
        )

    def _apply(self, row: Item, note: Annotation, source: Source) -> None:
        row.category = note.category
        row.category_scores = {k: float(v) for k, v in note.category_scores.items()}
        if source.kind in self.playbook.rumour.source_kinds:
            row.rumour_probability = note.rumour_probability
            row.rumour_verdict = note.rumour_verdict
        row.why = list(note.why)

    def _rejudge_originals(self, session: Session, rows: Sequence[Item], source: Source) -> None:
        """New reposts change what we know of their originals: the rumour model reads the reposts too
        (readers writing 谣言/辟谣/求证, and how fast they come). Each original once, with all its reposts."""
        if self.annotator is None or source.kind not in self.playbook.rumour.source_kinds:
            return
        ids = list(dict.fromkeys(row.repost_of_id for row in rows if row.repost_of_id is not None))
        if not ids:
            return
        originals = {row.id: row for row in session.scalars(select(Item).where(Item.id.in_(ids)))}
        reactions: dict[int, list[Reaction]] = {original_id: [] for original_id in ids}
        reposts = session.execute(
            select(Item.repost_of_id, Item.text, Item.published_at)
            .where(Item.repost_of_id.in_(ids))
            .order_by(Item.published_at, Item.id)
        )
        for original_id, text, when in reposts:
            if original_id is not None:
                reactions[original_id].append((text, when))
        present = [original_id for original_id in ids if original_id in originals]
        notes = self.annotator.annotate_many([originals[i] for i in present], [reactions[i] for i in present])
        revised: list[tuple[Item, Standing]] = []
        for original_id, note in zip(present, notes, strict=True):
            original = originals[original_id]
            revised.append((original, Standing.of(original)))
            original.rumour_probability, original.rumour_verdict = note.rumour_probability, note.rumour_verdict
        self._restate(session, revised)

    # -- items seen before --------------------------------------------------

    def _update(
        self, session: Session, row: Item, item: NormalisedItem, now: dt.datetime, content: bool = False
    ) -> list[ItemChange] | None:
        """Refresh counts and reply (and, for *content* sources such as imports, the title and text);
        None when nothing changed, else the ItemChange rows (added, not yet flushed)."""
        changed = False
        changes: list[ItemChange] = []
        if content and item.content_hash != row.content_hash:
            changes.append(self._content_change(session, row, item, now))
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
            changes.append(change)
            changed = True
        if not changed:
            return None
        row.updated_at = now
        return changes

    def _restate(self, session: Session, revised: Sequence[tuple[Item, Standing]]) -> None:
        """The items' events summed what the items were *before*: the assigner swaps in what they are now,
        all of a batch in one call (each event's summary read and written once)."""
        moved = [(row, before) for row, before in revised if row.event_id is not None and Standing.of(row) != before]
        if self.events is not None and moved:
            self.events.revise(session, moved)

    def _content_change(self, session: Session, row: Item, item: NormalisedItem, now: dt.datetime) -> ItemChange:
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
        return change


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

