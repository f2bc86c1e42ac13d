"""Adapters from the ``classifiers`` package to the pipeline's Annotator / EventAssigner.

* :class:`ClassifierAnnotator` wraps ``classifiers.api.Classifier`` (topic +
  rumour models). When no trained model is on disk the service stores items
  unannotated (category NULL) and logs why, rather than labelling them with a
  stand-in: a missing model is visible, a fake one is not.
* :class:`StoredEventAssigner` runs ``classifiers.events.EventClusterer`` and
  persists each event (title, category, counts, first/last seen, heat from
  ``classifiers.heat``, centroid) in the ``events`` table; on start it rebuilds
  the clusterer from the open events' stored centroids. Each event's running
  summary (``classifiers.tally``, stored as ``events.heat_state``) is what the
  heat, category and burst test are read from, so a batch reads its own items,
  not every member of a long-running event.
* :class:`ClarificationLookup` is the one question the assigner asks a later stage:
  which event does the page at this URL answer (our own published clarification)?
  The responders answer it; the monitor never reads their tables.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import threading
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from classifiers.api import Classifier
from classifiers.errors import ClassifierError, SummaryError, TokenizerMismatchError
from classifiers.events import Cluster, EventClusterer
from classifiers.heat import Mention
from classifiers.modelio import MANIFEST_FILE, MODEL_FILE, default_model_dir
from classifiers.signals import EMERGENCY, Signal, TextSignals, merge, text_signals
from classifiers.tally import EventTally, Member, TallyBasis
from classifiers.tokenizer import Tokenizer
from monitor.errors import ModelsMismatch
from monitor.items import NormalisedItem, host_of
from monitor.pipeline import Annotation, Annotator, EventAssigner, Reaction, Standing
from playbooks.schema import Playbook
from store.models import Event, Item, Source

log = logging.getLogger(__name__)
NO_MARKS = TextSignals()  # an item with no signal words


def item_record(item: NormalisedItem | Item, reactions: Sequence[Reaction] = ()) -> dict[str, Any]:
    """The record shape the classifiers read (dataset field names), with the reposts seen so far."""
    return {
        "title": item.title, "text": item.text,
        "time": item.published_at.isoformat() if item.published_at else None,
        "reposts_count": item.reposts, "comments_count": item.comments, "likes_count": item.likes,
        "user": {"verified": item.author_verified, "followers": item.author_followers},
        "reposts": [{"text": text, "time": when.isoformat() if when else None} for text, when in reactions],
    }


class ClassifierAnnotator:
    """Topic category and rumour verdict from the trained models."""

    def __init__(self, classifier: Classifier) -> None:
        self.classifier = classifier

    def annotate(self, item: NormalisedItem | Item, reactions: Sequence[Reaction] = ()) -> Annotation:
        return self.annotate_many([item], [reactions])[0]

    def annotate_many(
        self, items: Sequence[NormalisedItem | Item], reactions: Sequence[Sequence[Reaction]] | None = None
    ) -> list[Annotation]:
        """One ``classify_many`` call: each model's vectorisers and classifier run once for the batch."""
        seen = reactions if reactions is not None else [()] * len(items)
        results = self.classifier.classify_many([item_record(i, r) for i, r in zip(items, seen, strict=True)])
        return [Annotation(r.category, dict(r.category_scores), r.rumour_probability, r.rumour_verdict,
                           tuple(r.why)) for r in results]


_SHARED_LOCK = threading.Lock()
_SHARED: dict[tuple[object, ...], Annotator] = {}
_SHARED_KEEP = 2  # the loaded models of at most this many (model files, playbook) pairs stay in memory


def _models_key(playbook: Playbook, models_dir: Path | None) -> tuple[object, ...]:
    """What a load depends on: the model files as they are on disk now, and the playbook (its tokenizer and
    rumour thresholds); a retrained model or an edited playbook is a new key."""
    files = []
    for kind in ("topic", "rumour"):
        for name in (MODEL_FILE, MANIFEST_FILE):
            path = default_model_dir(kind, models_dir) / name
            files.append((str(path.resolve()), path.stat().st_mtime_ns if path.exists() else None))
    return (*files, hashlib.sha256(playbook.model_dump_json().encode()).hexdigest())


