from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from classifiers.errors import DataError
from classifiers.events import Cluster, EventClusterer, Placement, TermIndex, Vector, cosine, hashed_vector
from classifiers.tokenizer import Tokenizer

T0 = dt.datetime(2024, 5, 1, 8, 0, tzinfo=dt.UTC)
HEATING = [
    "幸福小区冬季供暖温度不达标，暖气不热",
    "幸福小区暖气不热，供暖温度只有十五度",
    "幸福小区供暖不达标，家里暖气冰凉",
]
SCHOOL = "实验小学周末违规补课收费，老师强制学生参加"


@pytest.fixture()
def clusterer(tokenizer: Tokenizer) -> EventClusterer:
    return EventClusterer(tokenizer.tokenize, threshold=0.3)


def test_similar_items_join_one_event(clusterer: EventClusterer) -> None:
    ids = [clusterer.add(t, T0 + dt.timedelta(minutes=i)).event_id for i, t in enumerate(HEATING)]
    assert len(set(ids)) == 1
    other = clusterer.add(SCHOOL, T0)
    assert other.created and other.event_id != ids[0]
    held = clusterer.get(ids[0])
    assert held is not None and held.size == 3


def test_old_events_are_not_matched(clusterer: EventClusterer) -> None:
    first = clusterer.add(HEATING[0], T0)
    later = clusterer.add(HEATING[1], T0 + dt.timedelta(days=10))
    assert later.created and later.event_id != first.event_id


def test_duplicate_hint_is_a_shortcut(clusterer: EventClusterer) -> None:
    event = clusterer.add(HEATING[0], T0).event_id
    hinted = clusterer.add(SCHOOL, T0, hint_event=event)
    assert hinted.event_id == event and hinted.by_hint and not hinted.created
    unknown = clusterer.add(SCHOOL, T0, hint_event="nope")
    assert not unknown.by_hint


def test_state_round_trips_through_json(clusterer: EventClusterer, tokenizer: Tokenizer) -> None:
    a = clusterer.add(HEATING[0], T0).event_id
    clusterer.add(SCHOOL, T0)
    state = json.loads(json.dumps(clusterer.export_state()))
    restored = EventClusterer.from_state(state, tokenizer.tokenize)
    assert restored.add(HEATING[1], T0 + dt.timedelta(hours=1)).event_id == a
    assert restored.add("全新的话题：高速公路收费站拥堵", T0).event_id == "ev3"


def test_bad_state_is_refused(tokenizer: Tokenizer) -> None:
    with pytest.raises(DataError, match="version"):
        EventClusterer.from_state({"version": 0}, tokenizer.tokenize)
    with pytest.raises(DataError, match="malformed"):
        EventClusterer.from_state({"version": 1, "threshold": 0.3}, tokenizer.tokenize)


def test_naive_time_and_bad_threshold_are_refused(clusterer: EventClusterer, tokenizer: Tokenizer) -> None:
    with pytest.raises(ValueError, match="timezone"):
        clusterer.add("x", dt.datetime(2024, 1, 1))
    with pytest.raises(ValueError, match="threshold"):
        EventClusterer(tokenizer.tokenize, threshold=0)


def test_cosine_of_hashed_vectors() -> None:
    a = hashed_vector(["供暖", "暖气"], 1 << 20)
    assert cosine(a, a) == pytest.approx(1.0)
    assert cosine(a, hashed_vector(["学校"], 1 << 20)) == pytest.approx(0.0)


def test_forget_before(clusterer: EventClusterer) -> None:
    old = clusterer.add(HEATING[0], T0).event_id
    clusterer.add(SCHOOL, T0 + dt.timedelta(days=2))
    assert clusterer.forget_before(T0 + dt.timedelta(days=1)) == [old]

    assert clusterer.get(old) is None and len(clusterer) == 1


def test_rename_keeps_the_cluster_under_its_new_key(clusterer: EventClusterer) -> None:
    """A new cluster's key becomes the caller's id (the stored event's); later items find it there."""
    first = clusterer.add(HEATING[0], T0)
    renamed = clusterer.rename(first.event_id, "42")
    assert renamed.event_id == "42" and clusterer.get(first.event_id) is None
    assert clusterer.add(HEATING[1], T0 + dt.timedelta(minutes=5)).event_id == "42"
    assert clusterer.add(SCHOOL, T0, hint_event="42").event_id == "42"
    held = clusterer.get("42")
    assert held is not None and held.size == 3


def test_rename_refuses_unknown_and_taken_keys(clusterer: EventClusterer) -> None:
    a = clusterer.add(HEATING[0], T0).event_id
    b = clusterer.add(SCHOOL, T0).event_id
    with pytest.raises(KeyError):
        clusterer.rename("nope", "7")
    with pytest.raises(ValueError, match="taken"):
        clusterer.rename(a, b)
    assert clusterer.get(a) is not None and clusterer.get(b) is not None


