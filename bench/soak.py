"""Soak: the service for a bounded time against faulty feeds and a faulty Bot API; nothing lost, nothing twice.

The real service (scheduler and pollers, pipeline with the trained
classifiers, responders cycle, outbox, telegram notifier) runs against
loopback sources, half RSS and half Weibo-style JSON (another process), that answer 500, stall past the read
timeout, return garbage or 429 at random, while dataset messages (rumours
among them) keep arriving; the fake Bot API refuses sends at random (429 or
502). Then the faults stop and the service drains. Checks at the end:

* every item the feed server served in a complete response is stored exactly once,
  and nothing is stored that was never offered;
* every queued alert was delivered, exactly once (one accepted Bot API call per
  alert row, ids matching), none left pending or failed.

Prints the checks and exits non-zero on a violation. RATIO lines: stored/served
and delivered/queued (both must be 1). Not a test.

Run ``python -m bench.soak [--seconds 60] [--every 0.5]``.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import Engine, func, select

from bench.botapi import TimedBotAPI
from bench.common import header, models_dir
from bench.feedserver import FeedServer
from bench.harness import RunningService, bench_settings, engine_for, unalerted_events, write_sources
from playbooks.loader import load_playbook
from playbooks.schema import Playbook
from store.database import session_factory, session_scope
from store.models import Item, OutboxMessage
from yuqing.cadence import Cadence

FAULTS = {"fail": 0.10, "stall": 0.05, "garbage": 0.05, "r429": 0.05, "stall_seconds": 3.0}
DATASETS = ("weibo-rumours", "gov-messages-hot")


@dataclass
class Checks:
    lines: list[str] = field(default_factory=list)
    failed: int = 0

    def check(self, ok: bool, text: str) -> None:
        self.lines.append(f"[{'ok' if ok else 'VIOLATION'}] {text}")
        self.failed += not ok


def store_state(engine: Engine) -> tuple[Counter[str], Counter[str]]:
    """(stored count per external id, alert rows per state)."""
    with session_scope(session_factory(engine)) as session:
        items = Counter({row[0]: row[1] for row in session.execute(
            select(Item.external_id, func.count()).group_by(Item.external_id))})
        alerts = Counter({row[0]: row[1] for row in session.execute(
            select(OutboxMessage.state, func.count()).group_by(OutboxMessage.state))})
    return items, alerts


async def drain(engine: Engine, server: FeedServer, cadence: Cadence, limit: float) -> float:
    """Wait until every served item is stored and no alert is pending (or *limit* seconds)."""
    started = time.monotonic()
    settled_since: float | None = None
    while time.monotonic() - started < limit:
        await asyncio.sleep(1.0)
        served = await asyncio.to_thread(server.served)
        items, alerts = await asyncio.to_thread(store_state, engine)
        done = all(g in items for g in served) and not alerts.get("pending") and not alerts.get("sending")
        if not done:
            settled_since = None
            continue
        settled_since = settled_since or time.monotonic()
        if time.monotonic() - settled_since >= cadence.cycle_every + cadence.outbox_every + 1:
            break  # stayed settled across a responders cycle: no alert is still to be queued
    return time.monotonic() - started


def verify(engine: Engine, api: TimedBotAPI, served: dict[str, float], added: set[str],
           playbook: Playbook) -> Checks:
    checks = Checks()
    items, states = store_state(engine)
    missing = [g for g in served if items.get(g, 0) == 0]
    twice = [g for g in served if items.get(g, 0) > 1]
    phantom = [g for g in items if g not in added]
    checks.check(not missing, f"served items stored: {len(served) - len(missing)} of {len(served)}"
                 + (f" (missing e.g. {missing[:3]})" if missing else ""))
    checks.check(not twice, f"served items stored more than once: {len(twice)}")
    checks.check(not phantom, f"stored items never offered: {len(phantom)}")
    with session_scope(session_factory(engine)) as session:
        unalerted = unalerted_events(session, playbook)
        alerts = list(session.execute(select(OutboxMessage.id, OutboxMessage.state, OutboxMessage.message_id,
                                             OutboxMessage.attachment_path)))
    messages = [a for a in alerts if not a.attachment_path]
    sent_ids = Counter(a.message_id for a in messages if a.state == "sent")
    received = set(api.received)
    documents = len(api.sent("sendDocument"))
    checks.check(not unalerted, f"events that deserve a duty alert and have none queued: {len(unalerted)}"
                 + (f" (e.g. events {unalerted[:5]})" if unalerted else ""))
    checks.check(states.get("sent", 0) == len(alerts),
                 f"alerts delivered: {states.get('sent', 0)} of {len(alerts)} queued ({dict(states)})")
    checks.check(all(n == 1 for n in sent_ids.values()), "each delivered alert has its own Bot API message id")
    checks.check({int(m) for m in sent_ids if m is not None} == received and len(api.sent()) == len(received),
                 f"Bot API accepted {len(api.sent())} sendMessage calls for {sum(sent_ids.values())} "
                 "message alerts (exactly one each)")
    checks.check(documents == len(alerts) - len(messages),
                 f"documents: {documents} sendDocument calls for {len(alerts) - len(messages)} alerts")
    return checks


async def soak(seconds: float, every: float, models: Path, feeds: int, bot_faults: float) -> int:
    api = TimedBotAPI(fault_rate=bot_faults, seed=3).start()
    rand = random.Random(11)
    cadence = Cadence(outbox_every=0.5, cycle_every=1.0, health_every=10.0)
    try:
        with FeedServer(feeds, per_feed=1, datasets=DATASETS, seed=5, fmt="mixed") as server, \
                tempfile.TemporaryDirectory() as tmp:
            settings = bench_settings(Path(tmp), api, models)
            write_sources(settings.effective_sources_file, server,
                          fetch={"read_timeout": 2.0, "connect_timeout": 2.0})
            added: set[str] = set()
            engine = engine_for(settings)
            async with RunningService(settings, cadence):
                server.chaos(**FAULTS)
                end = time.monotonic() + seconds
                while time.monotonic() < end:
                    guids, _ = await asyncio.to_thread(server.add, [rand.randrange(feeds)])
                    added.update(guids)
                    await asyncio.sleep(rand.uniform(0.5, 1.5) * every)
                server.chaos(fail=0, stall=0, garbage=0, r429=0)
                api.fault_rate = 0.0
                drained = await drain(engine, server, cadence, limit=120.0)
            served = await asyncio.to_thread(server.served)
            stats = await asyncio.to_thread(server.stats)
            added |= set(served)  # the items each feed started with
            checks = verify(engine, api, served, added, load_playbook(settings.playbook))
            engine.dispose()
    finally:
        api.stop()
    print(f"ran {seconds:.0f} s with faults, drained in {drained:.0f} s; {len(added)} items offered, "
          f"{len(served)} served")
    print(f"feed responses: {stats}; Bot API refusals: {api.faults}")
    for line in checks.lines:
        print(line)
    stored = len(served) - sum(1 for line in checks.lines if "missing" in line)
    print(f"RATIO stored/served: {stored / max(len(served), 1):.3f}")
    print(f"SOAK {'PASS' if not checks.failed else f'FAIL ({checks.failed} violation(s))'}")
    return 1 if checks.failed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--every", type=float, default=0.5, help="mean seconds between new items")
    parser.add_argument("--feeds", type=int, default=20)
    parser.add_argument("--bot-faults", type=float, default=0.2, help="share of sends the Bot API refuses")
    parser.add_argument("--full", action="store_true", help="10 minutes")
    args = parser.parse_args(argv)
    if args.full:
        args.seconds = 600.0
    header("soak")
    return asyncio.run(soak(args.seconds, args.every, models_dir(), args.feeds, args.bot_faults))


if __name__ == "__main__":
    sys.exit(main())
