"""Scaling with workers (issue 14): ``yuqing scheduler`` and 1, 2 and 4 ``yuqing worker`` processes fill a
PostgreSQL store from loopback feeds through Redis; the baseline is one process's poll cycle (the poller
``yuqing run`` runs) over the same feeds, measured in the same run.

    python -m bench.scale [--feeds 200] [--per-feed 2] [--workers 1,2,4]

Each run gets a fresh database; it is timed from the moment the scheduler is active (the workers are
up already) to the moment every source's first poll has been stored (its ``last_polled_at`` written).
The workers' own logs give each task's time, from which the per-worker cost of a poll and of an item is
read; with those figures the script predicts the workers 100,000 sources need (assumptions printed).
Needs PostgreSQL (``YUQING_BENCH_POSTGRES_URL``, else ``YUQING_TEST_POSTGRES_URL``) and Redis
(``YUQING_BENCH_REDIS_URL``, default redis://127.0.0.1:6379/14).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import yaml
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from bench.common import header, machine, models_dir
from bench.feedserver import FeedServer

ROOT = Path(__file__).resolve().parent.parent
TASK_TIME = re.compile(r"Task (yuqing\.\w+)\[[^]]+\] succeeded in ([0-9.]+)s")


@dataclass
class Run:
    workers: int
    items: int
    seconds: float
    task_seconds: dict[str, list[float]]

    @property
    def per_second(self) -> float:
        return self.items / self.seconds


def _database(admin_url: str) -> str:
    url = make_url(admin_url.replace("postgresql://", "postgresql+psycopg://", 1))
    name = f"yuqing_scale_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


def _drop(database_url: str) -> None:
    url = make_url(database_url)
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))
    admin.dispose()


def _counts(database_url: str) -> tuple[int, int, int]:
    """(items stored, sources polled at least once, sources)."""
    from store.models import Item, Source

    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            items = conn.scalar(select(func.count()).select_from(Item)) or 0
            polled = conn.scalar(select(func.count()).where(Source.last_polled_at.is_not(None))) or 0
            sources = conn.scalar(select(func.count()).select_from(Source)) or 0
    finally:
        engine.dispose()
    return items, polled, sources


def _cli(env: dict[str, str], log: Path, *args: str) -> subprocess.Popen[bytes]:
    with open(log, "wb") as out:
        return subprocess.Popen([sys.executable, "-m", "yuqing.cli", *args], env=env, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True, cwd=ROOT)


def _wait(what: str, check: object, deadline: float) -> None:
    end = time.monotonic() + deadline
    while not check():  # type: ignore[operator]
        if time.monotonic() > end:
            raise SystemExit(f"bench.scale: gave up waiting for {what}")
        time.sleep(0.2)


def _stop(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
    for process in processes:
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def run_cluster(workers: int, base_env: dict[str, str], admin_url: str, folder: Path) -> Run:
    database_url = _database(admin_url)
    env = {**base_env, "YUQING_DATABASE_URL": database_url}
    logs = [folder / f"w{workers}-{k}.log" for k in range(workers)]
    processes: list[subprocess.Popen[bytes]] = []
    try:
        subprocess.run([sys.executable, "-m", "yuqing.cli", "init"], env=env, cwd=ROOT, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        processes += [_cli(env, log, "worker", "--name", f"w{k}@bench") for k, log in enumerate(logs)]
        _wait("the workers", lambda: all("ready." in log.read_text(errors="replace") for log in logs), 120)
        scheduler_log = folder / f"s{workers}.log"
        processes.append(_cli(env, scheduler_log, "scheduler", "--tick", "0.5", "--cycle-every", "30"))
        _wait("the scheduler", lambda: "scheduler: active" in scheduler_log.read_text(errors="replace"), 120)
        started = time.monotonic()

        def done() -> bool:
            _items, polled, sources = _counts(database_url)
            return sources > 0 and polled == sources

        _wait("every source's first poll", done, 3600)
        seconds = time.monotonic() - started
        items = _counts(database_url)[0]
    finally:
        _stop(processes)
        _drop(database_url)
    times: dict[str, list[float]] = {}
    for log in logs:
        for task, spent in TASK_TIME.findall(log.read_text(errors="replace")):
            times.setdefault(task, []).append(float(spent))
    return Run(workers, items, seconds, times)


def run_one_process(base_env: dict[str, str], admin_url: str) -> Run:
    """The baseline: one process's poll cycle over every feed (the same pipeline, no broker, no lock hand-over)."""
    database_url = _database(admin_url)
    saved = dict(os.environ)
    os.environ.update({**base_env, "YUQING_DATABASE_URL": database_url})
    try:
        from playbooks.loader import load_playbook
        from yuqing.assembly import monitor_for
        from yuqing.settings import load_settings

        monitor = monitor_for(load_settings(), load_playbook())
        monitor.poller.sync()

        async def cycle() -> float:
            try:
                started = time.monotonic()
                await monitor.poller.poll_cycle()
                return time.monotonic() - started
            finally:
                await monitor.aclose()

        seconds = asyncio.run(cycle())
        items = _counts(database_url)[0]
    finally:
        os.environ.clear()
        os.environ.update(saved)
        _drop(database_url)
    return Run(0, items, seconds, {})


