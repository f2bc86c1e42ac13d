"""Benchmark: one batch joining a big event, its heat from the stored summary against a recount of all items.

One SQLite store holds an event of N items (``--members``, 5,000 by default) spread over the last day,
put through the pipeline; it is copied three times. Each round a batch of ``--batch`` new items (10)
joins the event in each copy, order rotating, each batch in its own transaction:

* **summary**: the shipped ``StoredEventAssigner``, which adds the arrivals to ``events.heat_state``;
* **recount**: the assigner as it was before summaries (its ``_refresh`` copied below): one query
  over every member of the event, heat, category and rumour from all of them, and the burst test over
  every member's time once per arrival;
* **re-sum**: the shipped assigner with the stored summary never read, so it is summed from every
  member at each batch (what an event without a usable summary costs, once).

Printed: the median seconds of the pipeline's cluster stage (clustering and the event update) and of
the whole batch (``Pipeline.process`` and the commit) per variant, the stored summary's size, and the
heat each copy stored (they must agree); RATIO = summary / recount of the cluster stage's medians,
measured in the same run. No target: the issue asks for the event update to stop growing with the
event. Not a test.

Run ``python -m bench.event_heat [--members 5000] [--batch 10] [--rounds 15]``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import select
from sqlalchemy.orm import Session

from bench.common import bench_playbook, header, load_records
from classifiers.heat import HeatInputs, Mention, heat_score
from classifiers.signals import EMERGENCY, TextSignals, burst_signal, merge
from monitor.annotate import StoredEventAssigner, member_rows
from monitor.config import parse_sources
from monitor.items import NormalisedItem, host_of
from monitor.pipeline import Annotation, Annotator, Reaction
from monitor.wiring import Monitor, build_monitor
from store import session_scope
from store.models import Event, Item, Source

NOW = dt.datetime(2026, 12, 8, 2, 0, tzinfo=dt.UTC)
CATEGORIES = ("交通", "医疗", "城建")


class Labels(Annotator):
    """Stands in for the models: a category and a rumour probability from the item's number, so the
    event's category count and highest probability have something to read."""

    def annotate(self, item: NormalisedItem | Item, reactions: Sequence[Reaction] = ()) -> Annotation:
        n = int(item.external_id.rsplit("-", 1)[-1])
        return Annotation(CATEGORIES[n % 3], {CATEGORIES[n % 3]: 1.0}, (n % 10) / 10, "非谣言")


class Recounting(StoredEventAssigner):
    """The event update before summaries (monitor/annotate.py at bb269a9), the baseline of the RATIO."""

    def _refresh(self, session: Session, events: dict[int, Event], touched: dict[int, list[tuple[Item, TextSignals]]],
                 created: set[int], now: dt.datetime) -> None:
        members: dict[int, list[Any]] = {event_id: [] for event_id in touched}
        for m in member_rows(session, touched):
            members[m.event_id].append(m)
        for event_id, arrivals in touched.items():
            row, rows, cluster = events[event_id], members[event_id], self.clusterer.get(str(event_id))
            mentions = [Mention(when=m.published_at or m.fetched_at, host=host_of(m.url) or m.host,
                                engagement=m.likes + m.comments + m.reposts, is_reprint=m.reprint_of_id is not None)
                        for m in rows]
            categories = Counter(m.category for m in rows if m.category)
            rumour = max((m.rumour_probability or 0.0 for m in rows), default=0.0)
            row.item_count = len(rows)
            row.category = categories.most_common(1)[0][0] if categories else row.category
            if cluster is not None:
                row.first_seen_at = min(row.first_seen_at, cluster.first_seen)
                row.last_seen_at = max(row.last_seen_at, cluster.last_seen)
                row.centroid = cluster.to_data()
            row.rumour_probability = rumour
            score = heat_score(HeatInputs(mentions, row.category or self.playbook.fallback_category, rumour),
                               now, self.playbook)
            row.heat = score.score
            row.heat_breakdown = {"score": score.score, "explain": score.explain(),
                                  "parts": [{"name": p.name, "raw": p.raw, "points": p.points, "note": p.note,
                                             "facts": dict(p.facts)} for p in score.parts]}
            seen = {m.id: m.published_at or m.fetched_at for m in rows}
            arrived = {item.id for item, _ in arrivals}
            times = [when for member_id, when in seen.items() if member_id not in arrived]
            for item, marks in arrivals:
                times.append(seen[item.id])
                burst = burst_signal(times, now, self.playbook)
                row.signals = merge(row.signals or [], [*marks.signals, *([burst] if burst else [])])
                row.places = list(dict.fromkeys([*(row.places or []), *marks.places]))
                row.is_emergency = bool(row.is_emergency) or any(s.kind == EMERGENCY for s in marks.signals)


class Resumming(StoredEventAssigner):
    """The shipped assigner that never reads a stored summary: every batch sums the event from its items."""

    def _stored(self, row: Event, now: dt.datetime) -> None:
        return None


def item(base: str, n: int, when: dt.datetime, rng: random.Random) -> NormalisedItem:
    return NormalisedItem(source="w", external_id=f"m-{n}", title="", text=f"{base}（网友第{n}条留言）",
                          url=f"https://weibo.com/m/{n}", published_at=when,
                          likes=rng.choice((0, 2, 15, 300)), comments=rng.choice((0, 1, 9)), reposts=rng.choice((0, 4)))


