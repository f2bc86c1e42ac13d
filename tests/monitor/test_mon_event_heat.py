"""Event heat from each event's running summary (events.heat_state): a batch reads its own items, and the
stored event reads what a pass over all its items reads (heat, count, category, rumour, signals)."""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from mon_builders import records
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from classifiers.heat import HeatInputs, Mention, heat_score
from monitor.annotate import StoredEventAssigner
from monitor.clock import FrozenClock
from monitor.config import parse_sources
from monitor.items import NormalisedItem, host_of, parse_time
from monitor.pipeline import Annotation, Annotator, Reaction
from monitor.wiring import Monitor, build_monitor
from playbooks.schema import Playbook
from store import session_scope
from store.models import Event, Item, Source

START = dt.datetime(2026, 11, 23, 2, 0, tzinfo=dt.UTC)


class ResummingAssigner(StoredEventAssigner):
    """Sums every touched event from all its items at each batch (what the assigner did before summaries)."""

    def _stored(self, row: Event, now: dt.datetime) -> None:
        return None


class RumourByWords(Annotator):
    """A post that passes on hearsay (传) is a likely rumour until reposts answer it; the rest are not."""

    def annotate(self, item: NormalisedItem | Item, reactions: Sequence[Reaction] = ()) -> Annotation:
        p = (0.1 if reactions else 0.9) if "传" in (item.text or "") else 0.05
        return Annotation("交通", {"交通": 1.0}, p, "待核实" if p >= 0.5 else "非谣言")


def weibo(external_id: str, text: str, when: dt.datetime, **counts: Any) -> NormalisedItem:
    return NormalisedItem(source="w", external_id=external_id, title="", text=text,
                          url=f"https://weibo.com/{external_id}", published_at=when, **counts)


@pytest.fixture
def open_monitor(tmp_path: Path, playbook: Playbook) -> Iterator[Any]:
    built: list[Monitor] = []

    def open_(name: str, annotator: Annotator, events: StoredEventAssigner | None = None,
              url: str | None = None) -> Monitor:
        config = parse_sources({"sources": []}, {}, "test-sources.yaml")
        monitor = build_monitor(url or f"sqlite:///{tmp_path / name}", config, playbook, annotator=annotator,
                                events=events, clock=FrozenClock(START))
        with session_scope(monitor.sessions) as session:
            session.add(Source(name="w", kind="weibo", url="https://weibo.com/"))
        built.append(monitor)
        return monitor

    yield open_
    for monitor in built:
        monitor.engine.dispose()


def feed(monitor: Monitor, items: Sequence[NormalisedItem], now: dt.datetime) -> list[int]:
    """One batch in its own transaction; the ids of the events its new items joined."""
    with session_scope(monitor.sessions) as session:
        source = session.scalars(select(Source)).one()
        result = monitor.pipeline.process(session, source, items, now)
        return sorted({e for e in session.scalars(select(Item.event_id).where(Item.id.in_(result.new_item_ids)))
                       if e is not None})


def full_pass(session: Session, row: Event, now: dt.datetime, playbook: Playbook) -> tuple[Any, ...]:
    """Count, category, rumour probability and heat read from every item of the event, as before summaries."""
    members = session.execute(select(Item, Source.host).join(Source).where(Item.event_id == row.id)
                              .order_by(Item.id)).all()
    categories = Counter(m.category for m, _ in members if m.category)
    category = categories.most_common(1)[0][0] if categories else row.category
    rumour = max((m.rumour_probability or 0.0 for m, _ in members), default=0.0)
    mentions = [Mention(m.published_at or m.fetched_at, host_of(m.url) or host, m.likes + m.comments + m.reposts,
                        m.reprint_of_id is not None) for m, host in members]
    heat = heat_score(HeatInputs(mentions, category or playbook.fallback_category, rumour), now, playbook).score
    return len(members), category, rumour, heat


def assert_reads_as_full_pass(monitor: Monitor, event_ids: Sequence[int], now: dt.datetime,
                              playbook: Playbook) -> None:
    with session_scope(monitor.sessions) as session:
        for row in session.scalars(select(Event).where(Event.id.in_(event_ids))):
            count, category, rumour, heat = full_pass(session, row, now, playbook)
            assert (row.item_count, row.category, row.rumour_probability) == (count, category, rumour), row.id
            assert row.heat == pytest.approx(heat, abs=0.01), row.id
            assert row.heat_state is not None


