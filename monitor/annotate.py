"""Adapters from the ``classifiers`` package to the pipeline's Annotator / EventAssigner.

* :class:`ClassifierAnnotator` wraps ``classifiers.api.Classifier`` (topic +
  rumour models). When no trained model is on disk the service stores items
  unannotated (category NULL) and logs why, rather than labelling them with a
  stand-in: a missing model is visible, a fake one is not.
* :class:`StoredEventAssigner` runs ``classifiers.events.EventClusterer`` and
  persists each event (title, category, counts, first/last seen, heat from
  ``classifiers.heat``, centroid) in the ``events`` table; on start it rebuilds
  the clusterer from the open events' stored centroids.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from classifiers.api import Classifier
from classifiers.errors import ClassifierError
from classifiers.events import Event as ClusterEvent
from classifiers.events import EventClusterer
from classifiers.heat import HeatInputs, Mention, heat_score
from classifiers.signals import EMERGENCY, TextSignals, burst_signal, merge, text_signals
from classifiers.tokenizer import Tokenizer
from monitor.items import NormalisedItem, host_of
from monitor.pipeline import Annotation, Annotator, EventAssigner, Reaction
from monitor.store.models import Clarification, Event, Item, Source
from playbooks.schema import Playbook

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
        result = self.classifier.classify(item_record(item, reactions))
        return Annotation(result.category, dict(result.category_scores), result.rumour_probability,
                          result.rumour_verdict, tuple(result.why))


def default_annotator(playbook: Playbook, models_dir: Path | None) -> Annotator | None:
    """The trained classifiers, or None (items stored unannotated) when no model can be loaded."""
    try:
        return ClassifierAnnotator(Classifier.load(playbook, models_dir=models_dir))
    except (ClassifierError, OSError) as exc:
        log.warning("items will be stored without category/rumour verdict: %s", exc)
        return None


class LazyAnnotator:
    """The trained classifiers, loaded when the first item needs them.

    Loading scikit-learn and the models takes seconds; commands that never classify (``sources
    list``, ``sources add``, a poll where every source answers 304) should not wait for it. When no
    model can be loaded, items are stored unannotated, as with no annotator at all.
    """

    def __init__(self, playbook: Playbook, models_dir: Path | None) -> None:
        self.playbook = playbook
        self.models_dir = models_dir
        self._inner: Annotator | None = None
        self._tried = False

    def _load(self) -> Annotator | None:
        if not self._tried:
            self._tried = True
            self._inner = default_annotator(self.playbook, self.models_dir)
        return self._inner

    def annotate(self, item: NormalisedItem | Item, reactions: Sequence[Reaction] = ()) -> Annotation:
        inner = self._load()
        return inner.annotate(item, reactions) if inner is not None else Annotation(None)


OFFICIAL_CLARIFICATION = "官方澄清"


def clarification_event(session: Session, item: Item, original: Item | None) -> int | None:
    """The event an item answers, when it is a submitted clarification's page or a reprint of one."""
    if original is not None and original.rumour_verdict == OFFICIAL_CLARIFICATION:
        return original.event_id
    if not item.url:
        return None
    return session.scalar(select(Clarification.event_id).where(Clarification.url == item.url,
                                                              Clarification.state != "rejected").limit(1))


