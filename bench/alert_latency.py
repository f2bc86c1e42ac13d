"""Benchmark: seconds from an item first being served to the fake Bot API receiving its alert.

The real service (``yuqing.service.Service``: scheduler and pollers, pipeline
with the trained classifiers, responders cycle, outbox sender, telegram
notifier via ``base_url``) runs against loopback feeds (another process) and
the fake Bot API on 127.0.0.1. Dataset rumours are posted to random
Weibo-style feeds (the source kind the playbook's rumour model judges) at
random times; each becomes an event whose rumour verdict deserves a duty alert.

Latency = Bot API receive time of the duty alert − the time the feed server
first sent the item that triggered it in a complete 200 response. Measuring
from "first served" subtracts the poll interval (the wait until the next
poll); the time from "added" is printed beside it for reference.

Two phases, each with a fresh store: the service's shipped ``Cadence()``
(responders cycle every 30 s, outbox every 2 s) — the target applies to it —
and a fast cadence (``--fast-cycle``, ``--fast-outbox``) showing what the
rest of the path costs. Baseline for the RATIO, same run: one conditional
feed GET plus one sendMessage to the same servers (the network floor).
Target p95 ≤ 2 s. Not a test.

Run ``python -m bench.alert_latency [--seconds 20] [--every 2]``.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from bench.botapi import TimedBotAPI
from bench.common import header, models_dir, percentile, verdict
from bench.feedserver import FeedServer
from bench.harness import (
    DUTY_CHAT,
    RunningService,
    bench_settings,
    engine_for,
    unalerted_events,
    write_sources,
)
from playbooks.loader import load_playbook
from store.database import session_factory, session_scope
from store.models import Item, OutboxMessage
from yuqing.cadence import Cadence

TARGET = 2.0
RUMOURS = ("weibo-rumours", "weibo-covid-rumours")
RUMOUR_LABELS = ("rumour", "fake")


@dataclass
class PhaseResult:
    name: str
    served: list[float]  # latency from first served, seconds
    added: list[float]  # latency from being added to the feed (includes the poll wait)
    items: int
    alerts: int
    unalerted: int  # events that deserved a duty alert and never got one


async def wait_stored(settings_engine_url: str, guid: str, deadline: float) -> bool:
    from store.database import make_engine

    engine = make_engine(settings_engine_url)
    try:
        while time.monotonic() < deadline:
            with session_scope(session_factory(engine)) as session:
                if session.scalar(select(Item.id).where(Item.external_id == guid)) is not None:
                    return True
            await asyncio.sleep(0.2)
        return False
    finally:
        engine.dispose()


def measure(session: Session, api: TimedBotAPI, served: dict[str, float], added: dict[str, float],
            name: str) -> PhaseResult:
    """Per duty alert: receive time − first-served time of the item that triggered it."""
    from_served: list[float] = []
    from_added: list[float] = []
    alerts = list(session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "event",
                                                              OutboxMessage.chat_id == str(DUTY_CHAT))))
    for alert in alerts:
        if alert.message_id is None or alert.event_id is None:
            continue
        received = api.received.get(int(alert.message_id))
        items = session.execute(select(Item.external_id, Item.fetched_at).where(
            Item.event_id == alert.event_id).order_by(Item.fetched_at)).all()
        before = [i for i in items if alert.created_at is None or i.fetched_at <= alert.created_at] or items
        trigger = before[-1].external_id
        if received is None or trigger not in added:
            continue  # the warm-up item, or an alert not delivered yet
        from_served.append(received - served[trigger])
        from_added.append(received - added[trigger])
    missing = len(unalerted_events(session, load_playbook()))
    return PhaseResult(name, sorted(from_served), sorted(from_added), len(added), len(from_served), missing)


async def phase(name: str, cadence: Cadence, seconds: float, every: float, models: Path) -> PhaseResult:
    """Run the service, add rumours for *seconds*, let the last alerts out, measure."""
    api = TimedBotAPI().start()
    rand = random.Random(7)
    try:
        with FeedServer(10, per_feed=0, datasets=RUMOURS, labels=RUMOUR_LABELS, fmt="weibo") as server, \
                tempfile.TemporaryDirectory() as tmp:
            settings = bench_settings(Path(tmp), api, models)
            write_sources(settings.effective_sources_file, server)
            added: dict[str, float] = {}
            async with RunningService(settings, cadence):
                warm, _ = await asyncio.to_thread(server.add, [0])  # jieba and models load on the first item
                await wait_stored(settings.effective_database_url, warm[0], time.monotonic() + 60)
                end = time.monotonic() + seconds
                while time.monotonic() < end:
                    guids, at = await asyncio.to_thread(server.add, [rand.randrange(server.n_feeds)])
                    added.update({g: at for g in guids})
                    await asyncio.sleep(rand.uniform(0.5, 1.5) * every)
                await asyncio.sleep(cadence.cycle_every + cadence.outbox_every + 5)  # the last alerts
            served = await asyncio.to_thread(server.served)
            engine = engine_for(settings)
            with session_scope(session_factory(engine)) as session:
                result = measure(session, api, served, added, name)
            engine.dispose()
    finally:
        api.stop()
    return result


def network_floor(repeat: int = 20) -> float:
    """Median of one conditional feed GET plus one sendMessage, against the same kind of servers."""
    api = TimedBotAPI().start()
    times: list[float] = []
    try:
        with FeedServer(1, per_feed=1) as server, httpx.Client() as client:
            etag = client.get(server.url(0)).headers["etag"]
            for _ in range(repeat):
                started = time.perf_counter()
                client.get(server.url(0), headers={"If-None-Match": "stale"})
                client.post(f"{api.base_url}1:BENCH/sendMessage", json={"chat_id": DUTY_CHAT, "text": "x"})
                times.append(time.perf_counter() - started)
            assert etag
    finally:
        api.stop()
    return statistics.median(times)


def report(result: PhaseResult) -> tuple[float, float]:
    p50, p95 = percentile(result.served, 50), percentile(result.served, 95)
    print(f"[{result.name}] items added {result.items}, duty alerts measured {result.alerts}, "
          f"events that deserved an alert and got none: {result.unalerted}")
    print(f"[{result.name}] from first served: p50 {p50:.2f} s, p95 {p95:.2f} s, max "
          f"{max(result.served, default=float('nan')):.2f} s")
    print(f"[{result.name}] from added (poll wait included): p50 {percentile(result.added, 50):.2f} s, "
          f"p95 {percentile(result.added, 95):.2f} s")
    return p50, p95


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="how long items are added, per phase")
    parser.add_argument("--every", type=float, default=2.0, help="mean seconds between added items")
    parser.add_argument("--fast-cycle", type=float, default=0.5, help="responders cycle of the fast phase")
    parser.add_argument("--fast-outbox", type=float, default=0.2, help="outbox round of the fast phase")
    parser.add_argument("--full", action="store_true", help="120 s per phase")
    args = parser.parse_args(argv)
    if args.full:
        args.seconds = 120.0
    header("alert latency")
    models = models_dir()
    floor = network_floor()
    shipped = asyncio.run(phase("shipped cadence", Cadence(), args.seconds, args.every, models))
    fast = asyncio.run(phase(f"fast cadence {args.fast_cycle:g}s/{args.fast_outbox:g}s",
                             Cadence(outbox_every=args.fast_outbox, cycle_every=args.fast_cycle,
                                     health_every=300.0), args.seconds, args.every, models))
    p50, p95 = report(shipped)
    fast_p50, fast_p95 = report(fast)
    print(f"network floor (feed GET + sendMessage): {floor * 1000:.1f} ms")
    print(f"RATIO p50/floor: shipped {p50 / floor:.0f}, fast {fast_p50 / floor:.0f}")
    verdict("alert latency p95 s (shipped cadence)", p95, TARGET, at_most=True)
    verdict("alert latency p95 s (fast cadence)", fast_p95, TARGET, at_most=True)
    if not shipped.served or not fast.served:
        print("no alerts were measured: check that the rumour model flags the dataset rumours")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
