"""Command start-up: `yuqing deadline`, `yuqing sources list` and `yuqing points` against `python -c pass`.

Each command runs in a fresh interpreter on an empty SQLite store, several times; the figure is the
median wall time and its ratio to a bare interpreter measured in the same run (issue 13: commands
that do not classify start in well under a second). Run alone: ``python -m bench.startup [--runs N]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

COMMANDS = {
    "deadline": ["deadline", "--start", "2026-09-30T10:00+08:00", "--working-days", "7"],
    "sources list": ["sources", "list"],
    "points": ["points"],
    "cases": ["cases"],
}


def _time(argv: list[str], env: dict[str, str], runs: int) -> float:
    """Median wall seconds of *argv* over *runs* fresh processes."""
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(argv, env=env, check=True, capture_output=True)
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "YUQING_DATA_DIR": tmp, "YUQING_SOURCES_FILE": str(Path(tmp) / "sources.yaml"),
               "YUQING_DATABASE_URL": f"sqlite:///{Path(tmp) / 'store.sqlite3'}"}
        yuqing = [sys.executable, "-m", "yuqing.cli"]
        subprocess.run([*yuqing, "init"], env=env, check=True, capture_output=True)
        baseline = _time([sys.executable, "-c", "pass"], env, args.runs)
        print(f"baseline python -c pass: {baseline * 1000:.0f} ms (median of {args.runs})")
        for name, command in COMMANDS.items():
            seconds = _time([*yuqing, *command], env, args.runs)
            print(f"yuqing {name:<14} {seconds * 1000:7.0f} ms   ratio {seconds / baseline:5.1f}× baseline"
                  f"   target < 1 s: {'met' if seconds < 1.0 else 'MISSED'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
