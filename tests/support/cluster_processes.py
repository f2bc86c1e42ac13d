"""yuqing's cluster commands as real subprocesses (each in its own process group, so a SIGKILL takes a
worker's pool with it, as when a machine dies), their output kept in files for a failing test to show."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from celery import Celery

T = TypeVar("T")
ROOT = Path(__file__).resolve().parents[2]


def sender(url: str) -> Celery:
    """A Celery app of its own for the broker at *url*, configured as yuqing's: the module's app keeps the
    first broker's connection pool, and one test process talks to both brokers."""
    from yuqing import tasks
    from yuqing.settings import Settings

    app = Celery("yuqing-test", set_as_current=False)
    app.conf.update(tasks.celery_config(Settings(broker_url=url)))
    return app


class Processes:
    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.env = {**os.environ, **env, "PYTHONPATH": str(ROOT)}
        self.logs = logs
        self.running: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, name: str, *args: str) -> subprocess.Popen[bytes]:
        out = open(self.logs / f"{name}.log", "wb")  # noqa: SIM115 - the child writes it until it ends
        process = subprocess.Popen([sys.executable, "-m", "yuqing.cli", *args], env=self.env, stdout=out,
                                   stderr=subprocess.STDOUT, start_new_session=True, cwd=ROOT)
        out.close()
        self.running[name] = process
        return process

    def kill(self, name: str, signo: int = signal.SIGKILL) -> None:
        """Send *signo* to the process and every child of it (a worker's pool)."""
        process = self.running[name]
        try:
            os.killpg(process.pid, signo)
        except ProcessLookupError:
            pass
        if signo == signal.SIGKILL:
            process.wait(10)

    def output(self, name: str) -> str:
        return (self.logs / f"{name}.log").read_text(encoding="utf-8", errors="replace")

    def tails(self) -> str:
        return "\n".join(f"--- {name}:\n{self.output(name)[-3000:]}" for name in self.running)

    def wait_for(self, what: str, check: Callable[[], T | None], deadline: float = 60.0) -> T:
        """Poll *check* until it gives a value; fail naming *what*, with the processes' output, at *deadline*."""
        end = time.monotonic() + deadline
        while True:
            value = check()
            if value:
                return value
            if time.monotonic() > end:
                raise AssertionError(f"gave up waiting for {what}\n{self.tails()}")
            time.sleep(0.2)

    def stop_all(self) -> None:
        for name, process in self.running.items():
            if process.poll() is None:
                self.kill(name, signal.SIGTERM)
        for name, process in self.running.items():
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                self.kill(name, signal.SIGKILL)
