"""Benchmark: items per second through parse → normalise → dedupe → classify → cluster → store.

N dataset messages are served as M RSS feeds on a loopback HTTP server; one
poll cycle ingests them into a fresh SQLite file. In the same run feedparser
alone parses the same bytes, and the ratio of the two rates is printed: it
holds across machines when the absolute numbers do not. Not a test.

Run ``python -m bench.bench_ingest [--items N] [--feeds M]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import threading
import time
from email.utils import format_datetime
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import feedparser

from monitor.config import parse_sources
from monitor.items import parse_time
from monitor.wiring import build_monitor
from playbooks.loader import load_playbook
from yuqing.settings import load_settings


def feeds(n_items: int, n_feeds: int) -> list[bytes]:
    path = load_settings().datasets_dir / "gov-messages-hot" / "train.jsonl"
    with path.open(encoding="utf-8") as handle:
        rows = [json.loads(line) for _, line in zip(range(n_items), handle, strict=False)]
    out = []
    for k in range(n_feeds):
        part = rows[k::n_feeds]
        items = "".join(
            f"<item><title>{escape(r['title'])}</title><link>http://site{k}.example.cn/{r['id']}</link>"
            f"<guid>http://site{k}.example.cn/{r['id']}</guid>"
            f"<pubDate>{format_datetime(parse_time(r['time']))}</pubDate>"
            f"<description>{escape(r['text'])}</description></item>" for r in part)
        out.append(f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>f{k}</title>'
                   f"{items}</channel></rss>".encode())
    return out


def serve(bodies: list[bytes]) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_a: object) -> None:
            pass

        def do_GET(self) -> None:
            body = bodies[int(self.path.strip("/").removesuffix(".xml"))]
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--feeds", type=int, default=4)
    args = parser.parse_args()
    bodies = feeds(args.items, args.feeds)
    httpd = serve(bodies)
    port = httpd.server_address[1]
    sources = [{"name": f"f{k}", "kind": "feed", "url": f"http://127.0.0.1:{port}/{k}.xml"} for k in range(args.feeds)]
    config = parse_sources({"fetch": {"per_host_min_delay": 0}, "sources": sources}, {}, "bench")
    with tempfile.TemporaryDirectory() as tmp:
        monitor = build_monitor(f"sqlite:///{tmp}/bench.sqlite3", config, load_playbook(),
                                models_dir=load_settings().models_dir)
        annotated = monitor.pipeline.annotator is not None
        started = time.perf_counter()
        results = asyncio.run(monitor.poller.poll_cycle())
        ingest = time.perf_counter() - started
        asyncio.run(monitor.aclose())
    httpd.shutdown()
    stored = sum(r.new for r in results)
    started = time.perf_counter()
    parsed = sum(len(feedparser.parse(body).entries) for body in bodies)
    parse_only = time.perf_counter() - started
    print(f"items: {stored} stored of {parsed} parsed, from {args.feeds} loopback feeds "
          f"(classifier models {'loaded' if annotated else 'MISSING: classify step skipped'})")
    print(f"full pipeline: {stored / ingest:,.0f} items/s ({ingest:.2f} s)")
    print(f"feedparser alone: {parsed / parse_only:,.0f} items/s ({parse_only:.2f} s)")
    print(f"ratio pipeline/feedparser: {(stored / ingest) / (parsed / parse_only):.3f}")


if __name__ == "__main__":
    main()