def test_restored_cluster_is_matched_and_its_key_never_reused(tokenizer: Tokenizer) -> None:
    """A cluster stored by an earlier run is held again: a similar item joins it, and a new cluster
    never takes its key."""
    earlier = EventClusterer(tokenizer.tokenize, threshold=0.3)
    for i, text in enumerate(HEATING[:2]):
        earlier.add(text, T0 + dt.timedelta(minutes=i))
    earlier.rename("ev1", "ev7")
    stored = json.loads(json.dumps(earlier.get("ev7").to_data()))  # type: ignore[union-attr]
    later = EventClusterer(tokenizer.tokenize, threshold=0.3)
    later.restore(Cluster.from_data(stored))
    assert "ev7" in later
    joined = later.add(HEATING[2], T0 + dt.timedelta(hours=1))
    assert joined.event_id == "ev7" and not joined.created
    assert later.add(SCHOOL, T0).event_id == "ev8"


def test_term_index_scores_every_centroid_sharing_a_term_as_cosine_does() -> None:
    """Postings follow puts that reweigh, add and drop terms, and removals; a removed slot is reused."""
    index = TermIndex()
    first = index.add({1: 0.6, 2: 0.8})
    second = index.add({2: 1.0})
    third = index.add({9: 1.0})
    index.put(first, {2: 0.28, 3: 0.96})  # 1 dropped, 2 reweighed, 3 added
    index.remove(third)
    vec = {1: 0.48, 2: 0.6, 3: 0.64}
    slots, sums = index.scores(vec)
    assert dict(zip(slots.tolist(), sums.tolist(), strict=True)) == pytest.approx(
        {first: cosine(vec, {2: 0.28, 3: 0.96}), second: cosine(vec, {2: 1.0})})
    assert index.scores({9: 1.0})[0].size == 0 and index.scores({})[0].size == 0
    assert index.add({9: 1.0}) == third and len(index) == 3


def test_equal_similarities_go_to_the_cluster_held_first(clusterer: EventClusterer) -> None:
    """A tie goes to the earlier cluster in the clusterer's order, and a rename moves a cluster last."""
    twin = hashed_vector(["供暖", "暖气"], clusterer.n_features)
    for key in ("a", "b"):
        clusterer.restore(Cluster(key, dict(twin), 1, T0, T0))
    assert clusterer.add("供暖 暖气", T0).event_id == "a"
    clusterer.restore(Cluster("a", dict(twin), 1, T0, T0))  # the same key again keeps its place
    assert clusterer.add("供暖 暖气", T0).event_id == "a"
    clusterer.restore(Cluster("a", dict(twin), 1, T0, T0))
    clusterer.rename("a", "c")
    assert clusterer.add("供暖 暖气", T0).event_id == "b"


def test_replaced_and_forgotten_centroids_are_not_matched(clusterer: EventClusterer, tokenizer: Tokenizer) -> None:
    """Restoring a key over a held cluster indexes the new centroid instead of the old one; a forgotten
    cluster is not found by its terms."""
    school = hashed_vector(tokenizer.tokenize(SCHOOL), clusterer.n_features)
    clusterer.add(HEATING[0], T0)
    clusterer.restore(Cluster("ev1", school, 1, T0, T0))
    assert clusterer.add(SCHOOL, T0).event_id == "ev1"
    assert clusterer.add(HEATING[1], T0).created
    clusterer.forget_before(T0 + dt.timedelta(seconds=1))
    assert clusterer.add(SCHOOL, T0 + dt.timedelta(hours=1)).created


class OneByOne(EventClusterer):
    """The clusterer as it was before the term index: one cosine per held cluster, in order."""

    def _best_match(self, vec: Vector, when: dt.datetime) -> tuple[Cluster | None, float]:
        best: Cluster | None = None
        best_sim = 0.0
        for event in self._clusters.values():
            if when - event.last_seen <= self.window and (sim := cosine(vec, event.centroid)) > best_sim:
                best, best_sim = event, sim
        return best, best_sim


def test_dataset_items_are_placed_as_by_one_cosine_per_cluster(tokenizer: Tokenizer, subset: Any) -> None:
    """Real messages an hour apart (so a few hundred clusters are open at once), the caller's renames,
    a state round trip and the window's forgetting: every placement as the plain comparison gives it."""
    rows = subset("gov-messages", 240, seed=5) + subset("weibo-rumours", 120, seed=5)
    texts = [f"{r.get('title') or ''}\n{r['text']}".strip() for r in rows]
    window = dt.timedelta(days=10)
    indexed = EventClusterer(tokenizer.tokenize, threshold=0.2, window=window)  # lower: more joins
    plain = OneByOne(tokenizer.tokenize, threshold=0.2, window=window)
    for clusterer in (indexed, plain):
        clusterer.add(HEATING[0], T0)
        clusterer.add(HEATING[1], T0, hint_event="ev1")
    placed: dict[str, list[Placement]] = {"indexed": [], "plain": []}
    for k, text in enumerate(texts):
        when = T0 + dt.timedelta(hours=k)
        for name, clusterer in (("indexed", indexed), ("plain", plain)):
            placement = clusterer.add(text, when)
            placed[name].append(placement)
            if placement.created and k % 3 == 0:
                clusterer.rename(placement.event_id, f"stored{k}")
            if k % 50 == 49:
                clusterer.forget_before(when - window)
        if k == 180:
            indexed = EventClusterer.from_state(json.loads(json.dumps(indexed.export_state())), tokenizer.tokenize)
            plain = OneByOne.from_state(json.loads(json.dumps(plain.export_state())), tokenizer.tokenize)
    assert placed["indexed"] == placed["plain"]
    joined = sum(not p.created for p in placed["plain"])
    assert joined > 10 and len(placed["plain"]) - joined > 100  # both joins and new clusters were decided
