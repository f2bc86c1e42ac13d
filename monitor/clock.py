"""The injectable clock: every time-dependent decision takes ``now`` from here, never the wall."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from store.types import utcnow

Clock = Callable[[], dt.datetime]

system_clock: Clock = utcnow


class FrozenClock:
    """A clock for tests and replays: returns a set time until moved."""

    def __init__(self, now: dt.datetime) -> None:
        if now.tzinfo is None:
            raise ValueError("FrozenClock needs a timezone-aware time")
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, delta: dt.timedelta) -> None:
        self.now = self.now + delta
