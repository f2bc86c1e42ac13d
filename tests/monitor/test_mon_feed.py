"""Feeds over real loopback HTTP: RSS 2.0/1.0/Atom, 304s, truncated and malformed XML."""

from __future__ import annotations

import datetime as dt

from mon_builders import atom, records, rss1, rss2
from mon_helpers import Item, cycle, source_row, stored
from mon_server import Reply, Request


def test_rss2_items_are_normalised(server, make_monitor):
    rows = records("gov-messages-replies")[:5]
    url = server.static("/feed.xml", rss2(rows))
    monitor = make_monitor([{"name": "board", "kind": "feed", "url": url}])
    result = cycle(monitor)["board"]
    assert (result.status, result.new) == ("ok", 5)
    items = stored(monitor)
    first = next(i for i in items if i.external_id.endswith(str(rows[0]["id"])))
    assert first.title == rows[0]["title"]
    assert "alert(1)" not in first.text and "<p>" not in first.text
    assert first.text.startswith(rows[0]["text"][:20])
    # "2019/4/24 16:03:40" in Shanghai is 08:03:40 UTC
    assert first.published_at.tzinfo is not None
    assert (
        first.published_at.astimezone(dt.timezone(dt.timedelta(hours=8))).strftime("%Y/%-m/%-d %H:%M:%S")
        == rows[0]["time"]
    )


def test_rss1_and_atom_parse(server, make_monitor):
    rows = records("gov-messages")[:4]
    a = server.static("/a.xml", atom(rows[:2]))
    r = server.static("/r.xml", rss1(rows[2:]))
    monitor = make_monitor([{"name": "atom", "kind": "feed", "url": a}, {"name": "rdf", "kind": "feed", "url": r}])
    results = cycle(monitor)
    assert results["atom"].new == 2 and results["rdf"].new == 2
    titles = {i.title for i in stored(monitor)}
    assert {row["title"] for row in rows} == titles


def test_conditional_get_304(server, make_monitor):
    body = rss2(records("gov-messages-hot")[:3])

    def handler(request: Request) -> Reply:
        if request.headers.get("if-none-match") == '"v1"':
            return Reply(304, b"", {"ETag": '"v1"'})
        return Reply(
            200,
            body,
            {"Content-Type": "application/rss+xml", "ETag": '"v1"', "Last-Modified": "Mon, 23 Nov 2026 01:00:00 GMT"},
        )

    url = server.route("/feed", handler)
    monitor = make_monitor([{"name": "hot", "kind": "feed", "url": url}])
    assert cycle(monitor)["hot"].new == 3
    assert source_row(monitor, "hot").etag == '"v1"'
    again = cycle(monitor)["hot"]
    assert again.status == "not_modified" and again.new == 0
    last = server.hits_for("/feed")[-1]
    assert last.headers["if-none-match"] == '"v1"'
    assert last.headers["if-modified-since"] == "Mon, 23 Nov 2026 01:00:00 GMT"


def test_truncated_feed_keeps_what_parsed_but_not_validators(server, make_monitor):
    body = rss2(records("gov-messages-hot")[:6])
    cut = body[: int(len(body) * 0.7)]
    url = server.static("/cut.xml", cut, ETag='"cut"')
    monitor = make_monitor([{"name": "cut", "kind": "feed", "url": url}])
    result = cycle(monitor)["cut"]
    assert result.status == "ok" and 0 < result.new < 6
    assert result.warnings and "malformed" in result.warnings[0]
    assert source_row(monitor, "cut").etag is None


def test_malformed_feed_is_an_error_naming_source_and_url(server, make_monitor):
    url = server.static("/bad.xml", b"<html><body>502 Bad Gateway from upstream", "text/html", ETag='"bad"')
    monitor = make_monitor([{"name": "bad", "kind": "feed", "url": url}])
    result = cycle(monitor)["bad"]
    assert result.status == "error"
    assert "[bad]" in result.error and url in result.error
    row = source_row(monitor, "bad")
    assert row.etag is None and row.consecutive_failures == 1
    assert stored(monitor, Item) == []
