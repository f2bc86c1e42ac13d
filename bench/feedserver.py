"""Loopback RSS feeds for the benchmarks, served from a separate process.

``python -m bench.feedserver --feeds N --per-feed K`` prints ``PORT <n>`` and
serves ``/feed/<k>.xml`` (RSS) or, with ``--format weibo`` (or ``mixed``: odd
feeds), ``/weibo/<k>.json`` (the m.weibo.cn container shape), with ETag and
Last-Modified (304 on a match) until its stdin closes. Items are dataset messages read at start. Control calls
(JSON over HTTP, on 127.0.0.1; ``--hosts N`` serves the feeds on 127.0.0.1 … 127.0.0.N too, so the
poller sees N hosts): ``POST /_bump?count=C&seed=S`` adds one item to C random
feeds, ``POST /_add?feeds=0,5`` to the named ones, ``POST /_chaos?fail=..&stall=..&garbage=..&r429=..``
sets fault probabilities, ``GET /_served`` gives each item's first-served
time (a complete 200 body), ``GET /_stats`` the response counts.

Serving from another process keeps the server's work off the GIL of the
process being measured. :class:`FeedServer` starts and drives it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import subprocess
import sys
import threading
import time
import urllib.request
from collections import Counter, deque
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import DATASETS, Record, iter_records, rss, rss_item


class Feeds:
    """The feeds' state: latest items, validators, first-served times, fault probabilities."""

    def __init__(self, n_feeds: int, per_feed: int, keep: int, seed: int,
                 datasets: tuple[str, ...] = DATASETS, labels: tuple[str, ...] = (), fmt: str = "rss") -> None:
        self.lock = threading.Lock()
        self.weibo = [fmt == "weibo" or fmt == "mixed" and k % 2 == 1 for k in range(n_feeds)]
        self.datasets, self.labels = datasets, labels
        self.records = iter_records(datasets, labels)
        self.used = 0
        self.keep = keep
        self.items: list[deque[tuple[str, str]]] = [deque(maxlen=keep) for _ in range(n_feeds)]
        self.version = [0] * n_feeds
        self.modified = [time.time()] * n_feeds
        self.served: dict[str, float] = {}
        self.stats: Counter[str] = Counter()
        self.chaos = {"fail": 0.0, "stall": 0.0, "garbage": 0.0, "r429": 0.0, "stall_seconds": 3.0}
        self.rand = random.Random(seed)
        for k in range(n_feeds):
            for _ in range(per_feed):
                self._append(k)

    def _next_record(self) -> Record:
        record = next(self.records, None)
        if record is None:  # datasets exhausted: start again, marked so each item stays distinct
            self.records = iter_records(self.datasets, self.labels)
            record = next(self.records)
        self.used += 1
        return record

    def _append(self, k: int) -> str:
        record = self._next_record()
        published = dt.datetime.now(dt.UTC)  # a live feed: what appears now was published now
        if self.weibo[k]:
            guid = str(10**9 + self.used)
            self.items[k].appendleft((guid, json.dumps(weibo_post(guid, record, published), ensure_ascii=False)))
        else:
            guid = f"http://feed{k}.bench.example.cn/item/{self.used}"
            self.items[k].appendleft((guid, rss_item(guid, Record(f"{record.title}（{self.used}）", record.text,
                                                                       published))))
        self.version[k] += 1
        self.modified[k] = time.time()
        return guid

    def add(self, feeds: list[int]) -> dict[str, Any]:
        with self.lock:
            guids = [self._append(k) for k in feeds]
        return {"guids": guids, "at": time.time()}

    def bump(self, count: int, seed: int) -> dict[str, Any]:
        feeds = random.Random(seed).sample(range(len(self.items)), min(count, len(self.items)))
        return self.add(feeds)

    def body(self, k: int) -> tuple[bytes, str, str, list[str]]:
        with self.lock:
            entries = list(self.items[k])
            etag = f'"{k}-{self.version[k]}"'
            modified = formatdate(self.modified[k], usegmt=True)
        guids = [g for g, _ in entries]
        if self.weibo[k]:
            cards = ",".join(f'{{"card_type": 9, "mblog": {post}}}' for _, post in entries)
            return f'{{"ok": 1, "data": {{"cards": [{cards}]}}}}'.encode(), etag, modified, guids
        return rss(f"feed {k}", [xml for _, xml in entries]), etag, modified, guids

    def mark_served(self, guids: list[str]) -> None:
        now = time.time()
        with self.lock:
            for guid in guids:
                self.served.setdefault(guid, now)


