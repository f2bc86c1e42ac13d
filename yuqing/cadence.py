"""How often the service's rounds run (operational tuning, not policy), in one place for the one-process
service and the cluster's scheduler, so a routing window or a report round means the same in both."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class RoundCadence:
    """The rounds every deployment runs: the responders cycle, health checks and due reports."""

    cycle_every: float = 30.0
    health_every: float = 300.0
    report_every: float = 600.0
    first_lookback: dt.timedelta = dt.timedelta(days=1)  # events re-examined after a start
    # Each cycle looks back this far: an item is stamped when its poll starts but becomes visible when
    # the poll's transaction commits, which classifying a large batch can delay by minutes.
    routing_overlap: dt.timedelta = dt.timedelta(minutes=10)


@dataclass(frozen=True)
class Cadence(RoundCadence):
    """``yuqing run``: the rounds, plus the outbox it drains itself."""

    outbox_every: float = 2.0
    shutdown_grace: float = 30.0  # seconds a poll in progress may take to finish at shutdown


@dataclass(frozen=True)
class SchedulerCadence(RoundCadence):
    """``yuqing scheduler``: the rounds it enqueues, how often it looks for due sources, and how often a
    standing-by scheduler tries the lock."""

    tick: float = 5.0
    standby_every: float = 5.0
