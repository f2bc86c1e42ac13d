"""Pure scheduling decisions: when to poll next, how long to back off.

Nothing here reads a clock, the network or the database: every function takes
the facts (``now``, counts, times) and returns a value, so the policy can be
tested exhaustively and replayed. The shell (``monitor.poll``) does the I/O.
"""

from __future__ import annotations

import datetime as dt
import itertools
import statistics
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class PollPolicy:
    """Bounds of a source's polling rhythm (from the sources file)."""

    min_interval: dt.timedelta = dt.timedelta(minutes=5)
    max_interval: dt.timedelta = dt.timedelta(hours=6)
    backoff_base: dt.timedelta = dt.timedelta(minutes=1)
    backoff_cap: dt.timedelta = dt.timedelta(hours=6)
    jitter: float = 0.2

    def __post_init__(self) -> None:
        if self.min_interval <= dt.timedelta(0):
            raise ValueError("the minimum poll interval must be positive")
        if self.max_interval < self.min_interval:
            raise ValueError("the maximum poll interval must not be below the minimum")
        if not 0 <= self.jitter < 1:
            raise ValueError("jitter must be a fraction between 0 and 1")


def clamp(value: dt.timedelta, low: dt.timedelta, high: dt.timedelta) -> dt.timedelta:
    return max(low, min(high, value))


def adaptive_interval(
    current: dt.timedelta,
    published: Sequence[dt.datetime],
    new_items: int,
    policy: PollPolicy,
) -> dt.timedelta:
    """Poll about twice per typical gap between the source's real posts.

    *published* are recent publication times (any order). With fewer than two,
    a poll that found nothing new stretches the interval by half, one that
    found something shrinks it by half; always within [min, max].
    """
    times = sorted(t for t in published if t is not None)
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(times) if b > a]
    if len(gaps) >= 2:
        target = dt.timedelta(seconds=statistics.median(gaps) / 2)
    elif new_items:
        target = current / 2
    else:
        target = current * 1.5
    return clamp(target, policy.min_interval, policy.max_interval)


def backoff_delay(failures: int, policy: PollPolicy, rand: float) -> dt.timedelta:
    """Exponential backoff after *failures* consecutive errors, jittered, capped.

    *rand* in [0, 1) is passed in (not drawn here) so the decision stays pure.
    There is no give-up: the cap is the longest a broken source waits.
    """
    if failures <= 0:
        return dt.timedelta(0)
    exponent = min(failures - 1, 30)
    raw = policy.backoff_base * (2**exponent)
    capped = min(raw, policy.backoff_cap)
    spread = 1 + policy.jitter * (2 * rand - 1)
    wait: dt.timedelta = min(capped * spread, policy.backoff_cap)
    return wait


def next_poll_after_success(
    now: dt.datetime, current: dt.timedelta, published: Sequence[dt.datetime], new_items: int, policy: PollPolicy
) -> tuple[dt.datetime, dt.timedelta]:
    """(next poll time, new interval) after a successful poll."""
    interval = adaptive_interval(current, published, new_items, policy)
    return now + interval, interval


def next_poll_after_error(
    now: dt.datetime, source_failures: int, host_failures: int, policy: PollPolicy, rand: float
) -> dt.datetime:
    """Next poll time after an error: the host's failure count wins when it is worse.

    Several sources on one failing host back off together, so we never hammer
    a server that is already down through its other feeds.
    """
    return now + backoff_delay(max(source_failures, host_failures), policy, rand)


def is_due(next_poll_at: dt.datetime | None, now: dt.datetime) -> bool:
    return next_poll_at is None or next_poll_at <= now