def weibo_post(post_id: str, record: Record, published: dt.datetime) -> dict[str, Any]:
    """One post as m.weibo.cn's container API gives it."""
    return {"idstr": post_id, "created_at": published.strftime("%a %b %d %H:%M:%S %z %Y"),
            "text": f"{record.title}（{post_id}）{record.text}" if record.title not in record.text else
            f"{record.text}（{post_id}）", "reposts_count": 0, "comments_count": 0, "attitudes_count": 0,
            "user": {"screen_name": "bench", "verified": False, "followers_count": 100}}


def make_handler(feeds: Feeds) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        wbufsize = 1 << 16  # headers and body leave in one write (no delayed-ACK stall on keep-alive)
        disable_nagle_algorithm = True

        def log_message(self, *_a: object) -> None:
            pass

        def _json(self, payload: object, status: int = 200) -> None:
            body = json.dumps(payload).encode()
            self._send(status, body, {"Content-Type": "application/json"})

        def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:
            url = urlsplit(self.path)
            query = {k: v[-1] for k, v in parse_qs(url.query).items()}
            length = int(self.headers.get("Content-Length") or 0)
            self.rfile.read(length)
            if url.path == "/_bump":
                return self._json(feeds.bump(int(query.get("count", "1")), int(query.get("seed", "0"))))
            if url.path == "/_add":
                return self._json(feeds.add([int(k) for k in query.get("feeds", "").split(",") if k]))
            if url.path == "/_chaos":
                with feeds.lock:
                    feeds.chaos.update({k: float(v) for k, v in query.items() if k in feeds.chaos})
                    return self._json(feeds.chaos)
            return self._json({"error": "unknown"}, 404)

        def do_GET(self) -> None:
            path = urlsplit(self.path).path
            if path == "/_served":
                with feeds.lock:
                    return self._json(dict(feeds.served))
            if path == "/_stats":
                with feeds.lock:
                    return self._json(dict(feeds.stats))
            if path.startswith("/feed/") and path.endswith(".xml"):
                k = int(path[len("/feed/"):-len(".xml")])
            elif path.startswith("/weibo/") and path.endswith(".json"):
                k = int(path[len("/weibo/"):-len(".json")])
            else:
                return self._json({"error": "not found"}, 404)
            if self._chaos():
                return None
            body, etag, modified, guids = feeds.body(k)
            match = self.headers.get("If-None-Match")
            since = self.headers.get("If-Modified-Since")
            if match is not None and match == etag or match is None and since == modified:
                feeds.stats["304"] += 1
                self.send_response(304)
                self.send_header("ETag", etag)
                self.send_header("Last-Modified", modified)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return None
            ctype = "application/json" if feeds.weibo[k] else "application/rss+xml; charset=utf-8"
            self._send(200, body, {"Content-Type": ctype, "ETag": etag, "Last-Modified": modified})
            self.wfile.flush()
            feeds.stats["200"] += 1
            feeds.mark_served(guids)
            return None

        def _chaos(self) -> bool:
            """Apply a random fault; True when the request was answered by one."""
            with feeds.lock:
                c = dict(feeds.chaos)
                roll = feeds.rand.random()
                garbage = bytes(feeds.rand.getrandbits(8) for _ in range(feeds.rand.randint(10, 3000)))
            if roll < c["fail"]:
                feeds.stats["500"] += 1
                self._send(500, b"internal error", {"Content-Type": "text/plain"})
                return True
            roll -= c["fail"]
            if roll < c["r429"]:
                feeds.stats["429"] += 1
                self._send(429, b"slow down", {"Content-Type": "text/plain", "Retry-After": "1"})
                return True
            roll -= c["r429"]
            if roll < c["garbage"]:
                feeds.stats["garbage"] += 1
                self._send(200, garbage, {"Content-Type": "application/rss+xml"})
                return True
            roll -= c["garbage"]
            if roll < c["stall"]:
                feeds.stats["stall"] += 1
                time.sleep(c["stall_seconds"])
                self.close_connection = True
                return True
            return False

    return Handler


