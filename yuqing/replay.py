"""A local replay server for the demo: news feeds, a Weibo-style timeline and a message board.

It serves the demo items (``yuqing/demo_data/items.yaml``, written for the
project) on 127.0.0.1, revealing them phase by phase as the demo advances, with
ETags so the pollers' conditional GETs see 304s between changes. One source
breaks on purpose: it answers 500 and then half an XML document.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import threading
from dataclasses import dataclass, field
from email.utils import format_datetime
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib.resources import files
from typing import Any

import yaml

WEIBO_TIME = "%a %b %d %H:%M:%S %z %Y"


def load_demo_items() -> dict[str, Any]:
    """The demo items shipped with yuqing."""
    text = files("yuqing").joinpath("demo_data/items.yaml").read_text(encoding="utf-8")
    data: dict[str, Any] = yaml.safe_load(text)
    return data


@dataclass
class ReplayState:
    """What the server shows now: the phase, and when the demo started (item times count from it)."""

    items: dict[str, Any]
    started: dt.datetime
    phase: int = 1
    lock: threading.Lock = field(default_factory=threading.Lock)

    def at(self, minutes: float) -> dt.datetime:
        return self.started + dt.timedelta(minutes=minutes)

    def visible(self, group: str) -> list[dict[str, Any]]:
        with self.lock:
            return [i for i in self.items.get(group, []) if i["phase"] <= self.phase]


def _link(entry: dict[str, Any], base: str) -> str:
    """An entry's own URL (the portal's host, for an adopted item), else one on this server."""
    return str(entry.get("url") or f"{base}/{entry['id']}")


def _rss(title: str, link: str, entries: list[dict[str, Any]], state: ReplayState) -> bytes:
    body = "".join(
        f"<item><title>{escape(e['title'])}</title><link>{escape(_link(e, link))}</link>"
        f"<guid>{link}/{e['id']}</guid>"
        f"<pubDate>{format_datetime(state.at(e['phase'] * 2))}</pubDate>"
        f"<description>{escape('<p>' + e['text'] + '</p>')}</description></item>"
        for e in entries
    )
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>{escape(title)}</title>'
            f"<link>{link}</link><description>{escape(title)}</description>{body}</channel></rss>").encode()


def _mblog(post: dict[str, Any], when: dt.datetime, original: dict[str, Any] | None = None) -> dict[str, Any]:
    blog: dict[str, Any] = {
        "id": post["id"], "mid": post["id"], "created_at": when.strftime(WEIBO_TIME), "text": escape(post["text"]),
        "reposts_count": post.get("reposts_count", 0), "comments_count": post.get("comments_count", 0),
        "attitudes_count": post.get("attitudes_count", 0),
        "user": {"screen_name": post["user"], "verified": post.get("verified", False),
                 "followers_count": post.get("followers", 0)},
    }
    if original is not None:
        blog["retweeted_status"] = original
    return blog


def weibo_timeline(state: ReplayState) -> bytes:
    """The m.weibo.cn container-API shape: data.cards[].mblog, reposts carrying retweeted_status."""
    cards: list[dict[str, Any]] = []
    for post in state.visible("weibo"):
        reposts = [r for r in post.get("reposts", []) if r["phase"] <= state.phase]
        shown = {**post, "reposts_count": len(reposts) * 37, "comments_count": len(reposts) * 12,
                 "attitudes_count": len(reposts) * 20}
        original = _mblog(shown, state.at(post["phase"] * 2 - 2))
        cards.append({"card_type": 9, "mblog": original})
        for n, repost in enumerate(reposts, 1):
            mine = {"id": f"{post['id']}{n:02d}", "user": repost["user"], "text": repost["text"]}
            cards.append({"card_type": 9, "mblog": _mblog(mine, state.at(repost["minute"] / 10), original)})
    return json.dumps({"ok": 1, "data": {"cards": cards}}, ensure_ascii=False).encode()


def board_list(state: ReplayState) -> bytes:
    rows = "".join(
        f'<li class="msg"><a href="/board/msg/{m["id"]}">{escape(m["title"])}</a>'
        f'<span class="status">{"已回复" if _replied(m, state) else "未回复"}</span></li>'
        for m in reversed(state.visible("portal"))
    )
    head = '<html><head><meta charset="utf-8"><title>领导留言板</title></head>'
    return f"{head}<body><ul>{rows}</ul></body></html>".encode()


def _replied(message: dict[str, Any], state: ReplayState) -> bool:
    return "reply" in message and state.phase >= message.get("reply_phase", 99)


def board_message(state: ReplayState, message_id: str) -> bytes | None:
    message = next((m for m in state.visible("portal") if m["id"] == message_id), None)
    if message is None:
        return None
    asked = state.at(message.get("time_offset_min", 0))
    reply = ""
    if _replied(message, state):
        reply = (
            f'<div class="reply"><div class="reply-body">{escape(message["reply"])}</div>'
            f'<span class="reply-time">{state.at(message["reply_phase"] * 2):%Y-%m-%d %H:%M:%S}</span></div>'
        )
    status = "已回复" if reply else "未回复"
    return (
        f'<html><head><meta charset="utf-8"></head><body><h1 class="title">{escape(message["title"])}</h1>'
        f'<span class="time">{asked:%Y-%m-%d %H:%M:%S}</span><span class="status">{status}</span>'
        f'<div class="body">{escape(message["text"])}</div>{reply}</body></html>'
    ).encode()


class _Handler(BaseHTTPRequestHandler):
    server: ReplayServer

    def log_message(self, *args: object) -> None:  # the demo narrates; no access log
        return

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        state = self.server.state
        self.server.hits[self.path.split("?")[0]] = self.server.hits.get(self.path.split("?")[0], 0) + 1
        routes = {
            "/news.xml": lambda: _rss("吉林新闻网", f"{self.server.base}/news", state.visible("news"), state),
            "/gov.xml": lambda: _rss(
                "吉林省人民政府网 政务公开", f"{self.server.base}/gov", state.visible("clarification"), state
            ),
            "/major.xml": lambda: _rss(
                "人民网 地方频道",
                f"{self.server.base}/major",
                [r for r in state.visible("reprints") if r["site"] == "major"],
                state,
            ),
            "/other.xml": lambda: _rss(
                "春城生活网",
                f"{self.server.base}/other",
                [r for r in state.visible("reprints") if r["site"] == "other"],
                state,
            ),
            "/weibo/timeline": lambda: weibo_timeline(state),
            "/board/list": lambda: board_list(state),
        }
        path = self.path.split("?")[0]
        if path == "/broken.xml":
            return self._broken(state)
        if path.startswith("/board/msg/"):
            body = board_message(state, path.rsplit("/", 1)[1])
            return self._send(body, "text/html; charset=utf-8") if body else self._status(404)
        if path not in routes:
            return self._status(404)
        kind = (
            "application/json"
            if "weibo" in path
            else ("text/html; charset=utf-8" if path.startswith("/board") else "application/rss+xml")
        )
        self._send(routes[path](), kind)

    def _broken(self, state: ReplayState) -> None:
        """A county site whose feed breaks after the first phase: a 500, then truncated XML."""
        if state.phase <= 1:
            return self._send(_rss("某县政府网", f"{self.server.base}/broken", [], state), "application/rss+xml")
        if self.server.hits["/broken.xml"] % 2:
            return self._status(500)
        self._send(b'<?xml version="1.0"?><rss version="2.0"><channel><title>\xe5\x8e\xbf', "application/rss+xml")

    def _send(self, body: bytes, content_type: str) -> None:
        etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
        if self.headers.get("If-None-Match") == etag:
            return self._status(304)
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("ETag", etag)
        self.end_headers()
        self.wfile.write(body)

    def _status(self, code: int) -> None:
        self.send_response(code)
        self.send_header("Content-Length", "0")
        self.end_headers()


class ReplayServer(ThreadingHTTPServer):
    """The demo's sources on 127.0.0.1 (port chosen by the system)."""

    daemon_threads = True

    def __init__(self, state: ReplayState) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.state = state
        self.hits: dict[str, int] = {}
        self._thread: threading.Thread | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def start(self) -> ReplayServer:
        self._thread = threading.Thread(target=self.serve_forever, name="replay", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def advance(self, phase: int) -> None:
        with self.state.lock:
            self.state.phase = phase

    def sources(self) -> list[dict[str, Any]]:
        """Entries for the sources file, pointing at this server."""
        portal = {
            "mode": "html",
            "row": "li.msg",
            "link": "a",
            "id_pattern": r"/msg/(\d+)$",
            "detail": {
                "title": "h1.title",
                "body": "div.body",
                "time": "span.time",
                "status": "span.status",
                "reply": "div.reply-body",
                "reply_time": "span.reply-time",
            },
        }
        quick = {"interval": "2s", "expected_period": "1h"}
        return [
            {"name": "jl-news", "kind": "feed", "url": f"{self.base}/news.xml", **quick},
            {"name": "jl-gov-policy", "kind": "feed", "url": f"{self.base}/gov.xml", "weight_class": "major", **quick},
            {"name": "people-local", "kind": "feed", "url": f"{self.base}/major.xml", "weight_class": "major", **quick},
            {
                "name": "chuncheng-life",
                "kind": "feed",
                "url": f"{self.base}/other.xml",
                "weight_class": "other",
                **quick,
            },
            {"name": "weibo-changchun", "kind": "weibo", "url": f"{self.base}/weibo/timeline", **quick},
            {"name": "mayor-mailbox", "kind": "portal", "url": f"{self.base}/board/list", "options": portal, **quick},
            {"name": "county-site", "kind": "feed", "url": f"{self.base}/broken.xml", "department": "农安县", **quick},
        ]
