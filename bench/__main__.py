"""``python -m bench`` (``make bench``): every benchmark in sequence, each in its own process.

Extra arguments are passed to none of them; run one alone for options
(``python -m bench.poll_cycle --help``). ``--only NAME[,NAME]`` picks some.
Exits non-zero when a benchmark fails to run or the soak finds a violation;
a missed target is a figure, not a failure.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

BENCHMARKS = ("startup", "bench_classify", "ingest", "event_heat", "poll_cycle", "poll_hosts", "alert_latency",
              "memory", "soak", "desk_pages", "scale")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="", help=f"comma-separated subset of {', '.join(BENCHMARKS)}")
    args = parser.parse_args(argv)
    names = [n for n in args.only.split(",") if n] or list(BENCHMARKS)
    unknown = set(names) - set(BENCHMARKS)
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    root = Path(__file__).resolve().parent.parent
    failed: list[str] = []
    for name in names:
        started = time.monotonic()
        print(f"\n### bench.{name}", flush=True)
        code = subprocess.run([sys.executable, "-m", f"bench.{name}"], cwd=root, check=False).returncode
        print(f"### bench.{name}: exit {code}, {time.monotonic() - started:.0f} s", flush=True)
        if code:
            failed.append(name)
    if failed:
        print(f"\nfailed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
