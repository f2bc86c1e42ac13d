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
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from classifiers.signatures import SignatureIndex, canonical, distance, jaccard, match_basis, simhash
from monitor.config import DedupeSection
from monitor.items import NormalisedItem, host_of
from store.models import Item, Source


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
    """Finds the original an item repeats; keeps a signature index of the dedupe window fed from the store.

    The index grows from the highest item id it has seen, so each call reads
    only rows added since (by this process or any other), and drops what the
    window has left behind. It holds three numbers per original in NumPy arrays
    (:class:`classifiers.signatures.SignatureIndex`): id, signature, when stored.
    """

    def __init__(self, policy: DedupeSection) -> None:
        self.policy = policy
        self._index = SignatureIndex()
        self._high_id = 0
        self._latest: dt.datetime | None = None  # the latest *now* seen: the window's end

    def refresh(self, session: Session, now: dt.datetime) -> None:
        """Index originals stored since the last call, only those inside the dedupe window
        (a store of millions of items must not be held in memory to find this week's reprints),
        and forget those the window has moved past."""
        self._latest = now if self._latest is None else max(self._latest, now)
        self._index.forget_before((self._latest - self.policy.window).timestamp())
        high = session.scalar(select(func.max(Item.id))) or 0
        rows = session.execute(
            select(Item.id, Item.signature, Item.fetched_at)
            .where(Item.id > self._high_id, Item.fetched_at >= now - self.policy.window,
                   Item.signature.is_not(None), Item.reprint_of_id.is_(None))
            .order_by(Item.id)
            .execution_options(yield_per=5000)  # a month of a busy store is streamed, not held as rows
        )
        for item_id, signature, fetched in rows:
            if signature is not None:  # the query excludes them; the type does not know
                self.remember(item_id, signature, fetched)
        self._high_id = max(self._high_id, high)

    def __len__(self) -> int:
        """How many originals the index holds."""
        return len(self._index)

    def remember(self, item_id: int, signature: int, at: dt.datetime | None) -> None:
        """Index an original; *at* is when we stored it (the window counts from there; None: always in it)."""
        self._index.add(item_id, signature, None if at is None else at.timestamp())
        self._high_id = max(self._high_id, item_id)

    def find_many(
        self,
        session: Session,
        items: Sequence[NormalisedItem],
        source_id: int,
        signatures: Sequence[int | None],
        now: dt.datetime,
    ) -> list[Match | None]:
        """For each item, the earliest other-source item it repeats, or None.

        Three queries for the whole batch (linked URLs, equal content, near-duplicate candidates)
        whatever its size; items of the batch never match each other (they share a source).
        """
        by_url: dict[str, Item] = {}
        for row in _rows_in(session, Item.url, {link for item in items for link in item.links},
                            Item.source_id != source_id):
            if row.url is not None and (row.url not in by_url or row.id < by_url[row.url].id):
                by_url[row.url] = row
        by_hash: dict[str, Item] = {}
        for row in _rows_in(session, Item.content_hash, {item.content_hash for item in items},
                            Item.source_id != source_id):
            if row.content_hash not in by_hash or row.id < by_hash[row.content_hash].id:
                by_hash[row.content_hash] = row
        horizon = (now - self.policy.window).timestamp()
        candidates = [
            [] if signature is None else
            [key for key, _ in self._index.within(signature, self.policy.near_duplicate_max_distance, horizon)]
            for signature in signatures
        ]
        near_rows = {row.id: row for row in _rows_in(session, Item.id, {k for keys in candidates for k in keys},
                                                     Item.source_id != source_id)}
        out: list[Match | None] = []
        for item, signature, keys in zip(items, signatures, candidates, strict=True):
            linked = [by_url[link] for link in item.links if link in by_url]
            if linked:
                out.append(Match(_root(min(linked, key=lambda row: row.id)), "link", 1.0))
            elif item.content_hash in by_hash:
                out.append(Match(_root(by_hash[item.content_hash]), "near_duplicate", 1.0))
            elif signature is None:
                out.append(None)
            else:
                out.append(self._near(item, [near_rows[k] for k in keys if k in near_rows]))
        return out

    def _near(self, item: NormalisedItem, rows: Sequence[Item]) -> Match | None:
        if not rows:
            return None
        basis = match_basis(item.title, item.text, self.policy.min_chars)
        confirmed = [(r, jaccard(basis, match_basis(r.title, r.text, self.policy.min_chars))) for r in rows]
        confirmed = [(r, score) for r, score in confirmed if score >= self.policy.min_jaccard]
        if not confirmed:
            return None
        earliest, score = min(confirmed, key=lambda pair: (pair[0].published_at or pair[0].fetched_at, pair[0].id))
        return Match(_root(earliest), "near_duplicate", round(score, 4))


def _root(item: Item) -> int:
    return item.reprint_of_id or item.id


_IN_CHUNK = 500  # values per IN (...) list: well inside SQLite's and PostgreSQL's parameter limits


def _rows_in(
    session: Session, column: InstrumentedAttribute[Any], values: Collection[Any], *where: ColumnElement[bool]
) -> list[Item]:
    """Items whose *column* is one of *values* (and match *where*), one query per 500 values."""
    ordered = sorted(v for v in values if v is not None)
    rows: list[Item] = []
    for start in range(0, len(ordered), _IN_CHUNK):
        rows += session.scalars(select(Item).where(column.in_(ordered[start:start + _IN_CHUNK]), *where)).all()
    return rows


def existing_items(session: Session, source_id: int, external_ids: Collection[str]) -> dict[str, Item]:
    """The source's stored items with these external ids, by external id."""
    return {row.external_id: row for row in _rows_in(session, Item.external_id, external_ids,
                                                     Item.source_id == source_id)}


def content_holders(session: Session, source_id: int, digests: Collection[str]) -> dict[str, set[int]]:
    """For each of these content hashes, the ids of the source's stored items that have it."""
    held: dict[str, set[int]] = {}
    for row in _rows_in(session, Item.content_hash, digests, Item.source_id == source_id):
        held.setdefault(row.content_hash, set()).add(row.id)
    return held


def host_for(item: NormalisedItem, source: Source) -> str:
    return item.host or source.host or host_of(source.url)


__all__ = ["Match", "ReprintFinder", "content_holders", "distance", "existing_items", "host_for", "signature_of"]