def open_store(path: Path, playbook: Any, events: StoredEventAssigner) -> Monitor:
    config = parse_sources({"sources": []}, {}, "bench")
    return build_monitor(f"sqlite:///{path}", config, playbook, annotator=Labels(), events=events)


def preload(path: Path, playbook: Any, base: str, members: int) -> int:
    """The event of *members* items, a day of them, in batches of 500 (untimed); its id."""
    rng = random.Random(1)
    monitor = open_store(path, playbook, StoredEventAssigner(playbook))
    with session_scope(monitor.sessions) as session:
        session.add(Source(name="w", kind="weibo", url="https://weibo.com/"))
    spacing = dt.timedelta(days=1) / members
    for start in range(0, members, 500):
        batch = [item(base, n, NOW - dt.timedelta(days=1) + n * spacing, rng)
                 for n in range(start, min(start + 500, members))]
        with session_scope(monitor.sessions) as session:
            monitor.pipeline.process(session, session.scalars(select(Source)).one(), batch, NOW)
    with session_scope(monitor.sessions) as session:
        event_id, count = session.execute(select(Event.id, Event.item_count).order_by(Event.item_count.desc())).first()
    monitor.engine.dispose()
    if count < members * 0.95:
        raise SystemExit(f"the clusterer put only {count} of {members} items in the biggest event")
    return int(event_id)


def one_batch(monitor: Monitor, items: list[NormalisedItem], now: dt.datetime) -> tuple[float, float]:
    """(cluster stage seconds, whole batch seconds) of one batch in its own transaction."""
    before = monitor.pipeline.stage_seconds["cluster"]
    started = time.perf_counter()
    with session_scope(monitor.sessions) as session:
        monitor.pipeline.process(session, session.scalars(select(Source)).one(), items, now)
    return monitor.pipeline.stage_seconds["cluster"] - before, time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=5000, help="items of the event before the timed batches")
    parser.add_argument("--batch", type=int, default=10, help="items joining the event per batch")
    parser.add_argument("--rounds", type=int, default=15, help="timed batches per variant")
    args = parser.parse_args(argv)
    header(f"event heat: batches of {args.batch} joining an event of {args.members:,} items")
    playbook = bench_playbook()
    base = max(load_records(50), key=lambda r: len(r.text)).text[:120]  # dataset words, read at run time
    variants = {"summary": StoredEventAssigner, "recount": Recounting, "re-sum": Resumming}
    with tempfile.TemporaryDirectory() as tmp:
        seed = Path(tmp) / "seed.sqlite3"
        started = time.perf_counter()
        event_id = preload(seed, playbook, base, args.members)
        print(f"preloaded event {event_id} with {args.members:,} items in {time.perf_counter() - started:.1f} s")
        monitors: dict[str, Monitor] = {}
        for name, kind in variants.items():
            shutil.copy(seed, Path(tmp) / f"{name}.sqlite3")
            monitors[name] = open_store(Path(tmp) / f"{name}.sqlite3", playbook, kind(playbook))
        cluster: dict[str, list[float]] = {name: [] for name in variants}
        whole: dict[str, list[float]] = {name: [] for name in variants}
        names = list(variants)
        for r in range(args.rounds + 1):  # the first round warms each store up and is not counted
            now = NOW + dt.timedelta(minutes=r + 1)
            rng = random.Random(100 + r)
            batch = [item(base, args.members + r * args.batch + k, now - dt.timedelta(seconds=k), rng)
                     for k in range(args.batch)]
            for name in names[r % 3:] + names[:r % 3]:
                seconds = one_batch(monitors[name], batch, now)
                if r:
                    cluster[name].append(seconds[0])
                    whole[name].append(seconds[1])
        stored: dict[str, tuple[int, float, int]] = {}
        for name, monitor in monitors.items():
            with session_scope(monitor.sessions) as session:
                row = session.get(Event, event_id)
                assert row is not None
                stored[name] = (row.item_count, row.heat, len(json.dumps(row.heat_state or {})))
            monitor.engine.dispose()
    for name in variants:
        count, heat, size = stored[name]
        print(f"{name:8s} cluster stage {statistics.median(cluster[name]) * 1000:8.2f} ms   whole batch "
              f"{statistics.median(whole[name]) * 1000:8.2f} ms   (median of {args.rounds}; event {count:,} items, "
              f"heat {heat:.2f}, heat_state {size:,} bytes)")
    heats = {round(heat, 2) for _, heat, _ in stored.values()}
    print(f"stored heat agrees across variants: {'yes' if len(heats) == 1 else 'NO ' + str(sorted(heats))}")
    ratio = statistics.median(cluster["summary"]) / statistics.median(cluster["recount"])
    print(f"RATIO cluster stage summary / recount = {ratio:.3f}")
    ratio_whole = statistics.median(whole["summary"]) / statistics.median(whole["recount"])
    print(f"RATIO whole batch summary / recount = {ratio_whole:.3f}")
    return 0 if len(heats) == 1 else 1


if __name__ == "__main__":
    sys.exit(main())
