"""Exact duplicates and reprints, checked against the store so they hold across restarts.

* Same source, same external id: the item we already have (maybe updated).
* Same source, same content hash, new id: a duplicate (a feed that re-issued its
  GUIDs); not stored again.
* Another source carrying the same content: stored, and marked as a reprint of
  the earliest item with that content — by link (it links to the original's
  URL), by identical content, or by near-duplicate SimHash within the
  configured Hamming distance (``dedupe`` in the sources file).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from classifiers.signatures import SignatureIndex, canonical, distance, jaccard, match_basis, simhash
from monitor.config import DedupeSection
from monitor.items import NormalisedItem, host_of
from monitor.store.models import Item, Source


@dataclass(frozen=True)
class Match:
    """The original an item repeats, how we know, and how alike they are."""

    original_id: int
    method: str  # link | near_duplicate
    similarity: float


def signature_of(item: NormalisedItem, policy: DedupeSection) -> int | None:
    """The item's SimHash, or None when its text is too short to judge fuzzily."""
    basis = match_basis(item.title, item.text, policy.min_chars)
    if len(canonical(basis)) < policy.min_chars:
        return None
    return simhash(basis)


class ReprintFinder:
    """Finds the original an item repeats; keeps a signature index fed from the store.

    The index grows from the highest item id it has seen, so each call reads
    only rows added since (by this process or any other).
    """

    def __init__(self, policy: DedupeSection) -> None:
        self.policy = policy
        self._index = SignatureIndex()
        self._times: dict[int, dt.datetime | None] = {}
        self._high_id = 0

    def refresh(self, session: Session, now: dt.datetime) -> None:
        """Index originals stored since the last call, only those inside the dedupe window
        (a store of millions of items must not be held in memory to find this week's reprints)."""
        high = session.scalar(select(func.max(Item.id))) or 0
        rows = session.execute(
            select(Item.id, Item.signature, Item.fetched_at)
            .where(Item.id > self._high_id, Item.fetched_at >= now - self.policy.window,
                   Item.signature.is_not(None), Item.reprint_of_id.is_(None))
            .order_by(Item.id)
        )
        for item_id, signature, fetched in rows:
            if signature is not None:  # the query excludes them; the type does not know
                self.remember(item_id, signature, fetched)
        self._high_id = max(self._high_id, high)

    def remember(self, item_id: int, signature: int, at: dt.datetime | None) -> None:
        """Index an original; *at* is when we stored it (the window counts from there)."""
        self._index.add(item_id, signature)
        self._times[item_id] = at
        self._high_id = max(self._high_id, item_id)

    def find(
        self, session: Session, item: NormalisedItem, source_id: int, signature: int | None, now: dt.datetime
    ) -> Match | None:
        """The earliest other-source item this one repeats, or None."""
        if item.links:
            linked = session.scalars(
                select(Item).where(Item.url.in_(item.links), Item.source_id != source_id).order_by(Item.id).limit(1)
            ).first()
            if linked is not None:
                return Match(_root(linked), "link", 1.0)
        same = session.scalars(
            select(Item)
            .where(Item.content_hash == item.content_hash, Item.source_id != source_id)
            .order_by(Item.id)
            .limit(1)
        ).first()
        if same is not None:
            return Match(_root(same), "near_duplicate", 1.0)
        if signature is None:
            return None
        return self._near(session, item, signature, source_id, now)

    def _near(
        self, session: Session, item: NormalisedItem, signature: int, source_id: int, now: dt.datetime
    ) -> Match | None:
        horizon = now - self.policy.window
        candidates = [
            (key, dist)
            for key, dist in self._index.within(signature, self.policy.near_duplicate_max_distance)
            if (self._times.get(key) or now) >= horizon
        ]
        if not candidates:
            return None
        rows = session.scalars(
            select(Item).where(Item.id.in_([k for k, _ in candidates]), Item.source_id != source_id)
        ).all()
        basis = match_basis(item.title, item.text, self.policy.min_chars)
        confirmed = [(r, jaccard(basis, match_basis(r.title, r.text, self.policy.min_chars))) for r in rows]
        confirmed = [(r, score) for r, score in confirmed if score >= self.policy.min_jaccard]
        if not confirmed:
            return None
        earliest, score = min(confirmed, key=lambda pair: (pair[0].published_at or pair[0].fetched_at, pair[0].id))
        return Match(_root(earliest), "near_duplicate", round(score, 4))


def _root(item: Item) -> int:
    return item.reprint_of_id or item.id


def find_existing(session: Session, source_id: int, external_id: str) -> Item | None:
    return session.scalars(select(Item).where(Item.source_id == source_id, Item.external_id == external_id)).first()


def find_same_content(session: Session, source_id: int, digest: str) -> Item | None:
    return session.scalars(
        select(Item).where(Item.source_id == source_id, Item.content_hash == digest).limit(1)
    ).first()


def host_for(item: NormalisedItem, source: Source) -> str:
    return item.host or source.host or host_of(source.url)


__all__ = ["Match", "ReprintFinder", "distance", "find_existing", "find_same_content", "host_for", "signature_of"]
