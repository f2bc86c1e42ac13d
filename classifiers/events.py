"""Online single-pass clustering of items into clusters (the events the monitor stores).

Each item is hashed into a sparse term vector (no fitted vocabulary, so the
clusterer never needs retraining) and compared by cosine with the centroids
of the :class:`Cluster` objects seen within ``window`` (only those sharing a term
with the item: a term index over the held centroids finds them, see
:class:`TermIndex`). Above ``threshold`` it
joins the best one, else it opens a new one; :meth:`EventClusterer.add` returns
the item's :class:`Placement`. A caller that already knows an item is a
near-duplicate of an item in cluster X (the monitor's dedupe) passes
``hint_event`` and skips the comparison.

The clusterer is a pure object: no clock (callers pass the item time), no I/O.
Callers hold its clusters only through :meth:`~EventClusterer.get`,
:meth:`~EventClusterer.restore`, :meth:`~EventClusterer.rename` and
:meth:`~EventClusterer.forget_before`. :meth:`EventClusterer.export_state`
returns plain JSON-able data that the store persists, and
:meth:`EventClusterer.from_state` restores it.
"""

from __future__ import annotations

import datetime as dt
import math
import zlib
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from classifiers.errors import DataError

STATE_VERSION = 1
Vector = dict[int, float]


def hashed_vector(tokens: list[str], n_features: int) -> Vector:
    """L2-normalised sublinear term-frequency vector over hashed token ids (crc32: stable across runs)."""
    counts = Counter(zlib.crc32(t.encode("utf-8")) % n_features for t in tokens)
    vec = {k: 1.0 + math.log(c) for k, c in counts.items()}
    return _normalised(vec)


def _normalised(vec: Vector) -> Vector:
    norm = math.sqrt(sum(v * v for v in vec.values()))
    return {k: v / norm for k, v in vec.items()} if norm > 0 else {}


def cosine(a: Vector, b: Vector) -> float:
    """Cosine of two L2-normalised sparse vectors."""
    if len(a) > len(b):
        a, b = b, a
    return sum(v * b.get(k, 0.0) for k, v in a.items())


class TermIndex:
    """For each term, the held centroids that have it and its weight in each (postings), kept up to
    date as centroids change.

    An item shares a term with most open centroids but only a few of its terms with each, so summing
    the products over the item's terms' postings touches far fewer entries than one :func:`cosine`
    per centroid, and reads no centroid. A centroid is known by a slot number, reused once it is
    removed, so the numbers stay below the count held. Sums go term by term in the item's order, so
    a score can differ from :func:`cosine`'s in the last bits. The price is memory: about 70 bytes a
    posting, some 6 kB for an open cluster of 90 terms beside the 9 kB its centroid takes.
    """

    def __init__(self) -> None:
        self._postings: dict[int, dict[int, float]] = {}  # term → slot → weight
        self._centroids: dict[int, Vector] = {}  # slot → the centroid its postings were made from
        self._free: list[int] = []

    def __len__(self) -> int:
        return len(self._centroids)

    def add(self, centroid: Vector) -> int:
        """Index a new centroid; returns its slot."""
        slot = self._free.pop() if self._free else len(self._centroids)
        self.put(slot, centroid)
        return slot

    def put(self, slot: int, centroid: Vector) -> None:
        """Index *centroid* under *slot* in place of what was indexed there (a running mean reweighs
        every term of its centroid, and adds or drops a few)."""
        for term in self._centroids.get(slot, {}).keys() - centroid.keys():
            self._drop(term, slot)
        postings = self._postings
        for term, weight in centroid.items():
            held = postings.get(term)
            if held is None:
                postings[term] = {slot: weight}
            else:
                held[slot] = weight
        self._centroids[slot] = centroid

    def remove(self, slot: int) -> None:
        """Forget the centroid indexed under *slot*, which a later :meth:`add` may take."""
        for term in self._centroids.pop(slot):
            self._drop(term, slot)
        self._free.append(slot)

    def _drop(self, term: int, slot: int) -> None:
        held = self._postings[term]
        del held[slot]
        if not held:
            del self._postings[term]

    def scores(self, vec: Vector) -> tuple[np.ndarray, np.ndarray]:
        """(slots, dot products) of the indexed centroids that share a term with *vec*.

        The products are made term by term (one list step each) and summed per slot in that order by
        one ``np.bincount``.
        """
        slots: list[int] = []
        products: list[float] = []
        for term, value in vec.items():
            held = self._postings.get(term)
            if held:
                slots += held
                products += [value * weight for weight in held.values()]
        sums = np.bincount(slots, weights=products) if slots else np.zeros(0)
        hit = np.flatnonzero(sums)
        return hit, sums[hit]


