"""Cheap polls: a 304 or a failure costs no transaction of its own, the sources file is mirrored into the
table only when it changed, and polling state held in memory is written before the poller stops."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from mon_builders import records, rss2
from mon_helpers import cycle, source_row, sources_config
from mon_server import Reply, Request
from sqlalchemy import Engine, event

from monitor import poll
from monitor.poll import PollResult

UNCHANGED = 12


@contextmanager
def counting_commits(engine: Engine) -> Iterator[list[int]]:
    commits = [0]

    def on_commit(_connection: object) -> None:
        commits[0] += 1

    event.listen(engine, "commit", on_commit)
    try:
        yield commits
    finally:
        event.remove(engine, "commit", on_commit)


def _feed_with_etag(server, path: str, body: bytes) -> str:
    def handler(request: Request) -> Reply:
        if request.headers.get("if-none-match") == '"v1"':
            return Reply(304, b"", {"ETag": '"v1"'})
        return Reply(200, body, {"Content-Type": "application/rss+xml", "ETag": '"v1"'})

    return server.route(path, handler)


def test_a_cycle_of_unchanged_and_failing_sources_commits_a_constant_number_of_times(server, make_monitor, clock):
    rows = records("gov-messages")
    sources = [{"name": f"feed{k}", "kind": "feed", "url": _feed_with_etag(server, f"/f{k}", rss2(rows[k:k + 1]))}
               for k in range(UNCHANGED)]
    broken = server.route("/broken", lambda _r: Reply(500, b"down", {"Content-Type": "text/plain"}))
    sources += [{"name": f"broken{k}", "kind": "feed", "url": f"{broken}?{k}"} for k in range(3)]
    monitor = make_monitor(sources)

    async def two_cycles() -> tuple[list[PollResult], list[PollResult], int]:  # one loop: the fetcher's host limits
        first = await monitor.poller.poll_cycle()
        clock.advance(monitor.poller.policy.max_interval)
        with counting_commits(monitor.engine) as commits:
            again = await monitor.poller.poll_cycle()
        await monitor.poller.aclose()
        return first, again, commits[0]

    first_results, again_results, commits = asyncio.run(two_cycles())
    assert sum(r.new for r in first_results) == UNCHANGED
    again = {r.source: r for r in again_results}
    assert sorted(r.status for r in again.values()) == ["error"] * 3 + ["not_modified"] * UNCHANGED
    assert commits <= 2  # one read of every state, one write of the changed ones: not one per source
    for name, result in again.items():  # and the batch was written
        row = source_row(monitor, name)
        assert row.last_polled_at == clock() and row.next_poll_at == result.next_poll_at
    assert source_row(monitor, "broken0").consecutive_failures == 2


def test_the_sources_file_is_mirrored_only_when_it_changed(server, make_monitor, monkeypatch):
    url = _feed_with_etag(server, "/a", rss2(records("gov-messages")[:1]))
    monitor = make_monitor([{"name": "a", "kind": "feed", "url": url}])
    calls: list[int] = []
    mirror = poll.sync_sources

    def counting(session, config):  # type: ignore[no-untyped-def]
        calls.append(len(config.sources))
        return mirror(session, config)

    monkeypatch.setattr(poll, "sync_sources", counting)
    cycle(monitor)
    cycle(monitor)
    assert calls == [1]

    other = _feed_with_etag(server, "/b", rss2(records("gov-messages")[1:2]))
    monitor.poller.config = sources_config([{"name": "a", "kind": "feed", "url": url},
                                            {"name": "b", "kind": "feed", "url": other}])
    assert cycle(monitor)["b"].new == 1
    cycle(monitor)
    assert calls == [1, 2]


@pytest.mark.parametrize("stop", ["drain", "aclose"])
def test_polling_state_held_in_memory_is_written_when_the_poller_stops(server, make_monitor, clock, stop):
    url = _feed_with_etag(server, "/a", rss2(records("gov-messages")[:2]))
    monitor = make_monitor([{"name": "a", "kind": "feed", "url": url}])
    cycle(monitor)
    clock.advance(monitor.poller.policy.max_interval)

    async def poll_then_stop() -> PollResult | None:
        result = await monitor.poller.poll_if_due("a")
        assert source_row(monitor, "a").last_polled_at != clock()  # held in memory: no transaction of its own
        if stop == "drain":
            assert await monitor.poller.drain(timeout=5) == 0
        await monitor.poller.aclose()
        return result

    result = asyncio.run(poll_then_stop())
    assert result is not None and result.status == "not_modified"
    row = source_row(monitor, "a")
    assert (row.last_polled_at, row.next_poll_at) == (clock(), result.next_poll_at)
    restarted = make_monitor([{"name": "a", "kind": "feed", "url": url}])
    restarted.poller.sync()
    assert asyncio.run(restarted.poller.poll_if_due("a")) is None  # not due again after the restart


def test_a_portal_asks_the_store_what_it_holds_once_a_page_and_off_the_event_loop(server, make_monitor):
    rows = records("gov-messages-replies")[:4]

    def board(request: Request) -> Reply:
        data = {"rows": [{"no": r["id"], "subject": r["title"], "body": r["text"], "ts": r["time"]} for r in rows]}
        return Reply(200, json.dumps(data, ensure_ascii=False).encode(), {"Content-Type": "application/json"})

    url = server.route("/api/msgs", board)
    options = {"mode": "json", "items": "rows",
               "fields": {"id": "no", "title": "subject", "text": "body", "time": "ts"}}
    monitor = make_monitor([{"name": "board", "kind": "portal", "url": url, "options": options}])
    lookups: list[tuple[int, bool]] = []
    look_up = monitor.poller._seen

    def recording(source, external_ids):  # type: ignore[no-untyped-def]
        lookups.append((len(external_ids), threading.current_thread() is threading.main_thread()))
        return look_up(source, external_ids)

    monitor.poller._seen = recording  # type: ignore[method-assign]
    assert cycle(monitor)["board"].new == 4
    assert cycle(monitor)["board"].new == 0
    assert lookups == [(4, False), (4, False)]