def _mean(values: list[float]) -> float:
    return statistics.fmean(values) if values else 0.0


def predict(run: Run, sources: int, items_per_day: float, interval_minutes: float) -> None:
    """Workers for *sources* from one worker's measured cost of a poll and of storing an item."""
    poll = _mean(run.task_seconds.get("yuqing.poll", []))
    pages = run.task_seconds.get("yuqing.store_page", [])
    per_item = sum(pages) / run.items if run.items else 0.0
    polls_per_second = sources / (interval_minutes * 60)
    items_per_second = sources * items_per_day / 86_400
    busy_poll = polls_per_second * poll
    busy_pipeline = items_per_second * per_item
    print(f"\nprediction for {sources:,} sources, {items_per_day:g} new items per source per day, "
          f"each polled every {interval_minutes:g} minutes:")
    print(f"  {polls_per_second:.0f} polls/s x {poll * 1000:.0f} ms per poll task = {busy_poll:.1f} worker-seconds/s "
          "(a poll of a changed feed; an unchanged one, a 304, costs less: this is the upper figure)")
    print(f"  {items_per_second:.1f} new items/s x {per_item * 1000:.1f} ms per stored item = "
          f"{busy_pipeline:.2f} worker-seconds/s on the pipeline queue (one batch at a time across the cluster: "
          f"{'fits' if busy_pipeline < 0.7 else 'DOES NOT fit'} in one pipeline worker at 70% busy)")
    print(f"  => about {max(1, round((busy_poll + busy_pipeline) / 0.7 + 0.49))} worker processes at 70% busy "
          f"(at least {max(1, round(busy_poll / 0.7 + 0.49))} on poll, 1 on pipeline)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=200,
                        help="loopback feeds (200 keep make bench to minutes here; 2,000 take half an hour)")
    parser.add_argument("--per-feed", type=int, default=2)
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--sources", type=int, default=100_000, help="the office size to predict for")
    parser.add_argument("--items-per-day", type=float, default=5.0, help="new items per source per day")
    parser.add_argument("--interval", type=float, default=15.0, help="minutes between polls of a source")
    args = parser.parse_args(argv)
    admin_url = os.environ.get("YUQING_BENCH_POSTGRES_URL") or os.environ.get("YUQING_TEST_POSTGRES_URL")
    if not admin_url:
        print("bench.scale: set YUQING_BENCH_POSTGRES_URL (or YUQING_TEST_POSTGRES_URL) to a PostgreSQL server")
        return 1
    broker = os.environ.get("YUQING_BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
    header(f"bench.scale: {args.feeds} loopback feeds x {args.per_feed} items, workers {args.workers} ({machine()})")
    counts = [int(n) for n in args.workers.split(",") if n]
    models = models_dir()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        runs: list[Run] = []
        for n in [0, *counts]:
            import redis

            redis.Redis.from_url(broker).flushdb()
            server = FeedServer(args.feeds, args.per_feed, seed=1)  # the same items every run
            try:
                sources = {"fetch": {"per_host_min_delay": 0, "per_host_concurrency": 32},
                           "sources": [{"name": f"feed{k}", "kind": "feed", "url": server.url(k)}
                                       for k in range(args.feeds)]}
                (folder / "sources.yaml").write_text(yaml.safe_dump(sources), encoding="utf-8")
                env = {**os.environ, "PYTHONPATH": str(ROOT), "YUQING_SOURCES_FILE": str(folder / "sources.yaml"),
                       "YUQING_DATA_DIR": str(folder), "YUQING_MODELS_DIR": str(models), "YUQING_BROKER_URL": broker,
                       "YUQING_DUTY_CHAT_ID": "-100", "YUQING_LOG_LEVEL": "INFO"}
                run = run_one_process(env, admin_url) if n == 0 else run_cluster(n, env, admin_url, folder)
            finally:
                server.stop()
            runs.append(run)
            label = "one process (poll cycle)" if n == 0 else f"{n} worker(s)"
            print(f"{label:>26}: {run.items} items in {run.seconds:6.1f} s = {run.per_second:6.1f} items/s"
                  + ("" if n == 0 else f", {run.per_second / n:5.1f} per worker, "
                     f"{run.per_second / runs[0].per_second:.2f}x the one process"), flush=True)
    cluster = [r for r in runs if r.workers]
    best = max(cluster, key=lambda r: r.per_second)
    print(f"\nsaturation: the most items/s came with {best.workers} worker(s) on this machine "
          f"({os.cpu_count()} cores); more workers than cores only share them")
    predict(cluster[0], args.sources, args.items_per_day, args.interval)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