def default_annotator(playbook: Playbook, models_dir: Path | None) -> Annotator | None:
    """The trained classifiers, or None (items stored unannotated) when no model can be loaded.

    Loaded once per process for the same model files and playbook: every monitor built in one process
    (the service's, a command's, each test's) shares them; a classifier holds no state between calls.
    """
    return shared_models(playbook, models_dir)[0]


def shared_models(playbook: Playbook, models_dir: Path | None) -> tuple[Annotator | None, Exception | None]:
    """The process's load of these model files under this playbook, and why it failed when it did.

    A failed load is not kept: it holds no memory, so it must not push out models that did load (they
    would be loaded again, seconds each time); the next monitor built for those files tries again.
    """
    key = _models_key(playbook, models_dir)
    with _SHARED_LOCK:
        if key in _SHARED:
            _SHARED[key] = _SHARED.pop(key)  # the most recently used is kept longest
            return _SHARED[key], None
        annotator, problem = _load_annotator(playbook, models_dir)
        if annotator is not None:
            while len(_SHARED) >= _SHARED_KEEP:
                del _SHARED[next(iter(_SHARED))]
            _SHARED[key] = annotator
        return annotator, problem


def _load_annotator(playbook: Playbook, models_dir: Path | None) -> tuple[Annotator | None, Exception | None]:
    try:
        return ClassifierAnnotator(Classifier.load(playbook, models_dir=models_dir)), None
    except (ClassifierError, OSError) as exc:
        log.warning("items will be stored without category/rumour verdict: %s", exc)
        return None, exc


class LazyAnnotator:
    """The trained classifiers, loaded when the first item needs them.

    Loading scikit-learn and the models takes seconds; commands that never classify (``sources
    list``, ``sources add``, a poll where every source answers 304) should not wait for it. When no
    model is trained yet, items are stored unannotated, as with no annotator at all. Models cut with
    another tokenizer than the playbook's are a mistake that would do the same to every item silently:
    :meth:`load` raises :class:`~monitor.errors.ModelsMismatch` instead, so ``yuqing run`` does not start
    and a poll or a worker stores nothing (a poll reports it per source, and fetches the items again).
    """

    def __init__(self, playbook: Playbook, models_dir: Path | None) -> None:
        self.playbook = playbook
        self.models_dir = models_dir
        self._inner: Annotator | None = None
        self.problem: Exception | None = None  # why the models could not be loaded, once tried
        self._tried = False
        self._loading = threading.Lock()  # a poll cycle loads ahead in one thread while a batch may ask in another

    def load(self) -> Annotator | None:
        """The models, loaded now if not yet (blocking; None when there are none to load)."""
        with self._loading:
            if not self._tried:
                self._inner, self.problem = shared_models(self.playbook, self.models_dir)
                self._tried = True
        if isinstance(self.problem, TokenizerMismatchError):
            raise ModelsMismatch(f"{self.problem}; until then every item would be stored without a category "
                                 "or rumour verdict, so none is stored")
        return self._inner

    def annotate(self, item: NormalisedItem | Item, reactions: Sequence[Reaction] = ()) -> Annotation:
        inner = self.load()
        return inner.annotate(item, reactions) if inner is not None else Annotation(None)

    def annotate_many(
        self, items: Sequence[NormalisedItem | Item], reactions: Sequence[Sequence[Reaction]] | None = None
    ) -> list[Annotation]:
        inner = self.load()
        return inner.annotate_many(items, reactions) if inner is not None else [Annotation(None) for _ in items]


OFFICIAL_CLARIFICATION = "官方澄清"


class ClarificationLookup(Protocol):
    """Which event each of these pages answers, when it is our own clarification's page.

    The monitor asks; the stage that keeps clarifications (responders) answers, so the monitor
    never reads that stage's tables. Without a lookup no item is taken for a clarification.
    """

    def answered_events(self, session: Session, urls: Collection[str]) -> Mapping[str, int]:
        """For each URL that is a (not rejected) clarification's page, the id of the event it answers."""
        ...


