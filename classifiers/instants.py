"""Instants as whole microseconds since the epoch, for summaries carried between batches.

A running summary stored as JSON must read back the very instants it was given: integers do,
floats of seconds lose the last microseconds. A difference of two of these integers divided by
10**6 is the float ``timedelta.total_seconds()`` gives, so sums over them equal sums over datetimes.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Final

ONE: Final = dt.timedelta(microseconds=1)
PER_SECOND: Final = 10**6
_EPOCH: Final = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_NAIVE_EPOCH: Final = dt.datetime(1970, 1, 1)


def micros(when: dt.datetime) -> int:
    """Microseconds since the epoch (a naive time is read as UTC, as a naive epoch would)."""
    return (when - (_NAIVE_EPOCH if when.tzinfo is None else _EPOCH)) // ONE


def span(duration: dt.timedelta) -> int:
    """A duration in whole microseconds."""
    return duration // ONE


def stored_int(value: Any) -> int:
    """An instant (or a count) read back from stored JSON: an integer, and neither a bool nor a float."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{value!r} is not an integer")
    return value
