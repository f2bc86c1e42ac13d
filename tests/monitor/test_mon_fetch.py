"""Polite fetching against a real loopback server: errors, limits, encodings, backoff."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from mon_builders import PORTAL_OPTIONS, portal_detail, portal_list, records, rss2
from mon_helpers import Item, cycle, source_row, stored
from mon_server import Reply, Request

from monitor.encoding import decode_bytes
from monitor.errors import FetchTimeout, HTTPStatusError, ResponseTooLarge
from monitor.fetch import Fetcher, FetchLimits


def _get(limits: FetchLimits, url: str):
    async def run():
        async with Fetcher(limits) as fetcher:
            return await fetcher.get(url, source="s")
    return asyncio.run(run())


def test_server_error_names_source_and_url_and_backs_off(server, make_monitor, clock):
    state = {"fail": True}
    body = rss2(records("gov-messages-hot")[:2])

    def handler(_r: Request) -> Reply:
        return Reply(500, b"oops") if state["fail"] else Reply(200, body, {"Content-Type": "application/xml"})

    url = server.route("/flaky", handler)
    monitor = make_monitor([{"name": "flaky", "kind": "feed", "url": url}])
    waits = []
    for _ in range(3):
        result = cycle(monitor)["flaky"]
        assert result.status == "error" and "HTTP 500" in result.error and url in result.error
        waits.append(result.next_poll_at - clock())
    assert waits[0] < waits[1] < waits[2]  # exponential
    assert source_row(monitor, "flaky").consecutive_failures == 3
    state["fail"] = False
    recovered = cycle(monitor)["flaky"]
    assert recovered.status == "ok" and recovered.new == 2
    row = source_row(monitor, "flaky")
    assert row.consecutive_failures == 0 and row.last_success_at == clock()


def test_one_broken_source_does_not_stop_the_others(server, make_monitor):
    good = server.static("/good.xml", rss2(records("gov-messages")[:3]))
    broken = server.route("/broken", lambda _r: Reply(503, b""))
    missing = server.url("/nowhere")
    monitor = make_monitor([
        {"name": "good", "kind": "feed", "url": good},
        {"name": "broken", "kind": "feed", "url": broken},
        {"name": "missing", "kind": "feed", "url": missing},
        {"name": "refused", "kind": "feed", "url": "http://127.0.0.1:1/feed"},
    ])
    results = cycle(monitor)
    assert results["good"].new == 3
    assert {n: r.status for n, r in results.items()} == {
        "good": "ok", "broken": "error", "missing": "error", "refused": "error"}
    assert "HTTP 404" in results["missing"].error
    assert "connection failed" in results["refused"].error and "[refused]" in results["refused"].error


def test_timeout_is_typed(server):
    url = server.route("/slow", lambda _r: Reply(200, b"x", delay=1.5))
    with pytest.raises(FetchTimeout) as info:
        _get(FetchLimits(connect_timeout=1, read_timeout=0.3, per_host_min_delay=0), url)
    assert url in str(info.value)


def test_slow_but_steady_response_arrives_whole(server, limits):
    chunks = [b"<p>" + b"x" * 100 + b"</p>" for _ in range(5)]
    url = server.route("/trickle", lambda _r: Reply(200, iter(chunks), {"Content-Type": "text/html"}, chunk_delay=0.05))
    response = _get(limits, url)
    assert response.content == b"".join(chunks)


@pytest.mark.parametrize("declared", [True, False])
def test_huge_response_is_aborted(server, declared):
    big = b"y" * 300_000
    if declared:
        url = server.static("/huge", big, "text/plain")
    else:
        url = server.route("/huge", lambda _r: Reply(200, iter([big[i:i + 8192] for i in range(0, len(big), 8192)])))
    with pytest.raises(ResponseTooLarge) as info:
        _get(FetchLimits(max_bytes=100_000, per_host_min_delay=0), url)
    assert "100,000" in str(info.value)


def test_client_error_is_permanent_server_error_transient():
    assert not HTTPStatusError(404).transient
    assert HTTPStatusError(502).transient and HTTPStatusError(429).transient


@pytest.mark.parametrize("header", ["text/html; charset=gbk", "text/html", "text/html; charset=ISO-8859-1",
                                    "text/html; charset=utf-8"])
def test_gbk_detail_page_decodes_whatever_the_header(header):
    row = records("gov-messages-replies")[0]
    for meta in (True, False):
        raw = portal_detail(row, with_reply=True, encoding="gbk", meta=meta)
        text, _ = decode_bytes(raw, header)
        assert row["title"] in text and row["text"][:30] in text


def test_gbk_portal_over_http_without_charset_header(server, make_monitor):
    rows = [r for r in records("gov-messages-replies")[:3]]
    server.static("/board/list", portal_list(rows, None, set(), encoding="gbk"), "text/html")
    for r in rows:
        server.static(f"/board/detail/{r['id']}.html", portal_detail(r, False, encoding="gbk", meta=False), "text/html")
    monitor = make_monitor([{"name": "gbk", "kind": "portal", "url": server.url("/board/list"),
                             "options": PORTAL_OPTIONS}])
    assert cycle(monitor)["gbk"].new == 3
    texts = {i.external_id: i for i in stored(monitor, Item)}
    for r in rows:
        assert texts[str(r["id"])].title == r["title"]
        assert texts[str(r["id"])].text.startswith(r["text"][:40].strip())


def test_per_host_spacing_is_honoured(server):
    url = server.static("/p", b"ok", "text/plain")

    async def run():
        async with Fetcher(FetchLimits(per_host_min_delay=0.2, per_host_concurrency=1)) as fetcher:
            await asyncio.gather(*(fetcher.get(url) for _ in range(3)))

    asyncio.run(run())
    assert len(server.hits_for("/p")) == 3


def test_backoff_is_grouped_per_host(server, make_monitor, clock):
    a = server.route("/a", lambda _r: Reply(500, b""))
    b = server.route("/b", lambda _r: Reply(500, b""))
    monitor = make_monitor([{"name": "a", "kind": "feed", "url": a}])
    for _ in range(4):
        cycle(monitor)
    # a second source on the same failing host inherits the host's failure count
    other = make_monitor([{"name": "a", "kind": "feed", "url": a}, {"name": "b", "kind": "feed", "url": b}])
    other.poller.fetcher.host_failures.update(monitor.poller.fetcher.host_failures)
    first_b = cycle(other, "b")["b"]
    assert first_b.next_poll_at - clock() > dt.timedelta(minutes=4)