class FeedServer:
    """The feed server in a child process, with the control calls as methods."""

    def __init__(
        self,
        n_feeds: int,
        per_feed: int = 2,
        *,
        keep: int = 10,
        seed: int = 0,
        datasets: tuple[str, ...] = DATASETS,
        labels: tuple[str, ...] = (),
        fmt: str = "rss",
        hosts: int = 1,
    ) -> None:
        self.fmt = fmt
        self.hosts = hosts
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "bench.feedserver",
                "--feeds",
                str(n_feeds),
                "--per-feed",
                str(per_feed),
                "--keep",
                str(keep),
                "--seed",
                str(seed),
                "--datasets",
                ",".join(datasets),
                "--labels",
                ",".join(labels),
                "--format",
                fmt,
                "--hosts",
                str(hosts),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=str(Path(__file__).resolve().parent.parent),
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line.startswith("PORT "):
            self.stop()
            raise RuntimeError(f"feed server did not start: {line!r}")
        self.port = int(line.split()[1])
        self.n_feeds = n_feeds

    def is_weibo(self, k: int) -> bool:
        return self.fmt == "weibo" or self.fmt == "mixed" and k % 2 == 1

    def host(self, k: int) -> str:
        """Feed *k*'s host: one of ``hosts`` loopback addresses (127.0.0.1, 127.0.0.2, …), in turn."""
        return f"127.0.0.{1 + k % self.hosts}"

    def url(self, k: int) -> str:
        if self.is_weibo(k):
            return f"http://{self.host(k)}:{self.port}/weibo/{k}.json"
        return f"http://{self.host(k)}:{self.port}/feed/{k}.xml"

    def _call(self, method: str, path: str) -> Any:
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}{path}", method=method, data=b"" if method == "POST" else None
        )
        with urllib.request.urlopen(request, timeout=60) as reply:
            return json.loads(reply.read())

    def bump(self, count: int, seed: int) -> list[str]:
        return list(self._call("POST", f"/_bump?count={count}&seed={seed}")["guids"])

    def add(self, feeds: list[int]) -> tuple[list[str], float]:
        reply = self._call("POST", "/_add?feeds=" + ",".join(map(str, feeds)))
        return list(reply["guids"]), float(reply["at"])

    def chaos(self, **probabilities: float) -> None:
        self._call("POST", "/_chaos?" + "&".join(f"{k}={v}" for k, v in probabilities.items()))

    def served(self) -> dict[str, float]:
        return {k: float(v) for k, v in self._call("GET", "/_served").items()}

    def stats(self) -> dict[str, int]:
        return dict(self._call("GET", "/_stats"))

    def stop(self) -> None:
        if self.proc.poll() is None:
            assert self.proc.stdin is not None
            self.proc.stdin.close()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024  # a thousand feeds polled at once must not see refused connections


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=10)
    parser.add_argument("--per-feed", type=int, default=2)
    parser.add_argument("--keep", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--datasets", default=",".join(DATASETS))
    parser.add_argument("--labels", default="", help="keep only rows with these labels (comma-separated)")
    parser.add_argument("--format", default="rss", choices=("rss", "weibo", "mixed"))
    parser.add_argument("--hosts", type=int, default=1, help="serve on 127.0.0.1 … 127.0.0.N (one port)")
    args = parser.parse_args()
    feeds = Feeds(
        args.feeds,
        args.per_feed,
        args.keep,
        args.seed,
        tuple(args.datasets.split(",")),
        tuple(x for x in args.labels.split(",") if x),
        args.format,
    )
    handler = make_handler(feeds)
    first = _Server(("127.0.0.1", 0), handler)
    servers = [first] + [_Server((f"127.0.0.{k}", first.server_address[1]), handler)
                         for k in range(2, args.hosts + 1)]  # the same port on each loopback address
    for httpd in servers:
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
    print(f"PORT {first.server_address[1]}", flush=True)
    sys.stdin.read()  # the parent closes our stdin to stop us
    for httpd in servers:
        httpd.shutdown()


if __name__ == "__main__":
    main()