def weibo_timeline(posts: int, seed: int) -> list[tuple[dt.datetime, NormalisedItem]]:
    """Weibo posts of the dataset and their reposts at their own offsets from the post, posts 20 minutes
    apart (so their events overlap in time), each post seen again with its counts so far as reposts come."""
    rng = random.Random(seed)
    chosen = [r for r in records("weibo-rumours", 200) if len(r.get("reposts") or []) >= 30][:posts]
    timeline: list[tuple[dt.datetime, NormalisedItem]] = []
    for k, post in enumerate(chosen):
        posted = parse_time(post["time"])
        assert posted is not None
        start = START + dt.timedelta(minutes=20 * k, microseconds=rng.randint(0, 10**6))
        pid = str(post["id"])
        timeline.append((start, weibo(pid, post["text"], start)))
        for n, repost in enumerate(post["reposts"][:60]):
            when = parse_time(repost["time"])
            if not repost["text"].strip() or when is None:
                continue
            at = start + min(max(when - posted, dt.timedelta(0)), dt.timedelta(hours=30))
            timeline.append((at, weibo(str(repost["mid"]), repost["text"], at, repost_of_external_id=pid)))
            if n % 7 == 6:  # the post again, with more likes and reposts than before
                timeline.append((at, weibo(pid, post["text"], start, likes=3 * n, reposts=n, comments=n // 2)))
    return sorted(timeline, key=lambda pair: pair[0])


def test_replayed_weibo_events_read_as_a_pass_over_all_their_items(open_monitor, playbook, trained_annotator):
    """Dataset posts and their reposts, replayed in batches with the posts' counts rising and the rumour
    model rejudging each post as its reposts come: after every batch each event it touched holds what a
    pass over all its items gives, and the store equals one whose events were summed from all their items
    at every batch (signals, places and the heat's parts included)."""
    timeline = weibo_timeline(posts=5, seed=3)
    rng = random.Random(5)
    incremental = open_monitor("incremental.sqlite3", trained_annotator)
    resummed = open_monitor("resummed.sqlite3", trained_annotator, ResummingAssigner(playbook))
    batches = 0
    while timeline:
        size = rng.choice((1, 4, 10, 25))
        batch, timeline = timeline[:size], timeline[size:]
        now = batch[-1][0] + dt.timedelta(minutes=rng.choice((0, 5, 90)))
        items = [item for _, item in batch]
        touched = feed(incremental, items, now)
        assert feed(resummed, items, now) == touched
        assert_reads_as_full_pass(incremental, touched, now, playbook)
        batches += 1
    assert batches > 20

    def events(monitor: Monitor) -> list[tuple[Any, ...]]:
        with session_scope(monitor.sessions) as session:
            return [(e.id, e.item_count, e.category, e.rumour_probability, e.signals, e.places, e.is_emergency,
                     e.first_seen_at, e.last_seen_at, [(p["name"], p["points"]) for p in e.heat_breakdown["parts"]],
                     e.heat) for e in session.scalars(select(Event).order_by(Event.id))]

    ours, theirs = events(incremental), events(resummed)
    assert [e[:-2] for e in ours] == [e[:-2] for e in theirs]
    for mine, other in zip(ours, theirs, strict=True):
        assert mine[-1] == pytest.approx(other[-1], abs=0.01)
        assert [p for _, p in mine[-2]] == pytest.approx([p for _, p in other[-2]], abs=0.01)
    assert max(e[1] for e in ours) > 30  # a hot event gathered many items


class Statements:
    """The SQL an engine runs while it is listened to."""

    def __init__(self, monitor: Monitor) -> None:
        self.monitor, self.seen = monitor, []

    def __enter__(self) -> list[str]:
        event.listen(self.monitor.engine, "before_cursor_execute", self._note)
        return self.seen

    def __exit__(self, *exc: object) -> None:
        event.remove(self.monitor.engine, "before_cursor_execute", self._note)

    def _note(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        self.seen.append(statement)


def member_reads(statements: list[str]) -> list[str]:
    return [s for s in statements if "items.event_id IN" in s]


TEXT = "长春市南关区幸福小区连续三天停暖，室内温度只有十度，居民多次拨打热线无人处理，请尽快解决"


def heating(n: int, when: dt.datetime, **counts: Any) -> NormalisedItem:
    return weibo(f"h{n}", f"{TEXT}（第{n}条）", when, **counts)


def test_a_batch_reads_only_its_own_items_when_its_event_has_a_summary(open_monitor, playbook, database_url):
    monitor = open_monitor("store.sqlite3", RumourByWords(), url=database_url)
    first = [heating(n, START + dt.timedelta(seconds=20 * n)) for n in range(200)]
    (event_id,) = feed(monitor, first, START + dt.timedelta(hours=2))
    now = START + dt.timedelta(hours=3)
    with Statements(monitor) as statements:
        assert feed(monitor, [heating(n, now) for n in range(200, 210)], now) == [event_id]
    assert member_reads(statements) == []
    assert_reads_as_full_pass(monitor, [event_id], now, playbook)


def drop_summary(monitor: Monitor, event_id: int, value: Any) -> None:
    with session_scope(monitor.sessions) as session:
        row = session.get(Event, event_id)
        assert row is not None and row.heat_state is not None
        row.heat_state = value


@pytest.mark.parametrize("stored", [None, {"version": 1, "basis": "another"}, {"count": "many"}, ["garbage"]],
                         ids=["before summaries", "other playbook values", "unreadable", "not an object"])
def test_an_event_without_a_usable_summary_is_summed_from_its_items_once(open_monitor, playbook, stored):
    monitor = open_monitor("store.sqlite3", RumourByWords())
    (event_id,) = feed(monitor, [heating(n, START + dt.timedelta(minutes=n)) for n in range(30)], START)
    drop_summary(monitor, event_id, stored)
    for k in range(2):
        now = START + dt.timedelta(hours=1 + k)
        with Statements(monitor) as statements:
            feed(monitor, [heating(100 + k, now)], now)
        assert len(member_reads(statements)) == (1 if k == 0 else 0)
        assert_reads_as_full_pass(monitor, [event_id], now, playbook)


def test_a_clock_set_back_past_what_the_summary_let_go_sums_the_event_again(open_monitor, playbook):
    """Another worker's clock behind this one's. The items up to START are folded; 3 h back their velocity
    window still misses them and the summary serves; 4.5 h back it would count the item at START, which the
    folded sums cannot, so the event is summed from its items."""
    monitor = open_monitor("store.sqlite3", RumourByWords())
    (event_id,) = feed(monitor, [heating(n, START - dt.timedelta(minutes=3 * n)) for n in range(40)],
                       START + dt.timedelta(hours=5))
    for k, back in enumerate((dt.timedelta(hours=3), dt.timedelta(hours=4, minutes=30))):
        now = START + dt.timedelta(hours=5) - back
        with Statements(monitor) as statements:
            feed(monitor, [heating(100 + k, now)], now)
        assert len(member_reads(statements)) == k  # the first within the window, the second not
        assert_reads_as_full_pass(monitor, [event_id], now, playbook)


def test_an_item_seen_again_with_new_counts_moves_its_events_summary(open_monitor, playbook, database_url):
    """The summary takes the item's new counts at once (same transaction); the stored heat moves at the
    event's next batch, as it did when every batch read every item's current counts."""
    monitor = open_monitor("store.sqlite3", RumourByWords(), url=database_url)
    early = [heating(n, START - dt.timedelta(hours=n)) for n in range(6)]  # one held, the rest folded
    (event_id,) = feed(monitor, early, START)
    with session_scope(monitor.sessions) as session:
        heat_before = session.get(Event, event_id).heat
    again = [heating(0, START - dt.timedelta(hours=0), likes=9000, reposts=800),
             heating(4, START - dt.timedelta(hours=4), likes=12000, comments=300)]
    assert feed(monitor, again, START + dt.timedelta(minutes=1)) == []
    with session_scope(monitor.sessions) as session:
        assert session.get(Event, event_id).heat == heat_before  # not rescored: no item joined
    now = START + dt.timedelta(minutes=2)
    feed(monitor, [heating(50, now)], now)
    assert_reads_as_full_pass(monitor, [event_id], now, playbook)
    with session_scope(monitor.sessions) as session:
        engagement = session.get(Event, event_id).heat_breakdown["parts"][2]
    assert engagement["name"] == "engagement" and engagement["raw"] > 10


def test_a_post_rejudged_lower_than_the_events_highest_probability_drops_the_summary(open_monitor, playbook,
                                                                                     database_url):
    """The summary keeps the highest rumour probability, not every one: when the post that held it is
    rejudged lower, the summary is dropped in that transaction and the event summed from its items."""
    monitor = open_monitor("store.sqlite3", RumourByWords(), url=database_url)
    (event_id,) = feed(monitor, [weibo("p", f"网传{TEXT}", START)], START)
    with session_scope(monitor.sessions) as session:
        assert session.get(Event, event_id).rumour_probability == 0.9
    now = START + dt.timedelta(minutes=30)
    with Statements(monitor) as statements:
        feed(monitor, [weibo("r", "已经有人去现场看了，供暖已恢复", now, repost_of_external_id="p")], now)
    assert len(member_reads(statements)) == 1
    with session_scope(monitor.sessions) as session:
        row = session.get(Event, event_id)
        assert row.rumour_probability == 0.1 and row.item_count == 2
    assert_reads_as_full_pass(monitor, [event_id], now, playbook)
