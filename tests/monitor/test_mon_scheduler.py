"""APScheduler jobs on the running loop poll due sources; an import source polls a file."""

from __future__ import annotations

import asyncio
import json

from mon_builders import records, rss2
from mon_helpers import Item, cycle, stored

from monitor.scheduler import JOB_PREFIX, start_polling


def test_scheduler_polls_each_source_on_the_loop(server, make_monitor):
    url = server.static("/feed.xml", rss2(records("gov-messages")[:2]))
    monitor = make_monitor([{"name": "a", "kind": "feed", "url": url},
                            {"name": "off", "kind": "feed", "url": url, "enabled": False}])

    async def run() -> list[str]:
        scheduler = start_polling(monitor.poller)
        try:
            ids = sorted(job.id for job in scheduler.get_jobs())
            for _ in range(200):
                if stored(monitor, Item):
                    break
                await asyncio.sleep(0.05)
            return ids
        finally:
            scheduler.shutdown(wait=False)
            await monitor.poller.aclose()

    ids = asyncio.run(run())
    assert ids == [JOB_PREFIX + "a"]
    assert len(stored(monitor, Item)) == 2


def test_poll_if_due_respects_next_poll_time(server, make_monitor, clock):
    url = server.static("/feed.xml", rss2(records("gov-messages")[:2]))
    monitor = make_monitor([{"name": "a", "kind": "feed", "url": url}])
    cycle(monitor)
    assert asyncio.run(monitor.poller.poll_if_due("a")) is None  # next poll is in the future
    clock.advance(monitor.poller.policy.max_interval)
    assert asyncio.run(monitor.poller.poll_if_due("a")).status == "ok"


def test_import_kind_polls_a_file(tmp_path, make_monitor):
    rows = records("gov-messages-replies")[:5]
    path = tmp_path / "drop.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows) + "oops\n", encoding="utf-8")
    monitor = make_monitor([{"name": "drop", "kind": "import", "url": str(path)}])
    first = cycle(monitor)["drop"]
    assert (first.status, first.new) == ("ok", 5) and first.warnings == [
        "drop.jsonl line 6: not valid JSON (Expecting value at column 1)"
    ]
    assert cycle(monitor)["drop"].new == 0


def test_drain_lets_a_poll_in_progress_store_what_it_fetched(server, make_monitor):
    """At shutdown the service waits for polls in progress instead of cancelling them mid-way."""
    from mon_server import Reply

    body = rss2(records("gov-messages")[:3])
    url = server.route("/slow.xml", lambda _request: Reply(200, body, {"Content-Type": "application/xml"}, delay=1.0))
    monitor = make_monitor([{"name": "slow", "kind": "feed", "url": url}])

    async def run() -> int:
        monitor.poller.sync()
        polling = asyncio.create_task(monitor.poller.poll_if_due("slow"))
        await asyncio.sleep(0.3)  # the request is on the wire
        left = await monitor.poller.drain(timeout=20)
        assert polling.done()
        await monitor.poller.aclose()
        return left

    assert asyncio.run(run()) == 0
    assert len(stored(monitor, Item)) == 3
