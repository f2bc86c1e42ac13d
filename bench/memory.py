"""Benchmark: peak RSS of the service with 1,000 sources and 1,000,000 stored items.

The store is generated once by bulk inserts (dataset texts cycled, unique ids
and hashes, near-duplicate signatures, times spread over the last year) and
cached as ``var/bench/memory-<items>.sqlite3``. Each run works on a scratch
copy of it: the service in a child process opens the copy, syncs 1,000
loopback feed sources (10 % with a new item), and runs ``yuqing.service.Service`` (console backend, trained
classifiers) until every source was polled once and a responders cycle ran;
then it prints its peak RSS (VmHWM; ``ru_maxrss`` would carry the forking parent's). Baseline for the RATIO, same
run: a bare Python process importing nothing of ours. Target ≤ 400 MB.

Run ``python -m bench.memory [--items 1000000] [--sources 1000] [--regenerate] [--trace]``.
``--trace`` also prints where the memory went: each time the service's RSS rose by
``--trace-step`` MB (default 15), what every thread of ours was running (the profile in
bench/README.md).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import hashlib
import itertools
import json
import random
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

TARGET_MB = 400.0
CATEGORIES = ("教育", "医疗", "环保", "社保", "拆迁", "交通", "市政", "价格", "其他")
STAMP = "%Y-%m-%d %H:%M:%S.%f"


def generate(path: Path, n_items: int, n_sources: int) -> None:
    """Create the schema, then bulk-insert sources and items with plain sqlite3 (fast)."""
    from bench.common import load_records
    from store.database import make_engine, migrate

    tmp = path.with_suffix(".partial")
    tmp.unlink(missing_ok=True)
    engine = make_engine(f"sqlite:///{tmp}")
    migrate(engine)
    engine.dispose()
    records = load_records(20_000)
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    rand = random.Random(1)
    con = sqlite3.connect(tmp)
    con.execute("PRAGMA journal_mode=OFF")
    con.execute("PRAGMA synchronous=OFF")
    created = now.strftime(STAMP)
    con.executemany(
        "INSERT INTO sources (id, name, kind, url, host, weight_class, enabled, config, interval_seconds, "
        "consecutive_failures, items_total, created_at) VALUES (?, ?, 'feed', ?, '127.0.0.1', 'auto', 1, '{}', "
        "900, 0, ?, ?)",
        [(k + 1, f"feed{k}", f"http://127.0.0.1:1/feed/{k}.xml", n_items // n_sources, created)
         for k in range(n_sources)],
    )
    started = time.monotonic()

    def rows() -> itertools.Generator[tuple, None, None]:
        span = 365 * 86400
        for i in range(n_items):
            record = records[i % len(records)]
            when = (now - dt.timedelta(seconds=span * (n_items - i) / n_items)).strftime(STAMP)
            source = i % n_sources + 1
            guid = f"http://feed{source - 1}.bench.example.cn/old/{i}"
            category = rand.choice(CATEGORIES)
            rumour = rand.random()
            yield (source, guid, guid, record.title, record.text, when, when,
                   hashlib.sha256(f"{i}\n{record.text}".encode()).hexdigest(),
                   rand.getrandbits(64) - 2**63, category, json.dumps({category: 0.9}),
                   rumour, "疑似谣言" if rumour > 0.65 else "未见谣言特征", "[]")

    con.executemany(
        "INSERT INTO items (source_id, external_id, url, title, text, published_at, fetched_at, content_hash, "
        "signature, reposts, comments, likes, dislikes, category, category_scores, rumour_probability, "
        "rumour_verdict, why) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 0, 0, 0, ?, ?, ?, ?, ?)", rows())
    con.commit()
    con.close()
    tmp.replace(path)
    print(f"generated {n_items:,} items for {n_sources} sources in {time.monotonic() - started:.0f} s → {path}",
          flush=True)


def peak_rss_mb() -> float:
    """This process's peak RSS: VmHWM (reset by exec, unlike ru_maxrss, which keeps the forking parent's)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bare_rss_mb() -> float:
    """Peak RSS of a bare interpreter that imports nothing of ours."""
    code = "print([l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM:')][0])"
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    return int(out) / 1024


