from __future__ import annotations

import datetime as dt
import json

import pytest

from classifiers.errors import DataError
from classifiers.events import Cluster, EventClusterer, cosine, hashed_vector
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
