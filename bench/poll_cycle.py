"""Benchmark: seconds per poll cycle over 1,000 loopback feeds, 10 % changed between cycles.

The feeds are served by :mod:`bench.feedserver` in another process with ETag
and Last-Modified; unchanged feeds answer 304. Each round adds one dataset
item to 10 % of the feeds, then times one ``Poller.poll_cycle()`` (conditional
GET, pipeline with the trained classifiers for the new items, SQLite store)
and one ``reader.update_feeds(scheduled=False)`` of lemon24/reader over the
same feeds in the same run, alternating which goes first. Both first load
every feed once, untimed (yuqing's first load skips the classifiers to save
time; the timed rounds use them). RATIO = median yuqing / median reader;
target ≤ 0.5. Both get the same concurrency (``--workers``). Not a test.

Run ``python -m bench.poll_cycle [--feeds 1000] [--rounds 3] [--changed 0.1]``.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy.orm import Session

from bench.common import header, models_dir, verdict
from bench.feedserver import FeedServer
from bench.ingest import NoAnnotation
from monitor.config import SourcesFile, parse_sources
from monitor.pipeline import Standing
from monitor.poll import PollResult
from monitor.wiring import Monitor, build_monitor
from playbooks.loader import load_playbook
from store.models import Item

TARGET = 0.5


class NoEvents:
    """Event assigner stub for the untimed first load."""

    def assign_many(self, session: Session, items: Sequence[Item], now: dt.datetime) -> None:
        pass

    def forget(self) -> None:
        pass

    def catch_up(self, session: Session, event_ids: Sequence[int]) -> None:
        pass

    def revise(self, session: Session, changed: Sequence[tuple[Item, Standing]]) -> None:
        pass


def sources_config(server: FeedServer, workers: int) -> SourcesFile:
    sources = [{"name": f"feed{k}", "kind": "feed", "url": server.url(k)} for k in range(server.n_feeds)]
    return parse_sources({"fetch": {"per_host_min_delay": 0, "per_host_concurrency": workers},
                          "sources": sources}, {}, "bench")


def summary(results: list[PollResult]) -> str:
    by: dict[str, int] = {}
    for r in results:
        by[r.status] = by.get(r.status, 0) + 1
    return f"{by.get('ok', 0)} ok, {by.get('not_modified', 0)} not modified, {by.get('error', 0)} errors, " \
           f"{sum(r.new for r in results)} new items"


async def first_load(url: str, config: SourcesFile, models: Path) -> None:
    monitor = build_monitor(url, config, load_playbook(), models_dir=models, annotator=NoAnnotation(),
                            events=NoEvents())
    results = await monitor.poller.poll_cycle()
    await monitor.aclose()
    print(f"yuqing first load: {summary(results)}", flush=True)


def reader_cycle(reader: object) -> float:
    started = time.perf_counter()
    reader.update_feeds(scheduled=False, workers=WORKERS[0])  # type: ignore[attr-defined]
    return time.perf_counter() - started


WORKERS = [8]


async def timed_rounds(monitor: Monitor, reader: object, server: FeedServer, rounds: int,
                       changed: int) -> tuple[list[float], list[float]]:
    ours: list[float] = []
    theirs: list[float] = []
    started = time.perf_counter()
    results = await monitor.poller.poll_cycle()
    idle = time.perf_counter() - started
    print(f"idle cycle (nothing changed, not in the ratio): yuqing {idle:.2f} s ({summary(results)}), "
          f"reader {reader_cycle(reader):.2f} s", flush=True)
    for r in range(rounds):
        server.bump(changed, seed=1000 + r)
        order = ("yuqing", "reader") if r % 2 == 0 else ("reader", "yuqing")
        for who in order:
            if who == "reader":
                theirs.append(reader_cycle(reader))
                continue
            started = time.perf_counter()
            results = await monitor.poller.poll_cycle()
            ours.append(time.perf_counter() - started)
            print(f"round {r + 1}: yuqing {ours[-1]:.2f} s ({summary(results)})", flush=True)
        print(f"round {r + 1}: reader {theirs[-1]:.2f} s", flush=True)
    return ours, theirs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--per-feed", type=int, default=2, help="items in each feed at the start")
    parser.add_argument("--changed", type=float, default=0.1, help="share of feeds changed between cycles")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=8, help="concurrent requests, for both")
    parser.add_argument("--full", action="store_true", help="5 rounds")
    args = parser.parse_args(argv)
    if args.full:
        args.rounds = 5
    WORKERS[0] = args.workers
    header("poll cycle")
    from reader import make_reader

    models = models_dir()
    changed = max(1, round(args.feeds * args.changed))
    with FeedServer(args.feeds, args.per_feed) as server, tempfile.TemporaryDirectory() as tmp:
        config = sources_config(server, args.workers)
        url = f"sqlite:///{tmp}/yuqing.sqlite3"
        asyncio.run(first_load(url, config, models))
        reader = make_reader(f"{tmp}/reader.sqlite", search_enabled=False)
        for k in range(args.feeds):
            reader.add_feed(server.url(k))
        started = time.perf_counter()
        reader.update_feeds(scheduled=False, workers=args.workers)
        print(f"reader first load: {time.perf_counter() - started:.1f} s, "
              f"{reader.get_entry_counts().total} entries", flush=True)

        async def rounds() -> tuple[list[float], list[float]]:
            monitor = build_monitor(url, config, load_playbook(), models_dir=models)
            try:
                return await timed_rounds(monitor, reader, server, args.rounds, changed)
            finally:
                await monitor.aclose()

        ours, theirs = asyncio.run(rounds())
        print(f"reader after the rounds: {reader.get_entry_counts().total} entries")
        reader.close()
        print(f"server responses: {server.stats()}")
    mine, base = statistics.median(ours), statistics.median(theirs)
    print(f"feeds: {args.feeds}, changed per cycle: {changed}, concurrency {args.workers}, rounds {args.rounds}")
    print(f"yuqing poll cycle: {mine:.2f} s median ({', '.join(f'{t:.2f}' for t in ours)})")
    print(f"reader update:     {base:.2f} s median ({', '.join(f'{t:.2f}' for t in theirs)})")
    ratio = mine / base
    print(f"RATIO yuqing/reader: {ratio:.3f}")
    verdict("poll-cycle ratio", ratio, TARGET, at_most=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