def rss_mb() -> float:
    """This process's current RSS (VmRSS)."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def start_tracer(step_mb: float) -> None:
    """A daemon thread that, each time RSS rose by *step_mb*, prints to stderr the innermost frames of
    our code in every other thread (what was allocating), so the rises can be attributed."""
    root = str(Path(__file__).resolve().parent.parent)
    started = time.monotonic()

    def ours(frame: Any) -> str:
        stack = [f for f in traceback.extract_stack(frame) if f.filename.startswith(root)]
        return " < ".join(f"{Path(f.filename).parent.name}/{Path(f.filename).name}:{f.lineno} {f.name}"
                          for f in reversed(stack[-5:]))

    def watch() -> None:
        last = rss_mb()
        me = threading.get_ident()
        while True:
            time.sleep(0.05)
            now = rss_mb()
            if now - last >= step_mb:
                frames = [ours(f) for tid, f in sys._current_frames().items() if tid != me]
                print(f"+{now - last:.0f} MB → {now:.0f} MB at {time.monotonic() - started:.1f} s: "
                      + " | ".join(f for f in frames if f), file=sys.stderr, flush=True)
                last = now
            elif now < last:  # freed: count the next rise from here
                last = now

    threading.Thread(target=watch, daemon=True, name="rss-tracer").start()


def child(db: Path, tmp: Path, models: Path, n_sources: int, timeout: float) -> None:
    """In the child process: run the service until every source was polled once; print peak RSS."""
    from sqlalchemy import func, select

    from bench.harness import RunningService
    from store.database import make_engine, session_factory, session_scope
    from store.models import Source
    from yuqing.cadence import Cadence
    from yuqing.settings import Settings

    settings = Settings(data_dir=tmp, database_url=f"sqlite:///{db}", sources_file=tmp / "sources.yaml",
                        chat_backend="console", models_dir=models, log_level="ERROR",
                        web_address="127.0.0.1:0")  # the desk on a free port: 8080 may be taken
    started = time.time()
    since = dt.datetime.fromtimestamp(started, dt.UTC)

    async def run() -> int:
        engine = make_engine(settings.effective_database_url)
        sessions = session_factory(engine)
        polled = 0
        async with RunningService(settings, Cadence(cycle_every=5.0, outbox_every=2.0)):
            while time.time() - started < timeout:
                await asyncio.sleep(1.0)
                with session_scope(sessions) as session:
                    polled = session.scalar(select(func.count()).select_from(Source).where(
                        Source.last_polled_at >= since)) or 0
                if polled >= n_sources:
                    await asyncio.sleep(6.0)  # one more responders cycle and outbox round
                    break
        engine.dispose()
        return polled

    polled = asyncio.run(run())
    peak = peak_rss_mb()
    print(json.dumps({"peak_mb": peak, "polled": polled, "seconds": time.time() - started}))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--sources", type=int, default=1000)
    parser.add_argument("--regenerate", action="store_true")
    parser.add_argument("--timeout", type=float, default=240.0)
    parser.add_argument("--trace", action="store_true", help="print what was running at each rise of RSS")
    parser.add_argument("--trace-step", type=float, default=15.0, help="MB of RSS between two trace lines")
    parser.add_argument("--child", nargs=3, metavar=("DB", "TMP", "MODELS"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        if args.trace:
            start_tracer(args.trace_step)
        child(Path(args.child[0]), Path(args.child[1]), Path(args.child[2]), args.sources, args.timeout)
        return 0

    from bench.common import bench_dir, header, models_dir, verdict
    from bench.feedserver import FeedServer
    from bench.harness import write_sources

    header("memory")
    models = models_dir()
    db = bench_dir() / f"memory-{args.items}.sqlite3"
    if args.regenerate or not db.exists():
        generate(db, args.items, args.sources)
    base = bare_rss_mb()
    with FeedServer(args.sources, per_feed=0) as server, tempfile.TemporaryDirectory(dir=bench_dir()) as tmp:
        scratch = Path(tmp) / "store.sqlite3"
        shutil.copyfile(db, scratch)
        server.bump(max(1, args.sources // 10), seed=int(time.time()))
        write_sources(Path(tmp) / "sources.yaml", server, interval="1h",
                      polling={"min_interval": "1m", "max_interval": "1h"})
        trace = ["--trace", "--trace-step", str(args.trace_step)] if args.trace else []
        out = subprocess.run([sys.executable, "-m", "bench.memory", "--sources", str(args.sources),
                              "--timeout", str(args.timeout), *trace, "--child", str(scratch), tmp, str(models)],
                             check=False, capture_output=True, text=True,
                             cwd=str(Path(__file__).resolve().parent.parent))
    if out.returncode != 0:
        print(out.stdout[-2000:], out.stderr[-4000:])
        return 1
    if args.trace:
        print("where RSS rose (innermost frame of ours first, one group per thread):")
        print("\n".join(line for line in out.stderr.splitlines() if " MB at " in line))
    result = json.loads(out.stdout.strip().splitlines()[-1])
    print(f"store: {args.items:,} items, {args.sources} sources ({db.stat().st_size / 2**20:,.0f} MiB file)")
    print(f"service: {result['polled']} of {args.sources} sources polled in {result['seconds']:.0f} s")
    print(f"peak RSS, service:     {result['peak_mb']:7.1f} MB")
    print(f"peak RSS, bare Python: {base:7.1f} MB")
    print(f"RATIO service/bare: {result['peak_mb'] / base:.1f}")
    met = verdict("peak RSS MB", result["peak_mb"], TARGET_MB, at_most=True)
    if result["polled"] < args.sources:
        print("not every source was polled before the timeout: the figure is a lower bound")
    del met  # a missed target is a figure to report, not a failure of the benchmark
    return 0


if __name__ == "__main__":
    sys.exit(main())