@dataclass
class Cluster:
    """An open cluster of items: its centroid (mean of member vectors, pruned), size and time span.

    ``event_id`` is the key the caller knows it by (the store's event id once stored). Only the
    clusterer changes a held cluster (its term index follows the centroid)."""

    event_id: str
    centroid: Vector
    size: int
    first_seen: dt.datetime
    last_seen: dt.datetime

    def to_data(self) -> dict[str, Any]:
        return {
            "event_id": self.event_id,
            "centroid": [[k, round(v, 6)] for k, v in sorted(self.centroid.items())],
            "size": self.size,
            "first_seen": self.first_seen.isoformat(),
            "last_seen": self.last_seen.isoformat(),
        }

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Cluster:
        return cls(
            event_id=str(data["event_id"]),
            centroid={int(k): float(v) for k, v in data["centroid"]},
            size=int(data["size"]),
            first_seen=dt.datetime.fromisoformat(data["first_seen"]),
            last_seen=dt.datetime.fromisoformat(data["last_seen"]),
        )


@dataclass(frozen=True)
class Placement:
    """Where one item went: its cluster's key, whether that cluster is new, and the similarity that decided."""

    event_id: str
    created: bool
    similarity: float
    by_hint: bool = False


class EventClusterer:
    """Single-pass clustering against the centroids of recent events."""

    def __init__(
        self,
        tokenize: Callable[[str], list[str]],
        *,
        threshold: float = 0.35,
        window: dt.timedelta = dt.timedelta(days=3),
        n_features: int = 1 << 20,
        max_centroid_terms: int = 200,
        id_prefix: str = "ev",
    ) -> None:
        if not 0.0 < threshold <= 1.0:
            raise ValueError(f"threshold must be in (0, 1], got {threshold!r}")
        if window <= dt.timedelta(0):
            raise ValueError("window must be positive")
        self.tokenize = tokenize
        self.threshold = threshold
        self.window = window
        self.n_features = n_features
        self.max_centroid_terms = max_centroid_terms
        self.id_prefix = id_prefix
        self._clusters: dict[str, Cluster] = {}  # by key, in the order they were opened or restored
        self._next_id = 1
        self._index = TermIndex()
        self._slots: dict[str, int] = {}  # key → the slot the index knows its centroid by
        self._held: dict[int, Cluster] = {}  # slot → cluster
        self._rank: dict[int, int] = {}  # slot → place in _clusters' order (the earlier wins a tie)
        self._next_rank = 0

    def __len__(self) -> int:
        return len(self._clusters)

    def __contains__(self, key: object) -> bool:
        return key in self._clusters

    def get(self, key: str) -> Cluster | None:
        """The open cluster known by *key*, or None (never opened, or forgotten)."""
        return self._clusters.get(key)

    def restore(self, cluster: Cluster) -> None:
        """Hold *cluster* again (a stored event after a restart), under its own key.

        A cluster already held under that key is replaced (keeping its place in the order). Restored
        keys that look like this clusterer's own (``<id_prefix><n>``) move the id counter past them, so
        a new cluster never takes a restored one's key.
        """
        slot = self._slots.get(cluster.event_id)
        if slot is None:
            self._hold(cluster)
        else:
            self._clusters[cluster.event_id] = self._held[slot] = cluster
            self._index.put(slot, cluster.centroid)
        self._skip_past(cluster.event_id)

    def rename(self, old_key: str, new_key: str) -> Cluster:
        """Hold the cluster known by *old_key* under *new_key* (a new event's key becomes its stored id).

        It moves last in the order, as a new key does. Raises KeyError for an unknown *old_key*,
        ValueError when *new_key* is another cluster's.
        """
        if new_key != old_key and new_key in self._clusters:
            raise ValueError(f"cluster key {new_key!r} is already taken")
        cluster = self._clusters.pop(old_key)
        slot = self._slots.pop(old_key)
        cluster.event_id = new_key
        self._clusters[new_key] = cluster
        self._slots[new_key] = slot
        self._rank[slot] = self._take_rank()
        self._skip_past(new_key)
        return cluster

    def _hold(self, cluster: Cluster) -> None:
        """Hold a cluster under a key not held yet, last in the order, and index its centroid."""
        slot = self._index.add(cluster.centroid)
        self._clusters[cluster.event_id] = self._held[slot] = cluster
        self._slots[cluster.event_id] = slot
        self._rank[slot] = self._take_rank()

    def _take_rank(self) -> int:
        self._next_rank += 1
        return self._next_rank

    def _skip_past(self, key: str) -> None:
        number = key[len(self.id_prefix):] if key.startswith(self.id_prefix) else ""
        if number.isdigit():
            self._next_id = max(self._next_id, int(number) + 1)

    def add(self, text: str, when: dt.datetime, *, hint_event: str | None = None) -> Placement:
        """Put one item into an event and return the assignment.

        ``when`` must be timezone-aware. ``hint_event`` names an event the item
        is known to duplicate; an unknown hint falls back to comparison.
        """
        if when.tzinfo is None:
            raise ValueError("item time must be timezone-aware")
        vec = hashed_vector(self.tokenize(text), self.n_features)
        if hint_event is not None and hint_event in self._clusters:
            event = self._clusters[hint_event]
            self._absorb(event, vec, when)
            return Placement(event.event_id, False, 1.0, by_hint=True)
        best, best_sim = self._best_match(vec, when)
        if best is not None and best_sim >= self.threshold:
            self._absorb(best, vec, when)
            return Placement(best.event_id, False, round(best_sim, 4))
        event = self._open(vec, when)
        return Placement(event.event_id, True, round(best_sim, 4))

    def _best_match(self, vec: Vector, when: dt.datetime) -> tuple[Cluster | None, float]:
        """The most similar cluster seen within the window (the earlier held on a tie) and its cosine.

        The index ranks the clusters sharing a term with the item (no other can score above 0); the
        winner's similarity is then :func:`cosine` itself, so the threshold sees the same number as
        when every centroid was compared one by one.
        """
        slots, sums = self._index.scores(vec)
        best: int | None = None
        best_sim = 0.0
        for i in np.argsort(-sums, kind="stable"):  # the highest first: usually the first is the one
            sim, slot = float(sums[i]), int(slots[i])
            if best is not None and sim < best_sim:
                break
            if when - self._held[slot].last_seen > self.window:
                continue
            if best is None or self._rank[slot] < self._rank[best]:
                best, best_sim = slot, sim
        if best is None:
            return None, 0.0
        cluster = self._held[best]
        return cluster, cosine(vec, cluster.centroid)

    def _open(self, vec: Vector, when: dt.datetime) -> Cluster:
        event_id = f"{self.id_prefix}{self._next_id}"
        self._next_id += 1
        event = Cluster(event_id, dict(vec), 1, when, when)
        self._hold(event)
        return event

    def _absorb(self, event: Cluster, vec: Vector, when: dt.datetime) -> None:
        """Running mean of member vectors, renormalised and pruned to the strongest terms."""
        n = event.size
        merged = {k: v * n for k, v in event.centroid.items()}
        for k, v in vec.items():
            merged[k] = merged.get(k, 0.0) + v
        if len(merged) > self.max_centroid_terms:
            keep = sorted(merged.items(), key=lambda kv: -kv[1])[: self.max_centroid_terms]
            merged = dict(keep)
        event.centroid = _normalised(merged)
        self._index.put(self._slots[event.event_id], event.centroid)
        event.size = n + 1
        event.first_seen = min(event.first_seen, when)
        event.last_seen = max(event.last_seen, when)

    def forget_before(self, cutoff: dt.datetime) -> list[str]:
        """Drop events last seen before ``cutoff`` (keeps the state small); returns their ids."""
        gone = [k for k, e in self._clusters.items() if e.last_seen < cutoff]
        for k in gone:
            del self._clusters[k]
            slot = self._slots.pop(k)
            del self._held[slot], self._rank[slot]
            self._index.remove(slot)
        return gone

    def export_state(self) -> dict[str, Any]:
        """Plain data (JSON-able) the store can persist."""
        return {
            "version": STATE_VERSION,
            "threshold": self.threshold,
            "window_seconds": self.window.total_seconds(),
            "n_features": self.n_features,
            "next_id": self._next_id,
            "events": [e.to_data() for e in self._clusters.values()],
        }

    @classmethod
    def from_state(
        cls, state: Mapping[str, Any], tokenize: Callable[[str], list[str]], **overrides: Any
    ) -> EventClusterer:
        """Rebuild a clusterer from :meth:`export_state` output."""
        if state.get("version") != STATE_VERSION:
            raise DataError(f"event state version {state.get('version')!r}, expected {STATE_VERSION}")
        try:
            params: dict[str, Any] = {
                "threshold": float(state["threshold"]),
                "window": dt.timedelta(seconds=float(state["window_seconds"])),
                "n_features": int(state["n_features"]),
            }
            params.update(overrides)
            clusterer = cls(tokenize, **params)
            clusterer._next_id = int(state["next_id"])
            for data in state["events"]:
                clusterer.restore(Cluster.from_data(data))
        except (KeyError, TypeError, ValueError) as exc:
            raise DataError(f"event state is malformed: {exc!r}") from None
        return clusterer