class StoredEventAssigner:
    """Online event clustering whose state lives in the ``events`` table."""

    def __init__(self, playbook: Playbook, tokenizer: Tokenizer | None = None,
                 window: dt.timedelta = dt.timedelta(days=3)) -> None:
        self.playbook = playbook
        self.tokenizer = tokenizer or Tokenizer.from_playbook(playbook)
        self.window = window
        self.clusterer = EventClusterer(self.tokenizer.tokenize, window=window)
        self._loaded = False

    def _load(self, session: Session, now: dt.datetime) -> None:
        """Rebuild the clusterer's recent events from their stored centroids (once).

        Only events an item could still join: seen within the window and not closed. An event
        already routed (assigned, responded, ignored) keeps gathering its items after a restart.
        """
        self._loaded = True
        recent = select(Event).where(Event.status != "closed", Event.centroid.is_not(None),
                                     Event.last_seen_at >= now - self.window)
        for row in session.scalars(recent):
            try:
                event = ClusterEvent.from_data({**(row.centroid or {}), "event_id": str(row.id)})
            except (KeyError, TypeError, ValueError):
                continue
            self.clusterer.events[event.event_id] = event

    def assign(self, session: Session, item: Item, now: dt.datetime) -> Event | None:
        if not self._loaded:
            self._load(session, now)
        text = f"{item.title}\n{item.text}".strip()
        if not text:
            return None
        hint = None
        linked = item.reprint_of_id or item.repost_of_id  # a reprint or a repost joins its original's event
        original = session.get(Item, linked) if linked is not None else None
        if original is not None and original.event_id:
            hint = str(original.event_id)
        official = clarification_event(session, item, original)
        if official is not None:
            # Our own published clarification (or a reprint of it) belongs to the event it answers,
            # and is not itself a rumour, however much it quotes one.
            hint = str(official)
            item.rumour_probability, item.rumour_verdict = 0.0, OFFICIAL_CLARIFICATION
        marks = TextSignals() if official is not None else text_signals(item.title, item.text, self.playbook)
        when = item.published_at or now
        assignment = self.clusterer.add(text, when, hint_event=hint)
        if assignment.created:
            row = Event(title=(item.title or item.text)[:120], category=item.category, first_seen_at=when,
                        last_seen_at=when, item_count=0)
            session.add(row)
            session.flush()
            cluster = self.clusterer.events.pop(assignment.event_id)
            cluster.event_id = str(row.id)
            self.clusterer.events[cluster.event_id] = cluster
        else:
            found = session.get(Event, int(assignment.event_id))
            if found is None:
                return None
            row = found
        cluster = self.clusterer.events[str(row.id)]
        item.event_id = row.id
        session.flush()
        self._refresh(session, row, cluster, now, marks)
        return row

    def _refresh(self, session: Session, row: Event, cluster: ClusterEvent, now: dt.datetime,
                 marks: TextSignals = NO_MARKS) -> None:
        members = session.execute(
            select(Item.published_at, Item.fetched_at, Item.url, Source.host, Item.likes, Item.comments,
                   Item.reposts, Item.reprint_of_id, Item.category, Item.rumour_probability)
            .join(Source).where(Item.event_id == row.id)
        ).all()
        mentions = [Mention(when=m.published_at or m.fetched_at, host=host_of(m.url) or m.host,
                            engagement=m.likes + m.comments + m.reposts, is_reprint=m.reprint_of_id is not None)
                    for m in members]
        categories = Counter(m.category for m in members if m.category)
        rumour = max((m.rumour_probability or 0.0 for m in members), default=0.0)
        row.item_count = len(members)
        row.category = categories.most_common(1)[0][0] if categories else row.category
        row.first_seen_at = min(row.first_seen_at, cluster.first_seen)
        row.last_seen_at = max(row.last_seen_at, cluster.last_seen)
        row.rumour_probability = rumour
        score = heat_score(HeatInputs(mentions, row.category or self.playbook.fallback_category, rumour),
                           now, self.playbook)
        row.heat = score.score
        row.heat_breakdown = {"score": score.score, "explain": score.explain(),
                              "parts": [{"name": p.name, "raw": p.raw, "points": p.points, "note": p.note}
                                        for p in score.parts]}
        row.centroid = cluster.to_data()
        self._mark_signals(row, [m.published_at or m.fetched_at for m in members], now, marks)

    def _mark_signals(self, row: Event, times: list[dt.datetime], now: dt.datetime, found: TextSignals) -> None:
        """Merge the new item's text signals, places and the event's burst verdict into the stored event."""
        burst = burst_signal(times, now, self.playbook)
        row.signals = merge(row.signals or [], [*found.signals, *([burst] if burst else [])])
        row.places = list(dict.fromkeys([*(row.places or []), *found.places]))
        row.is_emergency = bool(row.is_emergency) or any(s.kind == EMERGENCY for s in found.signals)


def default_event_assigner(playbook: Playbook) -> EventAssigner:
    return StoredEventAssigner(playbook)
