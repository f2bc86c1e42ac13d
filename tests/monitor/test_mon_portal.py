"""Message boards: HTML list/detail with pagination, a message gaining its official reply, JSON lists."""

from __future__ import annotations

import json

from mon_builders import PORTAL_OPTIONS, portal_detail, portal_list, records
from mon_helpers import Item, ItemChange, cycle, stored
from mon_server import Reply, Request


def _board(server, rows, replied: set[int], per_page: int = 4) -> str:
    pages = [rows[i:i + per_page] for i in range(0, len(rows), per_page)]
    for n, page in enumerate(pages, start=1):
        nxt = f"/board/list{n + 1}" if n < len(pages) else None
        server.route(f"/board/list{n}", lambda _r, p=page, x=nxt: Reply(
            200, portal_list(p, x, replied), {"Content-Type": "text/html; charset=utf-8"}))
    for r in rows:
        server.route(f"/board/detail/{r['id']}.html", lambda _r, r=r: Reply(
            200, portal_detail(r, r["id"] in replied), {"Content-Type": "text/html; charset=utf-8"}))
    return server.url("/board/list1")


def test_message_gains_official_reply(server, make_monitor, clock):
    rows = [r for r in records("gov-messages-replies") if r.get("reply_time") and len(r["reply_time"]) > 10][:6]
    replied: set[int] = set()
    url = _board(server, rows, replied)
    monitor = make_monitor([{"name": "board", "kind": "portal", "url": url, "options": PORTAL_OPTIONS}])
    first = cycle(monitor)["board"]
    assert first.new == 6 and first.status == "ok"
    assert all(i.reply_status == "未回复" and i.reply_text is None for i in stored(monitor, Item))

    target = rows[1]
    replied.add(target["id"])
    second = cycle(monitor)["board"]
    assert (second.new, second.updated) == (0, 1) and len(second.change_ids) == 1
    item = next(i for i in stored(monitor, Item) if i.external_id == str(target["id"]))
    assert item.reply_status == "已回复"
    assert item.reply_text.startswith(target["reply"][:30].strip())
    assert item.reply_at.astimezone().tzinfo is not None
    changes = stored(monitor, ItemChange)
    assert [(c.item_id, c.field) for c in changes] == [(item.id, "reply")]
    assert changes[0].old_value == "未回复" and target["reply"][:20] in changes[0].new_value
    assert changes[0].handled_at is None  # the responders' portal step takes it from here
    # once replied, the detail page is not fetched again
    before = len(server.hits_for(f"/board/detail/{target['id']}.html"))
    third = cycle(monitor)["board"]
    assert third.updated == 0
    assert len(server.hits_for(f"/board/detail/{target['id']}.html")) == before


def test_pagination_stops_at_last_seen(server, make_monitor):
    rows = list(records("gov-messages-replies")[10:22])
    url = _board(server, rows[4:], set())  # 8 rows, two pages
    monitor = make_monitor([{"name": "board", "kind": "portal", "url": url, "options": PORTAL_OPTIONS}])
    assert cycle(monitor)["board"].new == 8
    assert len(server.hits_for("/board/list2")) == 1
    # four new messages appear on top: page 1 now holds only new ones, page 2 starts with seen ones
    _board(server, rows, set())
    result = cycle(monitor)["board"]
    assert result.new == 4
    assert len(server.hits_for("/board/list2")) == 2 and not server.hits_for("/board/list3")


def test_json_portal_with_mapping(server, make_monitor):
    rows = records("gov-messages-replies")[30:36]
    state = {"with_reply": False}

    def handler(request: Request) -> Reply:
        page = int(request.query.split("=")[1]) if request.query else 1
        chunk = rows[(page - 1) * 3: page * 3]
        data = {"rows": [{"no": r["id"], "subject": r["title"], "body": r["text"], "ts": r["time"],
                          "answer": r["reply"] if state["with_reply"] else None,
                          "answered": r["reply_time"] if state["with_reply"] else None} for r in chunk]}
        return Reply(200, json.dumps(data, ensure_ascii=False).encode(), {"Content-Type": "application/json"})

    url = server.route("/api/msgs", handler)
    options = {"mode": "json", "items": "rows", "page_param": "page", "max_pages": 5,
               "fields": {"id": "no", "title": "subject", "text": "body", "time": "ts", "reply": "answer",
                          "reply_time": "answered"}}
    monitor = make_monitor([{"name": "api", "kind": "portal", "url": url, "options": options}])
    assert cycle(monitor)["api"].new == 6
    state["with_reply"] = True
    again = cycle(monitor)["api"]
    assert again.updated >= 1 and again.change_ids


def test_portal_options_are_checked_with_locations():
    import pytest

    from monitor.config import parse_sources
    from playbooks.loader import PolicyFileError, read_yaml

    text = "sources:\n  - name: b\n    kind: portal\n    url: http://x/\n    options:\n      row: 'tr[['\n"
    import pathlib
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = pathlib.Path(tmp, "sources.yaml")
        path.write_text(text, encoding="utf-8")
        data, lines = read_yaml(path)
        with pytest.raises(PolicyFileError) as info:
            parse_sources(data, lines, path.name)
    message = str(info.value)
    assert "sources.yaml:6: sources.0.options.row" in message and "bad CSS selector" in message
