"""Many RSS feeds on 127.0.0.1 for the cluster tests, each item's words made up here (no dataset text).

Feed *k* carries ``per_feed`` items of its own, texts of random common characters (no two alike, so
each is its own event), and every ``reprint_every``-th feed also carries the stories of
:data:`STORIES` word for word (a reprint of the same text on other sources: one event, one original).
The emergency stories open cases and queue alerts; :meth:`StoryFeeds.served` is every (feed, guid) served.
"""

from __future__ import annotations

import random
import threading
from email.utils import format_datetime
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from .serving import serving_thread

STORIES = (
    ("网传吉林市化工厂爆炸泄漏多人死亡",
     "有网友称，今天上午吉林市某化工厂突然发生爆炸，现场有气体泄漏，已造成多人死亡，附近居民紧急疏散。"),
    ("长春市某小区燃气爆炸致人员伤亡",
     "网友爆料，长春市某小区今天凌晨发生燃气爆炸，楼体部分坍塌，已有人员死亡，多人受伤被送往医院。"),
)


def _made_up_text(rand: random.Random, length: int) -> str:
    return "".join(chr(rand.randint(0x4E00, 0x7FFF)) for _ in range(length))


class StoryFeeds:
    """``n_feeds`` feeds at ``url(k)``; what each serves is fixed at start."""

    def __init__(self, n_feeds: int, per_feed: int = 3, reprint_every: int = 25, seed: int = 7) -> None:
        import datetime as dt

        rand = random.Random(seed)
        published = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=30)
        self.items: list[list[tuple[str, str, str]]] = []  # per feed: (guid, title, text)
        for k in range(n_feeds):
            own = [(f"http://feed{k}.example.cn/a/{j}", _made_up_text(rand, 10), _made_up_text(rand, 40))
                   for j in range(per_feed)]
            if k % reprint_every == 0:
                own += [(f"http://feed{k}.example.cn/story/{s}", title, text)
                        for s, (title, text) in enumerate(STORIES)]
            self.items.append(own)
        self.bodies = [self._rss(k, published) for k in range(n_feeds)]
        self.hits = [0] * n_feeds
        self._lock = threading.Lock()
        feeds = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                parts = self.path.strip("/").split("/")
                if len(parts) != 2 or parts[0] != "feed" or not parts[1].removesuffix(".xml").isdigit():
                    self.send_error(404)
                    return
                k = int(parts[1].removesuffix(".xml"))
                if k >= len(feeds.bodies):
                    self.send_error(404)
                    return
                with feeds._lock:
                    feeds.hits[k] += 1
                body = feeds.bodies[k]
                self.send_response(200)
                self.send_header("Content-Type", "application/rss+xml; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self._thread = serving_thread(self.server)

    def _rss(self, k: int, published: Any) -> bytes:
        entries = "".join(
            f"<item><title>{escape(title)}</title><link>{guid}</link><guid>{guid}</guid>"
            f"<pubDate>{format_datetime(published)}</pubDate><description>{escape(text)}</description></item>"
            for guid, title, text in self.items[k])
        return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>feed {k}</title>'
                f"<link>http://feed{k}.example.cn/</link><description>d</description>{entries}</channel></rss>").encode()

    def url(self, k: int) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/feed/{k}.xml"

    def served(self) -> set[tuple[str, str]]:
        """Every (source name, guid) the feeds serve (``feed<k>`` names the source of feed *k*)."""
        return {(f"feed{k}", guid) for k, items in enumerate(self.items) for guid, _t, _x in items}

    def sources(self, **fetch: Any) -> dict[str, Any]:
        """A sources file polling every feed as fast as the loopback allows."""
        return {"fetch": {"per_host_min_delay": 0, "per_host_concurrency": 16, **fetch},
                "sources": [{"name": f"feed{k}", "kind": "feed", "url": self.url(k)} for k in range(len(self.items))]}

    def __enter__(self) -> StoryFeeds:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