def member_rows(session: Session, event_ids: Collection[int]) -> Iterator[Any]:
    """What heat reads of every item of these events, in item id order per chunk of 500 events."""
    ids = sorted(event_ids)
    for start in range(0, len(ids), 500):
        yield from session.execute(
            select(Item.id, Item.event_id, Item.published_at, Item.fetched_at, Item.url, Source.host,
                   Item.likes, Item.comments, Item.reposts, Item.reprint_of_id, Item.category,
                   Item.rumour_probability)
            .join(Source).where(Item.event_id.in_(ids[start:start + 500])).order_by(Item.id)
        )


class StoredEventAssigner:
    """Online event clustering whose state lives in the ``events`` table."""

    def __init__(self, playbook: Playbook, tokenizer: Tokenizer | None = None,
                 window: dt.timedelta = dt.timedelta(days=3),
                 clarifications: ClarificationLookup | None = None) -> None:
        self.playbook = playbook
        self.tokenizer = tokenizer or Tokenizer.from_playbook(playbook)
        self.window = window
        self.clarifications = clarifications
        self.clusterer = EventClusterer(self.tokenizer.tokenize, window=window)
        self._loaded = False
        self._latest: dt.datetime | None = None  # the latest *now* seen: where the window ends
        self.basis = TallyBasis.of(playbook)  # what the events' stored summaries must have been summed under

    def _load(self, session: Session, now: dt.datetime) -> None:
        """Rebuild the clusterer's recent events from their stored centroids (once).

        Only events an item could still join: seen within the window and not closed. An event
        already routed (assigned, responded, ignored) keeps gathering its items after a restart.
        """
        self._loaded = True
        self._restore(session, Event.last_seen_at >= now - self.window)

    def _restore(self, session: Session, *where: ColumnElement[bool]) -> None:
        """Hold again the stored centroids of the open events *where* selects; a centroid that no longer
        reads is skipped (two columns, not whole rows with heat and signals)."""
        query = select(Event.id, Event.centroid).where(Event.status != "closed", Event.centroid.is_not(None), *where)
        for event_id, centroid in session.execute(query):
            try:
                cluster = Cluster.from_data({**(centroid or {}), "event_id": str(event_id)})
            except (KeyError, TypeError, ValueError):
                continue
            self.clusterer.restore(cluster)

    def _prune(self, now: dt.datetime) -> None:
        """Forget clusters last seen before the window (the latest *now* seen, minus the window): the
        clusterer holds what a restart would rebuild, not every event since the service started."""
        self._latest = now if self._latest is None else max(self._latest, now)
        self.clusterer.forget_before(self._latest - self.window)

    def _answered(self, session: Session, items: Sequence[Item]) -> Mapping[str, int]:
        if self.clarifications is None:
            return {}
        urls = {i.url for i in items if i.url}
        return self.clarifications.answered_events(session, urls) if urls else {}

    def forget(self) -> None:
        """Drop the events held in memory; the next batch rebuilds them from their stored centroids."""
        self.clusterer = EventClusterer(self.tokenizer.tokenize, window=self.window)
        self._loaded = False

    def catch_up(self, session: Session, event_ids: Sequence[int]) -> None:
        """Read these events' stored centroids again (another process changed them); nothing when the events
        are not loaded yet (the first batch reads them all). A closed one is left as it is held, as in one
        process that closes nothing of its own."""
        if self._loaded and event_ids:
            self._restore(session, Event.id.in_(set(event_ids)))

    def assign_many(self, session: Session, items: Sequence[Item], now: dt.datetime) -> None:
        """Cluster *items* in order, then store each event touched once: new events in one insert, and
        counts, heat, centroid and signals from one query over the touched events' items."""
        if not self._loaded:
            self._load(session, now)
        self._prune(now)
        linked = {i.reprint_of_id or i.repost_of_id for i in items} - {None}
        if linked:  # the originals, into the session's identity map in one query
            session.scalars(select(Item).where(Item.id.in_(linked))).all()
        answering = self._answered(session, items)
        key_of: dict[int, str] = {}  # item id → its cluster's key (a new event's key until it is stored)
        created: dict[str, Event] = {}
        placed: list[tuple[Item, str, TextSignals]] = []
        for item in items:
            text = f"{item.title}\n{item.text}".strip()
            if not text:
                continue
            hint = None
            original_id = item.reprint_of_id or item.repost_of_id  # a reprint or a repost joins its original's event
            original = session.get(Item, original_id) if original_id is not None else None
            original_key = None
            if original is not None:
                original_key = key_of.get(original.id) or (str(original.event_id) if original.event_id else None)
                hint = original_key
            if original is not None and original.rumour_verdict == OFFICIAL_CLARIFICATION:
                official = original_key
            else:
                found = answering.get(item.url) if item.url else None
                official = str(found) if found is not None else None
            if official is not None:
                # Our own published clarification (or a reprint of it) belongs to the event it answers,
                # and is not itself a rumour, however much it quotes one.
                hint = official
                item.rumour_probability, item.rumour_verdict = 0.0, OFFICIAL_CLARIFICATION
            marks = TextSignals() if official is not None else text_signals(item.title, item.text, self.playbook)
            when = item.published_at or now
            placement = self.clusterer.add(text, when, hint_event=hint)
            if placement.created:
                created[placement.event_id] = Event(title=(item.title or item.text)[:120], category=item.category,
                                                    first_seen_at=when, last_seen_at=when, item_count=0)
            key_of[item.id] = placement.event_id
            placed.append((item, placement.event_id, marks))
        session.add_all(created.values())
        session.flush()
        for key, row in created.items():  # in creation order, so the clusterer's order is kept
            self.clusterer.rename(key, str(row.id))
        stored_keys = {int(key) for _, key, _ in placed if key not in created}
        events = {row.id: row for row in session.scalars(select(Event).where(Event.id.in_(stored_keys)))}
        events.update({row.id: row for row in created.values()})
        touched: dict[int, list[tuple[Item, TextSignals]]] = {}
        for item, key, marks in placed:
            event_id = created[key].id if key in created else int(key)
            if event_id not in events:
                item.event_id = None
                continue
            item.event_id = event_id
            touched.setdefault(event_id, []).append((item, marks))
        session.flush()
        self._refresh(session, events, touched, {row.id for row in created.values()}, now)

    def _refresh(self, session: Session, events: dict[int, Event], touched: dict[int, list[tuple[Item, TextSignals]]],
                 created: set[int], now: dt.datetime) -> None:
        """Add the arriving items to each touched event's running summary and store it scored.

        The summary (``events.heat_state``, :class:`classifiers.tally.EventTally`) carries the decayed heat
        sums, counts, highest rumour probability and burst times, so only the arrivals are read; an event
        without a usable summary has it summed from its stored items first (one query for all of them).
        Signals merge item by item, in order, the burst judged as each item found it.
        """
        tallies = self._tallies(session, events, touched, created, now)
        for event_id, arrivals in touched.items():
            row, tally, cluster = events[event_id], tallies[event_id], self.clusterer.get(str(event_id))
            for item, marks in arrivals:
                tally.add(self._member(item, item.source.host))
                self._mark_signals(row, tally.burst_signal(now), marks)
            row.item_count = tally.count
            row.category = tally.category() or row.category
            if cluster is not None:  # always: the batch placed items into it
                row.first_seen_at = min(row.first_seen_at, cluster.first_seen)
                row.last_seen_at = max(row.last_seen_at, cluster.last_seen)
                row.centroid = cluster.to_data()
            row.rumour_probability = tally.rumour
            score = tally.score(row.category or self.playbook.fallback_category, now)
            row.heat = score.score
            row.heat_breakdown = {"score": score.score, "explain": score.explain(),
                                  "parts": [{"name": p.name, "raw": p.raw, "points": p.points, "note": p.note,
                                             "facts": dict(p.facts)} for p in score.parts]}
            tally.settle(now)
            row.heat_state = tally.to_data()

    def _tallies(self, session: Session, events: Mapping[int, Event],
                 touched: Mapping[int, Sequence[tuple[Item, TextSignals]]], created: set[int],
                 now: dt.datetime) -> dict[int, EventTally]:
        """Each touched event's summary before this batch: a new event's is empty, a stored one is read
        back, and the rest are summed from their stored items but the arriving ones."""
        tallies: dict[int, EventTally] = {}
        missing: list[int] = []
        for event_id in touched:
            found = EventTally.start(self.basis) if event_id in created else self._stored(events[event_id], now)
            if found is None:
                missing.append(event_id)
            else:
                tallies[event_id] = found
        if missing:
            arrived = {item.id for arrivals in touched.values() for item, _ in arrivals}
            tallies.update(self._summed(session, missing, arrived))
        return tallies

    def _stored(self, row: Event, now: dt.datetime) -> EventTally | None:
        """The event's stored summary, or None when it has to be summed again (see classifiers.tally)."""
        if row.heat_state is None:
            return None
        try:
            tally = EventTally.from_data(row.heat_state, self.basis)
        except SummaryError as exc:
            log.info("event %s: its summary is summed again from its items (%s)", row.id, exc)
            return None
        if not tally.covers(now):
            log.info("event %s: its summary is summed again from its items (it cannot serve %s)",
                     row.id, now.isoformat())
            return None
        return tally

    def _summed(self, session: Session, event_ids: Sequence[int], skip: set[int]) -> dict[int, EventTally]:
        """The summaries of these events from their stored items, in id order (*skip*: the arriving ones)."""
        tallies = {event_id: EventTally.start(self.basis) for event_id in event_ids}
        for m in member_rows(session, event_ids):
            if m.id not in skip:
                tallies[m.event_id].add(self._member(m, m.host))
        return tallies

    @staticmethod
    def _member(m: _MemberFields, source_host: str | None) -> Member:
        """An item as its event's summary reads it (the host of its own URL, else its source's)."""
        return Member(Mention(when=m.published_at or m.fetched_at, host=host_of(m.url) or source_host,
                              engagement=m.likes + m.comments + m.reposts, is_reprint=m.reprint_of_id is not None),
                      m.category, m.rumour_probability)

    def revise(self, session: Session, changed: Sequence[tuple[Item, Standing]]) -> None:
        """Swap each item as it was for the item as it is in its event's stored summary (this transaction), so
        the event's next score reads the items' current counts, as one summed from every item would. Each
        event's summary is read and written once. A summary that cannot follow the change is dropped and
        summed again at the event's next batch."""
        by_event: dict[int, list[tuple[Item, Standing]]] = {}
        for item, before in changed:
            if item.event_id is not None:
                by_event.setdefault(item.event_id, []).append((item, before))
        if not by_event:
            return
        for row in session.scalars(select(Event).where(Event.id.in_(by_event))):
            if row.heat_state is None:
                continue
            try:
                tally = EventTally.from_data(row.heat_state, self.basis)
                for item, before in by_event[row.id]:
                    current = self._member(item, item.source.host)
                    tally.revise(self._as_before(current, item, before), current)
            except SummaryError as exc:
                log.info("event %s: its summary is dropped, to be summed again (%s)", row.id, exc)
                row.heat_state = None
                continue
            row.heat_state = tally.to_data()

    @staticmethod
    def _as_before(current: Member, item: Item, before: Standing) -> Member:
        """The member *item* was before it changed (its event's summary holds that one)."""
        return replace(current, mention=replace(current.mention, host=host_of(before.url) or item.source.host,
                                                engagement=before.likes + before.comments + before.reposts),
                       rumour_probability=before.rumour_probability)

    def _mark_signals(self, row: Event, burst: Signal | None, found: TextSignals) -> None:
        """Merge the new item's text signals, places and the event's burst verdict into the stored event."""
        row.signals = merge(row.signals or [], [*found.signals, *([burst] if burst else [])])
        row.places = list(dict.fromkeys([*(row.places or []), *found.places]))
        row.is_emergency = bool(row.is_emergency) or any(s.kind == EMERGENCY for s in found.signals)


class _MemberFields(Protocol):
    """The columns an event's summary reads from an item (a stored row or a query's tuple)."""

    published_at: dt.datetime | None
    fetched_at: dt.datetime
    url: str | None
    likes: int
    comments: int
    reposts: int
    reprint_of_id: int | None
    category: str | None
    rumour_probability: float | None


def default_event_assigner(playbook: Playbook, tokenizer: Tokenizer | None = None,
                           clarifications: ClarificationLookup | None = None) -> EventAssigner:
    return StoredEventAssigner(playbook, tokenizer, clarifications=clarifications)
