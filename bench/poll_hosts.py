"""Benchmark: ``yuqing poll --once`` over a few hundred feeds on tens of hosts, against the politeness floor.

The feeds are served by :mod:`bench.feedserver` on 40 loopback addresses (127.0.0.1 … 127.0.0.40, so the
poller sees 40 hosts) and polled by the real command in a child process, with the sources file's default
per-host rules (``per_host_min_delay`` 1 s between requests to a host, ``per_host_concurrency`` 2). A host
with k feeds cannot be polled in less than (k − 1) × the delay, so a cycle cannot end before
FLOOR = (⌈feeds / hosts⌉ − 1) × delay. Two runs: the first load (every item new: classified, clustered,
stored) and a second poll after 10 % of the feeds changed (the rest answer 304). The command's start
(imports, models) is inside the time; ``python -c pass`` is printed beside it. RATIO = seconds / FLOOR;
target: about the floor (≤ 1.5). Not a test.

Run ``python -m bench.poll_hosts [--feeds 240] [--hosts 40]``.
"""

from __future__ import annotations

import argparse
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import yaml

from bench.common import header, models_dir, verdict
from bench.feedserver import FeedServer

TARGET = 1.5
DELAY = 1.0  # the sources file's default per_host_min_delay (monitor.config.FetchSection)


def yuqing(env: dict[str, str], *args: str) -> tuple[float, str]:
    """Run ``yuqing ARGS`` in a child process; (seconds, its output)."""
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "yuqing.cli", *args], env=env, capture_output=True, text=True,
                          check=False)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"yuqing {' '.join(args)} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return elapsed, done.stdout


def statuses(output: str) -> str:
    """Counts of the status column of ``yuqing poll``'s table, and the new items."""
    counts: dict[str, int] = {}
    new = 0
    for line in output.splitlines()[1:]:
        fields = line.split()
        if len(fields) >= 3 and fields[2].isdigit():
            counts[fields[1]] = counts.get(fields[1], 0) + 1
            new += int(fields[2])
    return ", ".join(f"{n} {status}" for status, n in sorted(counts.items())) + f"; {new} new items"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=240)
    parser.add_argument("--hosts", type=int, default=40)
    parser.add_argument("--per-feed", type=int, default=2, help="items in each feed at the start")
    args = parser.parse_args(argv)
    header("poll --once over many hosts")
    floor = (math.ceil(args.feeds / args.hosts) - 1) * DELAY
    root = Path(__file__).resolve().parent.parent
    with FeedServer(args.feeds, args.per_feed, hosts=args.hosts) as server, tempfile.TemporaryDirectory() as tmp:
        sources = Path(tmp) / "sources.yaml"
        sources.write_text(yaml.safe_dump({"sources": [
            {"name": f"feed{k}", "kind": "feed", "url": server.url(k)} for k in range(args.feeds)]}))
        env = {**os.environ, "YUQING_DATA_DIR": tmp, "YUQING_SOURCES_FILE": str(sources),
               "YUQING_DATABASE_URL": f"sqlite:///{tmp}/yuqing.sqlite3", "YUQING_MODELS_DIR": str(models_dir()),
               "PYTHONPATH": str(root)}
        yuqing(env, "init")
        bare = min(yuqing(env, "--help")[0] for _ in range(2))
        first, output = yuqing(env, "poll", "--once")
        print(f"first load: {first:.2f} s ({statuses(output)})", flush=True)
        server.bump(max(1, args.feeds // 10), seed=7)
        again, output = yuqing(env, "poll", "--once")
        print(f"second poll, 10 % changed: {again:.2f} s ({statuses(output)})", flush=True)
    print(f"feeds: {args.feeds} on {args.hosts} hosts, per_host_min_delay {DELAY:g} s: FLOOR {floor:.1f} s; "
          f"`yuqing --help` (start-up alone) {bare:.2f} s")
    print(f"RATIO first load / floor: {first / floor:.3f}")
    print(f"RATIO second poll / floor: {again / floor:.3f}")
    verdict("poll --once / politeness floor (first load)", first / floor, TARGET, at_most=True)
    verdict("poll --once / politeness floor (second poll)", again / floor, TARGET, at_most=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
