"""Weibo container JSON and JMESPath-mapped microblog APIs, built from weibo-rumours records."""

from __future__ import annotations

import json

from mon_builders import mblog, records, weibo_container
from mon_helpers import Item, cycle, stored


def test_container_posts_and_reposts(server, make_monitor):
    rows = [r for r in records("weibo-rumours", 50) if r.get("user", {}).get("followers") is not None][:4]
    original = mblog(rows[0])
    repost_record = dict(rows[1], text="转发理由：大家注意！" + rows[1]["text"][:20])
    repost = mblog(repost_record, retweeted_status=original)
    body = weibo_container([repost, mblog(rows[2]), mblog(rows[3])])
    url = server.static("/api/container", body, "application/json")
    monitor = make_monitor([{"name": "wb", "kind": "weibo", "url": url}])
    result = cycle(monitor)["wb"]
    assert result.status == "ok" and result.new == 4
    items = {i.external_id: i for i in stored(monitor, Item)}
    orig_row, repost_row = items[rows[0]["id"]], items[rows[1]["id"]]
    assert repost_row.repost_of_id == orig_row.id
    assert repost_row.text.startswith("转发理由：大家注意！")  # the repost's own words are kept
    assert "<a" not in repost_row.text and "@某人" in repost_row.text
    assert orig_row.author == f"user{rows[0]['user']['uid']}"
    assert orig_row.author_followers == rows[0]["user"]["followers"]
    assert orig_row.reposts == rows[0]["reposts_count"] and orig_row.likes == rows[0]["likes_count"]
    assert orig_row.published_at is not None and orig_row.published_at.tzinfo is not None
    assert orig_row.raw["idstr"] == rows[0]["id"]


def test_engagement_updates_on_next_poll(server, make_monitor):
    row = records("weibo-rumours")[5]
    state = {"post": mblog(row)}
    url = server.route("/api", lambda _r: __import__("mon_server").Reply(
        200, weibo_container([state["post"]]), {"Content-Type": "application/json"}))
    monitor = make_monitor([{"name": "wb", "kind": "weibo", "url": url}])
    assert cycle(monitor)["wb"].new == 1
    state["post"] = dict(state["post"], reposts_count=state["post"]["reposts_count"] + 100)
    second = cycle(monitor)["wb"]
    assert (second.new, second.updated) == (0, 1)
    assert stored(monitor, Item)[0].reposts == row["reposts_count"] + 100


def test_truncated_json_is_a_parse_error(server, make_monitor):
    body = weibo_container([mblog(r) for r in records("weibo-rumours")[:3]])
    url = server.static("/api/cut", body[: len(body) // 2], "application/json")
    monitor = make_monitor([{"name": "wb", "kind": "weibo", "url": url}])
    result = cycle(monitor)["wb"]
    assert result.status == "error" and "malformed JSON" in result.error and url in result.error


def test_jmespath_mapping_for_another_api(server, make_monitor):
    rows = records("weibo-covid-rumours")[:3]
    payload = {"result": {"list": [
        {"mid": r["id"], "content": r["text"], "date": r["time"], "stats": {"fwd": r["reposts_count"]},
         "poster": {"nick": r["user_id"][:8]}} for r in rows]}}
    url = server.static("/other", json.dumps(payload, ensure_ascii=False).encode(), "application/json")
    monitor = make_monitor([{"name": "mb", "kind": "weibo", "url": url, "options": {
        "items": "result.list",
        "fields": {"id": "mid", "text": "content", "created_at": "date", "reposts_count": "stats.fwd",
                   "author": "poster.nick"}}}])
    assert cycle(monitor)["mb"].new == 3
    items = {i.external_id: i for i in stored(monitor, Item)}
    assert items[rows[0]["id"]].reposts == rows[0]["reposts_count"]
    assert items[rows[0]["id"]].author == rows[0]["user_id"][:8]
